"""Fuzzing the reader and the normaliser: whatever the bytes, only ReadError may escape.

Minimal failing inputs that hypothesis found are kept below as explicit regression tests.
"""

from __future__ import annotations

import io
import itertools
import zipfile
from datetime import date, datetime, time

import openpyxl
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from coop_audit import geo
from coop_audit.registry.normalize import VALUE_KEYS, normalize_row
from coop_audit.registry.reader import HEADER_SYNONYMS, RawRow, ReadError, read_table

TODAY = date(2026, 6, 1)
REGIONS = geo.regions()
FUZZ = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True
)
FIELDS = [f for f in HEADER_SYNONYMS if f != "no"]


def consume(data: bytes, filename: str) -> int:
    """Read and normalise up to 50 rows; return how many rows came out (ReadError -> -1)."""
    try:
        table = read_table(data, filename)
        count = 0
        for raw in itertools.islice(table.rows(), 50):
            parsed = normalize_row(raw, REGIONS, TODAY)
            assert set(parsed.values) == set(VALUE_KEYS)
            assert all(m.level in {"error", "warning"} for m in parsed.messages)
            count += 1
        return count
    except ReadError as exc:
        assert exc.message
        return -1


def small_xlsx() -> bytes:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["DATA KOPERASI"])
    ws.append(["No", "Nama Koperasi", "Jenis", "Tgl BH", "NIK", "Kec.", "Desa", "Lat", "Long"])
    ws.append([1, "KSP A", "KSP", datetime(2001, 2, 3), "3313", "Jaten", "Ngringo", -7.56, 110.87])  # noqa: DTZ001
    ws.append([2, "KSP B", "Jasa", 36000, 3313, "KEC. JATEN", "Jaten", "-7,57", "110,86"])
    ws.merge_cells("A1:I1")
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


XLSX = small_xlsx()
with zipfile.ZipFile(io.BytesIO(XLSX)) as _zf:
    XLSX_PARTS = {name: _zf.read(name) for name in _zf.namelist()}


