"""Reading register files: formats, encodings, header detection and refusals."""

from __future__ import annotations

import io
import zipfile
from datetime import datetime
from pathlib import Path

import openpyxl
import pytest

from coop_audit.registry import reader
from coop_audit.registry.reader import ReadError, field_for_header, read_table

# Spreadsheet date cells are naive datetimes (a calendar date, no time zone).
CELL_2013_03_16 = datetime(2013, 3, 16)  # noqa: DTZ001
CELL_1990_01_02 = datetime(1990, 1, 2)  # noqa: DTZ001
SHARED = Path(__file__).resolve().parents[2].parent / "shared"
SAMPLES = SHARED / "samples"

HEADER = "No;Nama Koperasi;Kec.;Desa/Kel;RT/RW;Latitude;Bujur;Warna Favorit"


def xlsx_bytes(rows: list[list], title_merge: bool = False) -> bytes:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Data"
    for r in rows:
        ws.append(r)
    if title_merge:
        ws.merge_cells("A1:F1")
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


# ---------------------------------------------------------------------------- header matching


@pytest.mark.parametrize(
    ("header", "field"),
    [
        ("Nama Koperasi", "name"),
        ("NAMA", "name"),
        ("Jenis Koperasi", "jenis"),
        ("No. Badan Hukum", "bh_number"),
        ("Nomor BH", "bh_number"),
        ("No BH", "bh_number"),
        ("no.bh", "bh_number"),
        ("Tgl Badan Hukum", "bh_date"),
        ("Tanggal BH", "bh_date"),
        ("Nomor Induk Koperasi", "nik"),
        ("Jalan", "street"),
        ("RT / RW", "rt_rw"),
        ("Desa/Kelurahan", "desa"),
        ("Desa / Kel.", "desa"),
        ("Kelurahan", "desa"),
        ("KEC.", "kecamatan"),
        ("Ketua", "chair_name"),
        ("No Telp", "chair_phone"),
        ("Jml Anggota", "member_count"),
        ("RAT Terakhir", "last_rat_year"),
        ("Tahun RAT", "last_rat_year"),
        ("Cluster", "cluster_name"),
        ("Lintang", "lat"),
        ("Long", "lng"),
        ("Bujur", "lng"),
        ("Status", "status"),
        ("No", "no"),
        ("Warna Favorit", None),
    ],
)
def test_header_names_match_ignoring_case_spaces_dots_slashes_and_synonyms(header, field):
    assert field_for_header(header) == field


# ---------------------------------------------------------------------------- samples


def test_sample_workbook_header_is_found_below_title_rows():
    table = read_table((SAMPLES / "register-karanganyar.xlsx").read_bytes(), "r.xlsx")
    assert (table.format, table.sheet_name, table.header_row) == ("xlsx", "Data Koperasi", 4)
    assert table.unknown_headers == []
    assert table.columns["bh_number"] == "No. Badan Hukum"
    rows = list(table.rows())
    assert len(rows) == 1163
    assert rows[0].row_number == 5
    assert rows[0].cells["bh_date"] == CELL_2013_03_16
    assert rows[-1].row_number == 1167


def test_messy_csv_is_detected_as_windows_1252_with_semicolons():
    table = read_table((SAMPLES / "register-messy.csv").read_bytes(), "messy.csv")
    assert (table.format, table.encoding, table.delimiter) == ("csv", "cp1252", ";")
    assert table.encoding_name == "Windows-1252"
    assert table.header_row == 1
    rows = list(table.rows())
    assert [r.row_number for r in rows] == list(range(2, 17))
    assert rows[1].cells["name"] == "Koperasi Jum\u2019at Berkah Puntukrejo"


# ---------------------------------------------------------------------------- csv


