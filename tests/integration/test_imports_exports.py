"""Register exports: text IDs, real dates, BOM, no live formulas, and they import unchanged."""

from __future__ import annotations

import io
import zipfile
from datetime import date, datetime

import openpyxl

from coop_audit.extensions import db
from coop_audit.imports.exports import write_csv, write_xlsx
from coop_audit.imports.operations import import_register
from coop_audit.registry.query import RegisterFilter
from coop_audit.registry.reader import read_table

FORMULA = '=HYPERLINK("http://x","y")'


def _xlsx(flt: RegisterFilter | None = None) -> bytes:
    buf = io.BytesIO()
    write_xlsx(flt or RegisterFilter.from_args({}), buf)
    return buf.getvalue()


def _csv(flt: RegisterFilter | None = None) -> bytes:
    buf = io.BytesIO()
    write_csv(flt or RegisterFilter.from_args({}), buf)
    return buf.getvalue()


def test_ids_are_text_cells_and_dates_are_real_dates(app, make_coop):
    make_coop(
        name="KSP Teks",
        nik="0012345678901234",
        chair_phone="081234567890",
        rt="3",
        rw="12",
        bh_date=date(2013, 3, 16),
    )
    ws = openpyxl.load_workbook(io.BytesIO(_xlsx())).active
    header = [c.value for c in ws[1]]
    row = {h: c for h, c in zip(header, ws[2], strict=False)}
    for column, value in (("NIK", "0012345678901234"), ("No. HP", "081234567890")):
        assert (row[column].value, row[column].data_type) == (value, "s")
    assert (row["RT"].value, row["RW"].value) == ("003", "012")
    assert row["No. Badan Hukum"].data_type == "s"
    assert row["Tgl Badan Hukum"].value == datetime(2013, 3, 16)  # noqa: DTZ001 - a date cell
    assert row["Tgl Badan Hukum"].is_date


def test_csv_is_utf8_with_bom_and_keeps_leading_zeros(app, make_coop):
    make_coop(name="Koperasi Jum\u2019at Berkah", nik="0012345678901234", rt="3")
    data = _csv()
    assert data.startswith(b"\xef\xbb\xbf")
    text = data.decode("utf-8-sig")
    assert "Jum\u2019at" in text and "0012345678901234" in text and ";003;" in text


def test_a_name_that_looks_like_a_formula_is_never_a_live_formula(app, make_coop):
    make_coop(name=FORMULA)
    data = _xlsx()
    sheet = zipfile.ZipFile(io.BytesIO(data)).read("xl/worksheets/sheet1.xml").decode()
    assert "<f>" not in sheet and "<f " not in sheet
    cell = openpyxl.load_workbook(io.BytesIO(data)).active["B2"]
    assert cell.value == FORMULA and cell.data_type == "s"
    assert cell.quotePrefix  # Excel shows it as text, even after editing the cell
    text = _csv().decode("utf-8-sig")
    assert f"'{FORMULA}" in text.replace('""', '"')


def test_exports_of_formula_like_names_import_again_unchanged(app, make_coop):
    make_coop(name=FORMULA, bh_number="1/BH/2001")
    make_coop(name="-Koperasi Minus", bh_number="2/BH/2001")
    for data, name in ((_xlsx(), "r.xlsx"), (_csv(), "r.csv")):
        result = import_register(read_table(data, name), None, today=date(2026, 3, 2), write=True)
        db.session.commit()
        assert result.counts["unchanged"] == 2, (name, [r.messages for r in result.results])


def test_an_export_follows_the_filter(app, make_coop):
    make_coop(name="KSP Jaten", desa_kode="33.13.11.2001")
    make_coop(name="KSP Colomadu", desa_kode="33.13.12.2001", status="dormant")
    ws = openpyxl.load_workbook(
        io.BytesIO(_xlsx(RegisterFilter.from_args({"kecamatan": "33.13.11"})))
    ).active
    names = [r[1] for r in ws.iter_rows(min_row=2, values_only=True)]
    assert names == ["KSP Jaten"]
    text = _csv(RegisterFilter.from_args({"status": "dormant"})).decode("utf-8-sig")
    assert "KSP Colomadu" in text and "KSP Jaten" not in text and "Tidak Aktif" in text
