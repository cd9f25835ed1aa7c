"""The streaming worksheet parser reads what openpyxl reads (types, dates, strings, gaps)."""

from __future__ import annotations

import io
from datetime import date, datetime, time, timedelta

import openpyxl

from coop_audit.registry import reader


def _workbook_bytes(rows: list[list]) -> bytes:
    wb = openpyxl.Workbook()
    ws = wb.active
    for row in rows:
        ws.append(row)
    ws.cell(row=len(rows) + 3, column=2, value="after a gap")
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _openpyxl_rows(data: bytes) -> list[tuple[int, list]]:
    wb = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    out = []
    for number, row in enumerate(wb.active.iter_rows(values_only=True), start=1):
        values = list(row)
        while values and values[-1] is None:
            values.pop()
        if values:
            out.append((number, values))
    return out


def test_the_fast_sheet_parser_reads_the_same_values_as_openpyxl():
    data = _workbook_bytes(
        [
            ["Nama Koperasi", "Tgl BH", "Jml", "NIK", "Aktif", "Rumus"],
            ["KSP Maju", date(2013, 3, 16), 1.5, "3313050101010001", True, "=1+1"],
            [
                "  Spasi  ",
                datetime(2020, 1, 2, 3, 4),  # noqa: DTZ001 - a spreadsheet cell has no zone
                1163,
                None,
                False,
                3,
            ],
            [None, timedelta(days=1, hours=2), time(3, 4), "Jum\u2019at", -7.6034, "x"],
        ]
    )
    wb = reader._load_workbook(data)
    try:
        ours = list(reader._sheet_rows(wb.worksheets[0]))
    finally:
        wb.close()
    assert ours == _openpyxl_rows(data)


def test_the_sample_register_reads_every_row_with_typed_cells():
    from tests.conftest import SHARED

    data = (SHARED / "samples" / "register-karanganyar.xlsx").read_bytes()
    table = reader.read_table(data, "register-karanganyar.xlsx")
    rows = list(table.rows())
    assert len(rows) == 1163
    first = rows[0]
    assert first.row_number == table.header_row + 1
    assert first.cells["name"] == "Koperasi Wanita Ngudi Mulyo Jatirejo"
    assert first.cells["bh_date"] == datetime(2013, 3, 16)  # noqa: DTZ001
    assert first.cells["nik"] == "9785337641200222"