@pytest.mark.parametrize("delimiter", [";", ",", "\t"])
@pytest.mark.parametrize(
    ("encoding", "prefix", "detected"),
    [("utf-8", b"", "utf-8"), ("utf-8", b"\xef\xbb\xbf", "utf-8-sig"), ("cp1252", b"", "cp1252")],
)
def test_csv_delimiter_and_encoding_are_detected(delimiter, encoding, prefix, detected):
    text = delimiter.join(["Nama Koperasi", "Kecamatan", "Latitude"]) + "\r\n"
    text += delimiter.join(["Koperasi Jum\u2019at", "Jaten", '"-7,6034"']) + "\r\n"
    table = read_table(prefix + text.encode(encoding), "x.csv")
    assert (table.encoding, table.delimiter) == (detected, delimiter)
    (row,) = table.rows()
    assert row.cells == {"name": "Koperasi Jum\u2019at", "kecamatan": "Jaten", "lat": "-7,6034"}


def test_csv_utf16_with_bom_from_excel_unicode_text_is_read():
    text = "Nama\tKecamatan\r\nKSP Maju\tJaten\r\n"
    table = read_table(text.encode("utf-16"), "x.txt")
    assert (table.encoding, table.delimiter) == ("utf-16", "\t")
    assert [r.cells["name"] for r in table.rows()] == ["KSP Maju"]


def test_unknown_columns_are_reported_and_no_column_is_ignored():
    text = HEADER + "\n1;KSP A;Jaten;Ngringo;003/012;-7,56;110,87;biru\n"
    table = read_table(text.encode(), "x.csv")
    assert table.unknown_headers == ["Warna Favorit"]
    assert "no" not in table.columns
    (row,) = table.rows()
    assert row.cells["rt_rw"] == "003/012"
    assert row.original == ["1", "KSP A", "Jaten", "Ngringo", "003/012", "-7,56", "110,87", "biru"]
    assert row.label("lng") == "Bujur"


def test_title_rows_above_the_header_count_in_row_numbers_and_blank_rows_are_skipped():
    text = "DATA KOPERASI;;\nper 31 Desember;;\n\nNama Koperasi;Kecamatan;RT\nKSP A;Jaten;1\n;;\n"
    text += "KSP B;Jaten;2\n"
    table = read_table(text.encode(), "x.csv")
    assert table.header_row == 4
    assert [(r.row_number, r.cells["name"]) for r in table.rows()] == [(5, "KSP A"), (7, "KSP B")]


def test_rows_can_be_streamed_twice():
    table = read_table(b"Nama;Kecamatan\nA;Jaten\nB;Jaten\n", "x.csv")
    assert [r.cells["name"] for r in table.rows()] == ["A", "B"]
    assert [r.cells["name"] for r in table] == ["A", "B"]


def test_a_short_row_gives_empty_cells_for_missing_columns():
    (row,) = read_table(b"Nama;Kecamatan;Desa\nA\n", "x.csv").rows()
    assert row.cells == {"name": "A", "kecamatan": None, "desa": None}


# ---------------------------------------------------------------------------- xlsx


def test_xlsx_header_below_merged_title_and_real_row_numbers_with_gaps():
    data = xlsx_bytes(
        [
            ["DATA KOPERASI KABUPATEN KARANGANYAR"],
            [],
            ["No", "Nama Koperasi", "Kec.", "Nomor BH", "Tanggal BH", "NIK"],
            [1, "KSP A", "Jaten", "1/BH/1990", CELL_1990_01_02, 3313],
            [],
            [2, "KSP B", "Jaten", "2/BH/1990", 33000, "3313"],
        ],
        title_merge=True,
    )
    table = read_table(data, "x.xlsx")
    assert (table.header_row, table.sheet_name) == (3, "Data")
    rows = list(table.rows())
    assert [r.row_number for r in rows] == [4, 6]
    assert rows[0].cells["nik"] == 3313  # raw: the numeric cell stays a number for normalize
    assert rows[1].cells["bh_date"] == 33000


def test_xlsx_header_is_taken_from_the_sheet_that_has_one():
    wb = openpyxl.Workbook()
    wb.active.append(["Catatan"])
    ws = wb.create_sheet("Register")
    ws.append(["Nama", "Kecamatan", "Desa"])
    ws.append(["KSP A", "Jaten", "Ngringo"])
    buf = io.BytesIO()
    wb.save(buf)
    table = read_table(buf.getvalue(), "x.xlsx")
    assert table.sheet_name == "Register"
    assert [r.cells["desa"] for r in table.rows()] == ["Ngringo"]


# ---------------------------------------------------------------------------- refusals