def rezip(parts: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, content in parts.items():
            zf.writestr(name, content)
    return buf.getvalue()


# ---------------------------------------------------------------------------- fuzz


@FUZZ
@given(data=st.binary(max_size=2000), filename=st.sampled_from(["x.csv", "x.xlsx", "x.xls", ""]))
def test_random_bytes_only_ever_raise_read_error(data, filename):
    consume(data, filename)


@FUZZ
@given(data=st.binary(max_size=300))
def test_random_bytes_behind_spreadsheet_magic_only_ever_raise_read_error(data):
    consume(b"PK\x03\x04" + data, "x.xlsx")
    consume(b"\xef\xbb\xbf" + data, "x.csv")


CELL_TEXT = st.one_of(
    st.text(alphabet=list("aZ09 .,;/-:+E'\"\t\n\r\u2019\u00a0é"), max_size=20),
    st.sampled_from(["Jaten", "KEC. JATEN ", "Ngringo", "-7,56", "110,87", "13/25/2001", "1.163"]),
)


@FUZZ
@given(
    headers=st.lists(st.sampled_from(FIELDS), min_size=1, max_size=8, unique=True),
    rows=st.lists(st.lists(CELL_TEXT, max_size=10), max_size=8),
    delimiter=st.sampled_from([";", ",", "\t"]),
    encoding=st.sampled_from(["utf-8", "utf-8-sig", "cp1252", "utf-16"]),
)
def test_random_csv_text_only_ever_raises_read_error(headers, rows, delimiter, encoding):
    names = ["Nama Koperasi"] + [HEADER_SYNONYMS[f][0] for f in headers if f != "name"]
    lines = [delimiter.join(names)] + [delimiter.join(r) for r in rows]
    text = "\r\n".join(lines)
    consume(text.encode(encoding, errors="replace"), "x.csv")


@FUZZ
@given(
    edits=st.lists(
        st.tuples(st.integers(min_value=0, max_value=len(XLSX) - 1), st.integers(0, 255)),
        min_size=1,
        max_size=8,
    ),
    cut=st.one_of(st.none(), st.integers(min_value=0, max_value=len(XLSX))),
)
def test_mutated_xlsx_bytes_only_ever_raise_read_error(edits, cut):
    data = bytearray(XLSX)
    for position, value in edits:
        data[position] = value
    consume(bytes(data[:cut] if cut is not None else data), "x.xlsx")


@FUZZ
@given(
    part=st.sampled_from(sorted(XLSX_PARTS)),
    start=st.integers(min_value=0, max_value=3000),
    junk=st.binary(max_size=40) | st.sampled_from([b"<", b">", b'"', b"&", b"</", b"<c r=", b""]),
    drop=st.integers(min_value=0, max_value=40),
)
def test_xlsx_with_mutated_xml_parts_only_ever_raises_read_error(part, start, junk, drop):
    parts = dict(XLSX_PARTS)
    content = parts[part]
    start = min(start, len(content))
    parts[part] = content[:start] + junk + content[start + drop :]
    consume(rezip(parts), "x.xlsx")


CELL_VALUES = st.one_of(
    st.none(),
    CELL_TEXT,
    st.text(max_size=30),
    st.integers(min_value=-(10**20), max_value=10**20),
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
    st.dates(),
    st.datetimes(),
    st.times(),
)


@settings(max_examples=400, deadline=None, derandomize=True)
@given(cells=st.dictionaries(st.sampled_from(FIELDS), CELL_VALUES, max_size=len(FIELDS)))
def test_any_cell_values_are_normalised_without_crashing(cells):
    parsed = normalize_row(RawRow(row_number=2, cells=cells, original=[]), REGIONS, TODAY)
    assert set(parsed.values) == set(VALUE_KEYS)
    if not parsed.values["name"]:
        assert parsed.rejected


# ---------------------------------------------------------------------------- regressions


def test_csv_that_decodes_but_is_only_a_delimiter_is_refused():
    assert consume(b";", "x.csv") == -1


def test_zip_with_content_types_but_no_workbook_is_refused():
    parts = {"[Content_Types].xml": b"<Types/>", "xl/x.xml": b"<a/>"}
    assert consume(rezip(parts), "x.xlsx") == -1


def test_sheet_xml_cut_in_the_middle_is_refused_while_streaming():
    parts = dict(XLSX_PARTS)
    sheet = parts["xl/worksheets/sheet1.xml"]
    parts["xl/worksheets/sheet1.xml"] = sheet[: sheet.index(b"KSP B") if b"KSP B" in sheet else -40]
    assert consume(rezip(parts), "x.xlsx") in {-1, 1, 2}


def test_extreme_cell_values_do_not_crash_the_normaliser():
    cells = {
        "name": "A",
        "bh_date": float("inf"),
        "last_rat_year": float("nan"),
        "member_count": 10**30,
        "rt": float("-inf"),
        "lat": 1e308,
        "lng": -1e308,
        "chair_phone": float("nan"),
        "kbli": float("inf"),
        "nik": True,
        "desa": time(1, 2),
        "kecamatan": datetime(2020, 1, 1),  # noqa: DTZ001
    }
    parsed = normalize_row(RawRow(row_number=2, cells=cells, original=[]), REGIONS, TODAY)
    assert parsed.rejected


def test_the_untouched_fuzz_workbook_reads_both_rows():
    assert consume(XLSX, "x.xlsx") == 2


SHEET_EDITS = [
    (b'<row r="3">', b'<row r="99999999999">'),
    (b'<row r="4">', b'<row r="1048577">'),
    (b'<row r="3">', b'<row r="0">'),
    (b'<row r="3">', b"<row>"),
    (b't="n"', b't="d"'),
    (b't="n"', b't="s"'),
    (b't="n"', b't="e"'),
    (b"<v>36000</v>", b"<v>1e400</v>"),
    (b"<v>36000</v>", b"<v>nan</v>"),
    (b'r="A3"', b'r="XFD3"'),
    (b'r="A3"', b'r="ZZZZ3"'),
    (b'r="A3"', b'r="A-1"'),
]


@FUZZ
@given(edits=st.lists(st.sampled_from(SHEET_EDITS), min_size=1, max_size=4))
def test_xlsx_with_odd_but_well_formed_sheet_xml_only_ever_raises_read_error(edits):
    sheet = XLSX_PARTS["xl/worksheets/sheet1.xml"]
    for old, new in edits:
        sheet = sheet.replace(old, new, 1)
    consume(rezip({**XLSX_PARTS, "xl/worksheets/sheet1.xml": sheet}), "x.xlsx")


def test_a_row_number_far_beyond_excel_is_refused_at_once_not_after_filling_the_gap():
    # Found while fuzzing: openpyxl's iter_rows yields every missing row up to r=99999999999,
    # so reading never ended. The reader now walks only the rows present in the XML.
    sheet = XLSX_PARTS["xl/worksheets/sheet1.xml"].replace(b'<row r="4">', b'<row r="99999999999">')
    table = read_table(rezip({**XLSX_PARTS, "xl/worksheets/sheet1.xml": sheet}), "x.xlsx")
    stream = table.rows()
    assert next(stream).row_number == 3
    try:
        next(stream)
    except ReadError as exc:
        assert "damaged" in exc.message
    else:
        raise AssertionError("the row beyond Excel's last row was accepted")


def test_a_cell_beyond_the_column_limit_is_dropped_not_allocated():
    sheet = XLSX_PARTS["xl/worksheets/sheet1.xml"].replace(b'r="I3"', b'r="XFD3"')
    table = read_table(rezip({**XLSX_PARTS, "xl/worksheets/sheet1.xml": sheet}), "x.xlsx")
    first = next(table.rows())
    assert len(first.original) == 8
    assert first.cells["lng"] is None
