"""Read the register spreadsheets clerks really have (.xlsx and .csv) into raw rows.

Pure module: bytes in, a :class:`Table` out; no Flask app, no database. Every problem with the
file itself (not a spreadsheet, damaged, too big, no header row) is a :class:`ReadError` with a
message a clerk understands; no other exception escapes for any input bytes.

Rows are produced lazily: ``Table.rows()`` re-opens the file and streams it, so a 200,000-row
workbook never sits in memory as a whole.
"""

from __future__ import annotations

import codecs
import csv
import io
import itertools
import re
import unicodedata
import warnings
import zipfile
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from flask_babel import gettext as _

# openpyxl warns about cells and features it does not support (data validation, bad date
# serials ...); the reader reports what matters itself, so keep the logs quiet.
warnings.filterwarnings("ignore", category=UserWarning, module="openpyxl")

# Limits that keep a hostile or broken upload from exhausting the server.
MAX_FILE_BYTES = 100 * 1024 * 1024  # the raw upload
MAX_UNCOMPRESSED_BYTES = 200 * 1024 * 1024  # all entries of an .xlsx together
MAX_SHARED_STRINGS_BYTES = 100 * 1024 * 1024  # loaded into memory by openpyxl
MAX_OTHER_PART_BYTES = 20 * 1024 * 1024  # styles, workbook.xml ... (parsed in memory)
MAX_ZIP_ENTRIES = 10_000
MAX_ROWS = 300_000  # data rows (non-empty) after the header
MAX_COLUMNS = 256
EXCEL_MAX_ROW = 1_048_576  # a row number beyond this is a damaged (or hostile) sheet
MAX_LINE_CHARS = 1_000_000  # one CSV line
HEADER_SCAN_ROWS = 20
MAX_SHEETS_SCANNED = 20

OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ZIP_MAGICS = (b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08")

# Canonical field -> header spellings (compared after header_key()). "no" is the row numbering
# column: recognised so it is neither reported as unknown nor imported.
HEADER_SYNONYMS: dict[str, tuple[str, ...]] = {
    "no": ("No", "No.", "Nomor", "No Urut", "Nomor Urut"),
    "name": ("Nama Koperasi", "Nama", "Nama Kop", "Koperasi"),
    "jenis": ("Jenis", "Jenis Koperasi"),
    "kelompok": ("Kelompok", "Kelompok Koperasi"),
    "bentuk": ("Bentuk", "Bentuk Koperasi"),
    "bh_number": (
        "No. Badan Hukum",
        "Nomor Badan Hukum",
        "Nomor BH",
        "No BH",
        "No. BH",
        "Badan Hukum",
    ),
    "bh_date": ("Tgl Badan Hukum", "Tanggal Badan Hukum", "Tanggal BH", "Tgl BH", "Tgl. BH"),
    "nik": ("NIK", "Nomor Induk Koperasi", "NIK Koperasi"),
    "street": ("Alamat", "Jalan", "Alamat Jalan"),
    "rt": ("RT",),
    "rw": ("RW",),
    "rt_rw": ("RT/RW", "RT RW"),
    "desa": ("Desa/Kelurahan", "Desa/Kel", "Desa", "Kelurahan", "Kel", "Desa/Kel."),
    "kecamatan": ("Kec.", "Kecamatan", "Kec"),
    "chair_name": ("Nama Ketua", "Ketua"),
    "chair_phone": (
        "No. HP",
        "No HP",
        "Nomor HP",
        "HP",
        "Telepon",
        "Telp",
        "No Telp",
        "No. Telp",
        "No Telepon",
        "HP Ketua",
        "No. HP Ketua",
    ),
    "member_count": ("Jumlah Anggota", "Jml Anggota", "Jml. Anggota", "Anggota"),
    "last_rat_year": ("Tahun RAT", "RAT Terakhir", "RAT", "Tahun RAT Terakhir"),
    "cluster_name": ("Klaster", "Klaster Usaha", "Cluster", "Cluster Usaha"),
    "kbli": ("KBLI", "Kode KBLI"),
    "products": ("Produk", "Produk Unggulan"),
    "lat": ("Latitude", "Lintang", "Lat"),
    "lng": ("Longitude", "Long", "Bujur", "Lng", "Lon"),
    "status": ("Keterangan", "Status", "Ket", "Ket."),
}

# What a message calls a field when the file has no column for it (and the default label).
DEFAULT_LABELS: dict[str, str] = {f: names[0] for f, names in HEADER_SYNONYMS.items()}

_HEADER_STRIP = re.compile(r"[\s./\\\-_:()]+")


def header_key(text: Any) -> str:
    """Compare headers ignoring case, spaces, dots, slashes (and dashes, colons, brackets)."""
    if text is None:
        return ""
    s = unicodedata.normalize("NFKC", str(text)).lower()
    return _HEADER_STRIP.sub("", s)


_HEADER_INDEX: dict[str, str] = {
    header_key(name): canonical for canonical, names in HEADER_SYNONYMS.items() for name in names
}


def field_for_header(text: Any) -> str | None:
    """The canonical field a column header stands for, or None."""
    return _HEADER_INDEX.get(header_key(text))


class ReadError(Exception):
    """The file cannot be read as a register at all; ``message`` is shown to the user."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class RawRow:
    """One data row as the user typed it.

    ``row_number`` is the spreadsheet row as the user sees it (1-based, title rows included);
    ``cells`` maps canonical fields to raw cell values; ``original`` is every cell of the row;
    ``columns`` maps canonical fields to the header text as written (for messages).
    """

    row_number: int
    cells: dict[str, Any]
    original: list[Any]
    columns: Mapping[str, str] = field(default_factory=dict, repr=False, compare=False)

    def label(self, canonical: str) -> str:
        """The column name as the user wrote it (or our default label)."""
        return self.columns.get(canonical) or DEFAULT_LABELS.get(canonical, canonical)


@dataclass
class Table:
    """A readable register file: what was detected, and a lazy row stream."""

    format: str  # "xlsx" or "csv"
    filename: str
    encoding: str | None  # csv only: "utf-8", "utf-8-sig", "utf-16", "cp1252"
    delimiter: str | None  # csv only: ";", "," or "\t"
    sheet_name: str | None  # xlsx only
    header_row: int  # 1-based spreadsheet row of the header
    headers: list[str]  # the header row as written (for the rejected-rows download)
    columns: dict[str, str]  # canonical field -> header as written
    unknown_headers: list[str]  # reported and ignored
    duplicate_headers: list[str]  # a second column for a field already mapped: ignored
    _data: bytes = field(repr=False, default=b"")
    _indices: dict[str, int] = field(repr=False, default_factory=dict)

    @property
    def encoding_name(self) -> str | None:
        """The detected CSV encoding as shown to the user."""
        return {
            "utf-8": "UTF-8",
            "utf-8-sig": "UTF-8 (BOM)",
            "utf-16": "UTF-16",
            "cp1252": "Windows-1252",
        }.get(self.encoding or "")

    @property
    def delimiter_name(self) -> str | None:
        return {";": _("semicolon"), ",": _("comma"), "\t": _("tab")}.get(self.delimiter or "")

    def rows(self) -> Iterator[RawRow]:
        """Stream the data rows (blank rows skipped). May raise ReadError midway."""
        if self.format == "xlsx":
            source = _xlsx_rows(self._data, self.sheet_name)
        else:
            source = _csv_rows(self._data, self.encoding or "utf-8", self.delimiter or ",")
        return self._raw_rows(source)

    __iter__ = rows

    def _raw_rows(self, source: Iterator[tuple[int, list[Any]]]) -> Iterator[RawRow]:
        count = 0
        for number, values in source:
            if number <= self.header_row or _is_blank(values):
                continue
            count += 1
            if count > MAX_ROWS:
                raise ReadError(
                    _(
                        "The file has more than %(max)s rows: split it into smaller files.",
                        max=f"{MAX_ROWS:,}".replace(",", "."),
                    )
                )
            original = _trim(values)
            cells = {
                canonical: (values[i] if i < len(values) else None)
                for canonical, i in self._indices.items()
            }
            yield RawRow(row_number=number, cells=cells, original=original, columns=self.columns)


def read_table(data: bytes, filename: str = "") -> Table:
    """Open an uploaded register (.xlsx or .csv) and find its header row.

    Raises ReadError (and nothing else) when the bytes are not a readable register.
    """
    try:
        return _read_table(data, filename)
    except ReadError:
        raise
    except Exception as exc:  # any parser failure on hostile bytes becomes a user message
        raise ReadError(_("The file could not be read: it may be damaged.")) from exc


def _read_table(data: bytes, filename: str) -> Table:
    if not isinstance(data, bytes | bytearray | memoryview):
        raise ReadError(_("The file could not be read: it may be damaged."))
    data = bytes(data)
    name = (filename or "").lower()
    if not data.strip():
        raise ReadError(_("The file is empty."))
    if len(data) > MAX_FILE_BYTES:
        raise ReadError(
            _("The file is larger than %(mb)s MB: split it into smaller files.", mb=100)
        )
    if data.startswith(OLE_MAGIC):
        raise ReadError(
            _(
                "This is an old .xls file (or a password-protected workbook): open it in Excel "
                "and save it as .xlsx (Excel Workbook) without a password."
            )
        )
    if data.startswith(ZIP_MAGICS):
        return _open_xlsx(data, filename)
    if data.startswith(b"%PDF"):
        raise ReadError(_("This is a PDF document, not a spreadsheet: upload the .xlsx file."))
    if name.endswith((".xlsx", ".xlsm")):
        raise ReadError(
            _("This .xlsx file is damaged or incomplete: save it again in Excel and retry.")
        )
    head = data[:2048].lstrip().lower()
    if head.startswith((b"<html", b"<!doctype", b"<?xml", b"<table")) or b"<table" in head:
        raise ReadError(
            _(
                "This is a web page or XML file, not a spreadsheet: open it in Excel and save "
                "it as .xlsx."
            )
        )
    if name.endswith(".xls"):
        raise ReadError(
            _(
                "This is an old .xls file (or a password-protected workbook): open it in Excel "
                "and save it as .xlsx (Excel Workbook) without a password."
            )
        )
    return _open_csv(data, filename)


# --------------------------------------------------------------------------------------------
# Header detection (shared)


def _is_blank(values: Iterable[Any]) -> bool:
    return all(v is None or (isinstance(v, str) and not v.strip()) for v in values)


def _trim(values: list[Any]) -> list[Any]:
    end = len(values)
    while end and (values[end - 1] is None or values[end - 1] == ""):
        end -= 1
    return list(values[:end])


def _header_score(values: list[Any]) -> int:
    fields = {field_for_header(v) for v in values if isinstance(v, str | int | float)}
    fields.discard(None)
    fields.discard("no")
    return len(fields)


def _find_header(rows: list[tuple[int, list[Any]]]) -> tuple[int, list[Any], int] | None:
    """(index in rows, header values, score) of the best header row, or None."""
    best: tuple[int, list[Any], int] | None = None
    for i, (_number, values) in enumerate(rows):
        score = _header_score(values)
        if score >= 2 and (best is None or score > best[2]):
            best = (i, values, score)
    return best


def _map_columns(
    values: list[Any],
) -> tuple[list[str], dict[str, str], dict[str, int], list[str], list[str]]:
    headers: list[str] = []
    columns: dict[str, str] = {}
    indices: dict[str, int] = {}
    unknown: list[str] = []
    duplicates: list[str] = []
    for i, value in enumerate(values):
        text = "" if value is None else " ".join(str(value).split())
        headers.append(text)
        if not text:
            continue
        canonical = field_for_header(text)
        if canonical is None:
            unknown.append(text)
        elif canonical == "no":
            continue
        elif canonical in columns:
            duplicates.append(text)
        else:
            columns[canonical] = text
            indices[canonical] = i
    return _trim(headers), columns, indices, unknown, duplicates


def _no_header_error() -> ReadError:
    return ReadError(
        _(
            "No header row was found in the first %(n)s rows: the file needs a row of column "
            'names such as "Nama Koperasi", "Kecamatan", "Desa/Kelurahan".',
            n=HEADER_SCAN_ROWS,
        )
    )


def _build_table(rows: list[tuple[int, list[Any]]], **detected: Any) -> Table:
    found = _find_header(rows)
    if found is None:
        raise _no_header_error()
    index, values, _score = found
    headers, columns, indices, unknown, duplicates = _map_columns(values)
    if "name" not in columns:
        raise ReadError(
            _(
                'The column with the cooperative\'s name ("Nama Koperasi") was not found in '
                "the header row."
            )
        )
    return Table(
        header_row=rows[index][0],
        headers=headers,
        columns=columns,
        unknown_headers=unknown,
        duplicate_headers=duplicates,
        _indices=indices,
        **detected,
    )


# --------------------------------------------------------------------------------------------
# xlsx


def _check_zip(data: bytes) -> None:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError, EOFError) as exc:
        raise ReadError(
            _("This .xlsx file is damaged or incomplete: save it again in Excel and retry.")
        ) from exc
    with archive:
        infos = archive.infolist()
        names = {i.filename for i in infos}
        if "mimetype" in names and "content.xml" in names:
            raise ReadError(
                _(
                    "This is an OpenDocument (.ods) file: open it and save it as .xlsx "
                    "(Excel Workbook)."
                )
            )
        if "[Content_Types].xml" not in names or not any(n.startswith("xl/") for n in names):
            raise ReadError(
                _(
                    "This is a zip file but not an Excel workbook: upload the register as .xlsx "
                    "or .csv."
                )
            )
        if len(infos) > MAX_ZIP_ENTRIES:
            raise ReadError(_("This .xlsx file has too many parts to be a register."))
        too_big = ReadError(
            _(
                "This workbook is too large once unpacked (more than %(mb)s MB): split it into "
                "smaller files.",
                mb=MAX_UNCOMPRESSED_BYTES // (1024 * 1024),
            )
        )
        total = 0
        for info in infos:
            total += info.file_size
            lower = info.filename.lower()
            if lower.startswith("xl/worksheets/"):
                limit = MAX_UNCOMPRESSED_BYTES
            elif lower.endswith("sharedstrings.xml"):
                limit = MAX_SHARED_STRINGS_BYTES
            elif lower.startswith(("xl/media/", "xl/embeddings/", "docprops/thumbnail")):
                limit = MAX_UNCOMPRESSED_BYTES  # never parsed by the reader
            else:
                limit = MAX_OTHER_PART_BYTES
            if info.file_size > limit or total > MAX_UNCOMPRESSED_BYTES:
                raise too_big


def _load_workbook(data: bytes):
    """openpyxl's read-only load_workbook, minus its sheet-size scan.

    openpyxl's ReadOnlyWorksheet parses the whole sheet on opening when the file has no
    ``<dimension>`` element (files written by openpyxl's write-only mode, among others): twice
    the time of reading the rows. The reader never asks for the size, so the worksheets are
    made without it (openpyxl is pinned).
    """
    # imported lazily: CSV-only users never pay for it
    from openpyxl.reader.excel import ExcelReader, apply_stylesheet
    from openpyxl.worksheet._read_only import ReadOnlyWorksheet

    class SizelessWorksheet(ReadOnlyWorksheet):
        def _get_size(self) -> None:
            return None

    reader = ExcelReader(io.BytesIO(data), read_only=True, data_only=True, keep_links=False)
    try:
        reader.read_manifest()
        reader.read_strings()
        reader.read_workbook()
        apply_stylesheet(reader.archive, reader.wb)
        for sheet, rel in reader.parser.find_sheets():
            if rel.target not in reader.valid_files or "chartsheet" in rel.Type:
                continue
            ws = SizelessWorksheet(reader.wb, sheet.name, rel.target, reader.shared_strings)
            ws.sheet_state = sheet.state
            reader.wb._sheets.append(ws)
    except BaseException:
        reader.archive.close()
        raise
    return reader.wb


def _sheet_rows(ws, max_row: int | None = None) -> Iterator[tuple[int, list[Any]]]:
    """(row number, values) for the rows actually present in the sheet XML.

    A streaming expat parser of ``<sheetData>`` (openpyxl's own sheet parser builds an element
    tree per cell and reads about 2,000 rows a second; this reads several times faster). Only
    present rows are produced: a hostile ``<row r="99999999">`` or a lying ``<dimension>`` costs
    nothing. Only the first MAX_COLUMNS columns are kept. Values follow openpyxl's reading with
    ``data_only=True`` (cached formula results, shared and inline strings, date styles).
    """
    wb = ws.parent
    with ws._get_source() as src:
        yield from _SheetParser(
            ws._shared_strings,
            epoch=wb.epoch,
            date_formats=wb._date_formats,
            timedelta_formats=wb._timedelta_formats,
        ).rows(src, max_row)


def _damaged() -> ReadError:
    return ReadError(
        _("This .xlsx file is damaged or incomplete: save it again in Excel and retry.")
    )


_COLUMN_LETTERS = re.compile(r"^\$?([A-Za-z]{1,3})\$?\d*$")
_COLUMN_CACHE: dict[str, int] = {}


def _column_index(ref: str) -> int:
    """1-based column of a cell reference such as "B5" (cached: sheets repeat columns)."""
    letters = ref.rstrip("0123456789")
    index = _COLUMN_CACHE.get(letters)
    if index is not None:
        return index
    m = _COLUMN_LETTERS.match(ref)
    if m is None:
        raise ValueError(ref)
    index = 0
    for ch in m[1].upper():
        index = index * 26 + ord(ch) - 64
    if len(_COLUMN_CACHE) < 20_000:
        _COLUMN_CACHE[letters] = index
    return index


class _SheetParser:
    """Callbacks for pyexpat over one worksheet part; rows are collected per fed chunk."""

    CHUNK = 1 << 16

    def __init__(self, shared_strings, *, epoch, date_formats, timedelta_formats) -> None:
        self.shared = shared_strings
        self.epoch = epoch
        self.date_formats = date_formats
        self.timedelta_formats = timedelta_formats
        self.out: list[tuple[int, list[Any]]] = []
        self.row_number = 0
        self.cells: list[tuple[int, Any]] = []
        self.col = 0
        self.ctype = "n"
        self.style = 0
        self.text: list[str] | None = None  # collecting character data
        self.value_parts: list[str] = []
        self.inline_parts: list[str] = []
        self.has_value = False
        self.in_is = self.in_phonetic = False

    def rows(self, src, max_row: int | None) -> Iterator[tuple[int, list[Any]]]:
        import pyexpat

        parser = pyexpat.ParserCreate(namespace_separator=" ")
        parser.buffer_text = True
        parser.SetParamEntityParsing(pyexpat.XML_PARAM_ENTITY_PARSING_NEVER)
        parser.StartDoctypeDeclHandler = self._refuse
        parser.EntityDeclHandler = self._refuse
        parser.StartElementHandler = self._start
        parser.EndElementHandler = self._end
        parser.CharacterDataHandler = self._chars
        while True:
            chunk = src.read(self.CHUNK)
            failure: Exception | None = None
            try:
                parser.Parse(chunk, not chunk)
            except (pyexpat.ExpatError, ValueError, IndexError, TypeError, OverflowError) as exc:
                failure = exc
            out, self.out = self.out, []
            for item in out:  # the rows complete before a failure still come first
                if max_row is not None and item[0] > max_row:
                    return
                if not 1 <= item[0] <= EXCEL_MAX_ROW:
                    raise _damaged()
                yield item
            if failure is not None:
                raise _damaged() from failure
            if not chunk:
                return

    @staticmethod
    def _refuse(*_args: Any) -> None:
        raise ValueError("DTDs and entities are not allowed in a worksheet")

    def _start(self, name: str, attrs: dict[str, str]) -> None:
        tag = name.rpartition(" ")[2]
        if tag == "c":
            ref = attrs.get("r")
            self.col = _column_index(ref) if ref else self.col + 1
            self.ctype = attrs.get("t", "n")
            style = attrs.get("s")
            self.style = int(style) if style else 0
            self.value_parts = []
            self.inline_parts = []
            self.has_value = False
        elif tag == "v":
            self.has_value = True
            self.text = self.value_parts
        elif tag == "t":
            if self.in_is and not self.in_phonetic:
                self.text = self.inline_parts
        elif tag == "is":
            self.in_is = True
            self.has_value = True
        elif tag == "rPh":
            self.in_phonetic = True
        elif tag == "row":
            ref = attrs.get("r")
            if ref:
                number = float(ref)
                if not number.is_integer():
                    raise ValueError(ref)
                self.row_number = int(number)
            else:
                self.row_number += 1
            self.cells = []
            self.col = 0

    def _chars(self, data: str) -> None:
        if self.text is not None:
            self.text.append(data)

    def _end(self, name: str) -> None:
        tag = name.rpartition(" ")[2]
        if tag in ("v", "t"):
            self.text = None
        elif tag == "c":
            if self.col <= MAX_COLUMNS and self.has_value:
                value = self._value()
                if value is not None:
                    self.cells.append((self.col, value))
        elif tag == "is":
            self.in_is = False
        elif tag == "rPh":
            self.in_phonetic = False
        elif tag == "row":
            width = max((c for c, _v in self.cells), default=0)
            values: list[Any] = [None] * width
            for column, value in self.cells:
                values[column - 1] = value
            self.out.append((self.row_number, values))

    def _value(self) -> Any:
        kind = self.ctype
        if kind == "inlineStr":
            return "".join(self.inline_parts) or None
        text = "".join(self.value_parts)
        if not text:
            return None
        if kind == "n":
            value: Any = float(text) if ("." in text or "E" in text or "e" in text) else int(text)
            if self.style in self.date_formats:
                from openpyxl.utils.datetime import from_excel

                try:
                    return from_excel(
                        value, self.epoch, timedelta=self.style in self.timedelta_formats
                    )
                except (OverflowError, ValueError):
                    return "#VALUE!"
            return value
        if kind == "s":
            return self.shared[int(text)]
        if kind == "b":
            return bool(int(text))
        if kind == "d":
            from openpyxl.utils.datetime import from_ISO8601

            return from_ISO8601(text)
        return text  # "str" (a formula's text result), "e" (an error such as #N/A)


def _open_xlsx(data: bytes, filename: str) -> Table:
    _check_zip(data)
    try:
        wb = _load_workbook(data)
    except ReadError:
        raise
    except Exception as exc:
        raise ReadError(
            _("This .xlsx file is damaged or incomplete: save it again in Excel and retry.")
        ) from exc
    try:
        best: tuple[int, Table] | None = None
        for ws in wb.worksheets[:MAX_SHEETS_SCANNED]:
            if not hasattr(ws, "_get_source"):
                continue  # chartsheets (not made by _load_workbook, but be sure)
            head = list(_sheet_rows(ws, max_row=HEADER_SCAN_ROWS))
            found = _find_header(head)
            if found is None or (best is not None and found[2] <= best[0]):
                continue
            try:
                table = _build_table(
                    head,
                    format="xlsx",
                    filename=filename,
                    encoding=None,
                    delimiter=None,
                    sheet_name=ws.title,
                    _data=data,
                )
            except ReadError:
                continue
            best = (found[2], table)
    finally:
        wb.close()
    if best is None:
        raise _no_header_error()
    return best[1]


def _xlsx_rows(data: bytes, sheet_name: str | None) -> Iterator[tuple[int, list[Any]]]:
    try:
        wb = _load_workbook(data)
    except Exception as exc:
        raise ReadError(
            _("This .xlsx file is damaged or incomplete: save it again in Excel and retry.")
        ) from exc
    try:
        ws = wb[sheet_name] if sheet_name in wb.sheetnames else wb.worksheets[0]
        rows = _sheet_rows(ws)
        last = 0
        while True:
            try:
                item = next(rows)
            except StopIteration:
                return
            except Exception as exc:
                raise ReadError(
                    _(
                        "This .xlsx file is damaged after row %(row)s: save it again in Excel "
                        "and retry.",
                        row=last,
                    )
                ) from exc
            last = item[0]
            yield item
    finally:
        wb.close()


# --------------------------------------------------------------------------------------------
# csv

DELIMITERS = (";", ",", "\t")
_LONG_LINE = re.compile(rb"[^\r\n]{%d}" % MAX_LINE_CHARS)


def _detect_encoding(data: bytes) -> str:
    if data.startswith(codecs.BOM_UTF8):
        encoding = "utf-8-sig"
    elif data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        encoding = "utf-16"
    else:
        if b"\x00" in data:
            raise _not_a_spreadsheet()
        encoding = "utf-8" if _decodes(data, "utf-8") else "cp1252"
    if not _decodes(data, encoding):
        raise ReadError(
            _(
                "The text encoding of this file was not recognised: save it from Excel as "
                '"CSV UTF-8" or as .xlsx.'
            )
        )
    return encoding


def _decodes(data: bytes, encoding: str) -> bool:
    decoder = codecs.getincrementaldecoder(encoding)("strict")
    try:
        for start in range(0, len(data), 1 << 20):
            chunk = decoder.decode(data[start : start + (1 << 20)], final=False)
            if "\x00" in chunk:
                return False
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def _not_a_spreadsheet() -> ReadError:
    return ReadError(_("This file is not a spreadsheet: upload the register as .xlsx or .csv."))


def _csv_records(data: bytes, encoding: str, delimiter: str) -> Iterator[list[str]]:
    text = io.TextIOWrapper(io.BytesIO(data), encoding=encoding, newline="")
    return csv.reader(text, delimiter=delimiter, quotechar='"', strict=False)


def _csv_rows(data: bytes, encoding: str, delimiter: str) -> Iterator[tuple[int, list[Any]]]:
    records = _csv_records(data, encoding, delimiter)
    number = 0
    while True:
        try:
            record = next(records)
        except StopIteration:
            return
        except (csv.Error, UnicodeDecodeError, ValueError) as exc:
            raise ReadError(
                _(
                    "The CSV file is damaged after row %(row)s: save it again from Excel and "
                    "retry.",
                    row=number,
                )
            ) from exc
        number += 1
        yield number, record[:MAX_COLUMNS]


def _open_csv(data: bytes, filename: str) -> Table:
    encoding = _detect_encoding(data)
    if encoding != "utf-16" and _LONG_LINE.search(data):
        raise _not_a_spreadsheet()
    best: tuple[tuple[int, int], str, list[tuple[int, list[Any]]]] | None = None
    for delimiter in DELIMITERS:
        try:
            head = list(itertools.islice(_csv_rows(data, encoding, delimiter), HEADER_SCAN_ROWS))
        except ReadError:
            continue
        found = _find_header(head)
        if found is None:
            continue
        # Most recognised headers wins; ties go to the delimiter that splits the header row most.
        rank = (found[2], len(found[1]))
        if best is None or rank > best[0]:
            best = (rank, delimiter, head)
    if best is None:
        raise _no_header_error()
    _rank, delimiter, head = best
    return _build_table(
        head,
        format="csv",
        filename=filename,
        encoding=encoding,
        delimiter=delimiter,
        sheet_name=None,
        _data=data,
    )