def zip_bytes(entries: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, content in entries.items():
            zf.writestr(name, content)
    return buf.getvalue()


@pytest.mark.parametrize(
    ("data", "filename", "expected"),
    [
        (b"", "x.csv", "empty"),
        (b"  \r\n ", "x.csv", "empty"),
        (reader.OLE_MAGIC + b"\x00" * 600, "register.xls", "old .xls"),
        (reader.OLE_MAGIC + b"\x00" * 600, "register.xlsx", "old .xls"),
        (b"<html><table><tr><td>Nama</td></tr></table></html>", "register.xls", "web page"),
        (b"%PDF-1.7\n...", "register.xlsx", "PDF"),
        (zip_bytes({"readme.txt": b"hi"}), "x.xlsx", "not an Excel workbook"),
        (
            zip_bytes(
                {"mimetype": b"application/vnd.oasis.opendocument.spreadsheet", "content.xml": b""}
            ),
            "x.ods",
            ".ods",
        ),
        (b"Judul saja\nbaris dua\n", "x.csv", "No header row"),
        (b"Kecamatan;Desa\nJaten;Ngringo\n", "x.csv", "Nama Koperasi"),
        (b"\x00\x01\x02binary\x00", "x.csv", "not a spreadsheet"),
        (b"Nama;Kecamatan\n" + b"x" * (reader.MAX_LINE_CHARS + 1), "x.csv", "not a spreadsheet"),
        (b"Nama;Kecamatan\nA\x81;Jaten\n", "x.csv", "encoding"),
    ],
)
def test_unreadable_files_raise_a_read_error_with_a_clear_message(data, filename, expected):
    with pytest.raises(ReadError) as info:
        read_table(data, filename)
    assert expected in info.value.message


def test_truncated_xlsx_is_refused():
    data = (SAMPLES / "register-karanganyar.xlsx").read_bytes()
    with pytest.raises(ReadError, match="damaged"):
        read_table(data[: len(data) // 2], "register.xlsx")


def test_zip_bomb_is_refused_from_the_declared_sizes_before_unpacking(monkeypatch):
    monkeypatch.setattr(reader, "MAX_UNCOMPRESSED_BYTES", 1_000_000)
    data = zip_bytes(
        {"[Content_Types].xml": b"<x/>", "xl/worksheets/sheet1.xml": b"\x00" * 2_000_000}
    )
    assert len(data) < 10_000
    with pytest.raises(ReadError, match="too large once unpacked"):
        read_table(data, "bomb.xlsx")


def test_an_oversized_styles_part_is_refused(monkeypatch):
    monkeypatch.setattr(reader, "MAX_OTHER_PART_BYTES", 1000)
    data = zip_bytes({"[Content_Types].xml": b"<x/>", "xl/styles.xml": b" " * 1001})
    with pytest.raises(ReadError, match="too large"):
        read_table(data, "x.xlsx")


@pytest.mark.parametrize("kind", ["csv", "xlsx"])
def test_too_many_rows_are_refused_while_streaming(monkeypatch, kind):
    monkeypatch.setattr(reader, "MAX_ROWS", 3)
    rows = [["Nama", "Kecamatan"]] + [[f"K{i}", "Jaten"] for i in range(4)]
    data = "\n".join(";".join(r) for r in rows).encode() if kind == "csv" else xlsx_bytes(rows)
    table = read_table(data, f"x.{kind}")
    stream = table.rows()
    assert [next(stream).cells["name"] for _ in range(3)] == ["K0", "K1", "K2"]
    with pytest.raises(ReadError, match="more than 3 rows"):
        next(stream)


def test_a_lying_sheet_dimension_does_not_blow_up_row_width():
    data = xlsx_bytes([["Nama", "Kecamatan"], ["KSP A", "Jaten"]])
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        parts = {n: zf.read(n) for n in zf.namelist()}
    sheet = parts["xl/worksheets/sheet1.xml"]
    parts["xl/worksheets/sheet1.xml"] = sheet.replace(b'ref="A1:B2"', b'ref="A1:XFD1048576"')
    table = read_table(zip_bytes(parts), "x.xlsx")
    (row,) = table.rows()
    assert row.original == ["KSP A", "Jaten"]
