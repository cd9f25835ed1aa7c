"""Export a filtered register list (``RegisterFilter``) to .xlsx and .csv.

The columns are the register's own headers, so an export imports again as "unchanged".
IDs (BH number, NIK, phone, RT, RW, KBLI) are text cells, dates are real dates, CSV is UTF-8
with a BOM (Excel then opens it right). Text that Excel would run as a formula (starting with
= + - @, a tab or a carriage return) is an explicit text cell with Excel's quote prefix in the
.xlsx, and prefixed with a quote in the .csv (the import removes that quote again).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import date
from typing import IO, Any

from sqlalchemy import select

from ..extensions import db
from ..geo import regions
from ..models import Cluster, Cooperative
from ..registry.normalize import JENIS_LABELS
from ..registry.query import RegisterFilter

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")

# (header, kind); kind: text | id | date | int | float
COLUMNS: tuple[tuple[str, str], ...] = (
    ("No", "int"),
    ("Nama Koperasi", "text"),
    ("Jenis", "text"),
    ("Kelompok", "text"),
    ("Bentuk", "text"),
    ("No. Badan Hukum", "id"),
    ("Tgl Badan Hukum", "date"),
    ("NIK", "id"),
    ("Alamat", "text"),
    ("RT", "id"),
    ("RW", "id"),
    ("Desa/Kelurahan", "text"),
    ("Kecamatan", "text"),
    ("Nama Ketua", "text"),
    ("No. HP", "id"),
    ("Jumlah Anggota", "int"),
    ("RAT Terakhir", "int"),
    ("Klaster Usaha", "text"),
    ("KBLI", "id"),
    ("Produk", "text"),
    ("Latitude", "float"),
    ("Longitude", "float"),
    ("Keterangan", "text"),
)
HEADERS = [h for h, _k in COLUMNS]

_FIELDS = (
    Cooperative.name,
    Cooperative.jenis,
    Cooperative.kelompok,
    Cooperative.bentuk,
    Cooperative.bh_number,
    Cooperative.bh_date,
    Cooperative.nik,
    Cooperative.street,
    Cooperative.rt,
    Cooperative.rw,
    Cooperative.desa_kode,
    Cooperative.kecamatan_kode,
    Cooperative.chair_name,
    Cooperative.chair_phone,
    Cooperative.member_count,
    Cooperative.last_rat_year,
    Cooperative.cluster_id,
    Cooperative.kbli,
    Cooperative.products,
    Cooperative.lat,
    Cooperative.lng,
    Cooperative.status,
)


def register_rows(flt: RegisterFilter) -> Iterator[list[Any]]:
    """The export rows of a filtered register, streamed in the list's order."""
    reg = regions()
    clusters = {c.id: c.name for c in db.session.execute(select(Cluster)).scalars()}
    query = (
        select(*_FIELDS)
        .where(*flt.conditions())
        .order_by(*_sort(flt))
        .execution_options(yield_per=2000)
    )
    for number, r in enumerate(db.session.execute(query), start=1):
        village = reg.villages.get(r.desa_kode)
        kecamatan = reg.kecamatan.get(r.kecamatan_kode)
        yield [
            number,
            r.name,
            JENIS_LABELS.get(r.jenis, r.jenis),
            r.kelompok,
            (r.bentuk or "primer").title(),
            r.bh_number,
            r.bh_date,
            r.nik,
            r.street,
            r.rt,
            r.rw,
            village.nama if village else None,
            kecamatan.nama if kecamatan else None,
            r.chair_name,
            r.chair_phone,
            r.member_count,
            r.last_rat_year,
            clusters.get(r.cluster_id) if r.cluster_id else None,
            r.kbli,
            r.products,
            r.lat,
            r.lng,
            "Aktif" if r.status == "active" else "Tidak Aktif",
        ]


def _sort(flt: RegisterFilter) -> tuple:
    from ..registry.query import SORTS

    return SORTS[flt.sort]


def looks_like_formula(value: Any) -> bool:
    return isinstance(value, str) and value.startswith(FORMULA_START)


def xlsx_cell(ws: Any, value: Any) -> Any:
    """A write-only cell: text is always a text cell (never a formula, never a number that
    loses digits); dates are real dates shown dd/mm/yyyy."""
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    if isinstance(value, str):
        text = ILLEGAL_CHARACTERS_RE.sub("", value)
        cell = WriteOnlyCell(ws, value=text)
        cell.data_type = "s"
        if looks_like_formula(text):
            cell.quotePrefix = True
        return cell
    if isinstance(value, bool | int | float | date) or value is None:
        cell = WriteOnlyCell(ws, value=value)
        if isinstance(value, date):
            cell.number_format = "DD/MM/YYYY"
        return cell
    return xlsx_cell(ws, str(value))  # times, durations ...: as text


def write_xlsx(flt: RegisterFilter, fh: IO[bytes]) -> int:
    """Write the filtered register as a workbook; returns the number of cooperatives."""
    import openpyxl
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    wb = openpyxl.Workbook(write_only=True)
    ws = wb.create_sheet("Register")
    widths = (
        5,
        40,
        14,
        16,
        10,
        30,
        14,
        20,
        30,
        6,
        6,
        20,
        16,
        24,
        16,
        10,
        10,
        22,
        8,
        24,
        11,
        11,
        12,
    )
    for i, width in enumerate(widths, start=1):
        ws.column_dimensions[openpyxl.utils.get_column_letter(i)].width = width
    ws.freeze_panes = "C2"
    bold = Font(bold=True)
    header = []
    for text in HEADERS:
        cell = WriteOnlyCell(ws, value=text)
        cell.font = bold
        header.append(cell)
    ws.append(header)
    count = 0
    for row in register_rows(flt):
        ws.append([xlsx_cell(ws, value) for value in row])
        count += 1
    wb.save(fh)
    return count


def write_csv(flt: RegisterFilter, fh: IO[bytes]) -> int:
    """Write the filtered register as CSV (UTF-8 with BOM, semicolons: Excel in Indonesia)."""
    text = io.TextIOWrapper(fh, encoding="utf-8-sig", newline="", write_through=True)
    writer = csv.writer(text, delimiter=";", quoting=csv.QUOTE_MINIMAL)
    writer.writerow(HEADERS)
    count = 0
    for row in register_rows(flt):
        writer.writerow([_csv_cell(v) for v in row])
        count += 1
    text.flush()
    text.detach()
    return count


def _csv_cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, date):
        return value.strftime("%d/%m/%Y")
    if isinstance(value, float):
        return repr(value)
    if looks_like_formula(value):
        return "'" + value
    return str(value)


def export_filename(flt: RegisterFilter, ext: str, today: date) -> str:
    parts = ["register-koperasi"]
    if flt.status and flt.status != "all":
        parts.append(flt.status)
    kec = regions().kecamatan.get(flt.kecamatan)
    if kec is not None:
        parts.append(kec.nama.lower().replace(" ", "-"))
    parts.append(today.isoformat())
    return "-".join(parts) + f".{ext}"


def write_rejected_xlsx(table: Any, messages: dict[int, str], fh: IO[bytes]) -> int:
    """The rejected rows of an uploaded register: its header, the original cells, a message.

    The clerk fixes these rows and imports just this file again (the reader finds the header).
    """
    import openpyxl
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    wb = openpyxl.Workbook(write_only=True)
    ws = wb.create_sheet("Ditolak")
    ws.freeze_panes = "A2"
    width = len(table.headers)
    bold = Font(bold=True)
    header = [WriteOnlyCell(ws, value=h or None) for h in table.headers]
    header.append(WriteOnlyCell(ws, value="Pesan"))
    for cell in header:
        cell.font = bold
    ws.append(header)
    count = 0
    for raw in table.rows():
        text = messages.get(raw.row_number)
        if text is None:
            continue
        values = list(raw.original[:width]) + [None] * (width - len(raw.original[:width]))
        ws.append([xlsx_cell(ws, value) for value in [*values, text]])
        count += 1
    wb.save(fh)
    return count
