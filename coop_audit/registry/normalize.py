"""Turn one raw register row into clean values plus messages a clerk understands.

Pure module: a :class:`RawRow` (from ``reader.py``) in, a :class:`ParsedRow` out. An ``error``
message rejects the row; a ``warning`` keeps it but tells the clerk what was changed or doubted.
Message field names follow the register's own vocabulary (``nama``, ``tgl_bh``, ``desa`` ...).
"""

from __future__ import annotations

import math
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any, Literal

from flask_babel import gettext as _

from coop_audit import geo
from coop_audit.registry.reader import RawRow
from coop_audit.timeutil import local_today

# Canonical raw field -> field name used in messages.
MESSAGE_FIELDS: dict[str, str] = {
    "name": "nama",
    "jenis": "jenis",
    "kelompok": "kelompok",
    "bentuk": "bentuk",
    "bh_number": "no_bh",
    "bh_date": "tgl_bh",
    "nik": "nik",
    "street": "alamat",
    "rt": "rt",
    "rw": "rw",
    "rt_rw": "rt",
    "desa": "desa",
    "kecamatan": "kecamatan",
    "chair_name": "ketua",
    "chair_phone": "hp",
    "member_count": "anggota",
    "last_rat_year": "rat",
    "cluster_name": "klaster",
    "kbli": "kbli",
    "products": "produk",
    "lat": "lat",
    "lng": "lng",
    "status": "keterangan",
}

JENIS_LABELS = {
    "simpan_pinjam": "Simpan Pinjam",
    "konsumen": "Konsumen",
    "produsen": "Produsen",
    "pemasaran": "Pemasaran",
    "jasa": "Jasa",
}
_JENIS_SYNONYMS = {
    "simpanpinjam": "simpan_pinjam",
    "simpandanpinjam": "simpan_pinjam",
    "ksp": "simpan_pinjam",
    "usp": "simpan_pinjam",
    "kspps": "simpan_pinjam",
    "simpanpinjamdanpembiayaansyariah": "simpan_pinjam",
    "konsumen": "konsumen",
    "konsumsi": "konsumen",
    "produsen": "produsen",
    "produksi": "produsen",
    "pemasaran": "pemasaran",
    "jasa": "jasa",
}
_INACTIVE = {"tidakaktif", "nonaktif", "matisuri", "pasif", "tidakaktifmatisuri"}
_ACTIVE = {"aktif"}

TEXT_MAX = 255

Level = Literal["error", "warning"]


@dataclass(frozen=True)
class Message:
    field: str
    level: Level
    text: str

    def as_dict(self) -> dict[str, str]:
        return {"field": self.field, "level": self.level, "text": self.text}


@dataclass
class ParsedRow:
    row_number: int
    values: dict[str, Any]
    messages: list[Message] = field(default_factory=list)
    original: list[Any] = field(default_factory=list, repr=False)

    @property
    def rejected(self) -> bool:
        return any(m.level == "error" for m in self.messages)

    @property
    def errors(self) -> list[Message]:
        return [m for m in self.messages if m.level == "error"]

    @property
    def warnings(self) -> list[Message]:
        return [m for m in self.messages if m.level == "warning"]


VALUE_KEYS = (
    "name",
    "jenis",
    "kelompok",
    "bentuk",
    "bh_number",
    "bh_date",
    "nik",
    "street",
    "rt",
    "rw",
    "desa_kode",
    "kecamatan_kode",
    "lat",
    "lng",
    "chair_name",
    "chair_phone",
    "member_count",
    "last_rat_year",
    "cluster_name",
    "kbli",
    "products",
    "inactive",
)


# --------------------------------------------------------------------------------------------
# Small helpers

_WS = re.compile(r"\s+")
_E_NOTATION = re.compile(r"^[+-]?\d+(?:[.,]\d+)?[eE][+-]?\d+$")
_APOSTROPHES = str.maketrans({"\u2019": "", "\u2018": "", "'": "", "`": "", "\u00b4": ""})
_NON_WORD = re.compile(r"[^\w]+")


def clean_text(value: Any) -> str:
    """A cell as text: whitespace (including non-breaking spaces) collapsed and trimmed."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value).upper()
    if isinstance(value, float):
        if math.isfinite(value) and value.is_integer():
            return str(int(value))
        return repr(value)
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time() else value.isoformat(" ")
    if isinstance(value, date | time):
        return value.isoformat()
    return _WS.sub(" ", str(value)).strip()


def name_key(name: str | None) -> str:
    """Matching key for a cooperative's name: lowercase, no punctuation, single spaces."""
    text = unicodedata.normalize("NFKC", name or "").lower().translate(_APOSTROPHES)
    return " ".join(_NON_WORD.sub(" ", text).replace("_", " ").split())


def _is_number_cell(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _short(value: Any) -> str:
    text = clean_text(value)
    return text if len(text) <= 60 else text[:57] + "..."


class _Row:
    """Collects messages for one row while the fields are parsed."""

    def __init__(self, raw: RawRow):
        self.raw = raw
        self.messages: list[Message] = []

    def cell(self, canonical: str) -> Any:
        return self.raw.cells.get(canonical)

    def text(self, canonical: str) -> str:
        return clean_text(self.cell(canonical))

    def label(self, canonical: str) -> str:
        return self.raw.label(canonical)

    def error(self, canonical: str, text: str) -> None:
        self.messages.append(Message(MESSAGE_FIELDS.get(canonical, canonical), "error", text))

    def warn(self, canonical: str, text: str) -> None:
        self.messages.append(Message(MESSAGE_FIELDS.get(canonical, canonical), "warning", text))

    def optional_text(self, canonical: str) -> str | None:
        text = self.text(canonical)
        if len(text) > TEXT_MAX:
            self.error(
                canonical,
                _(
                    "%(column)s: the text is longer than %(max)s characters.",
                    column=self.label(canonical),
                    max=TEXT_MAX,
                ),
            )
            return None
        return text or None

    def digits_lost(self, canonical: str) -> None:
        self.error(
            canonical,
            _(
                "%(column)s: %(value)s was stored as a number, so Excel has lost digits. Format "
                "the column as Text and type the numbers again.",
                column=self.label(canonical),
                value=_short(self.cell(canonical)),
            ),
        )


# --------------------------------------------------------------------------------------------
# Field parsers


def _parse_jenis(row: _Row) -> str | None:
    text = row.text("jenis")
    if not text:
        row.error("jenis", _("%(column)s is missing.", column=row.label("jenis")))
        return None
    key = name_key(text).replace(" ", "")
    key = key.removeprefix("koperasi") or key
    jenis = _JENIS_SYNONYMS.get(key)
    if jenis is None:
        row.error(
            "jenis",
            _(
                '%(column)s: "%(value)s" is not one of Simpan Pinjam, Konsumen, Produsen, '
                "Pemasaran, Jasa.",
                column=row.label("jenis"),
                value=_short(text),
            ),
        )
    return jenis


def _parse_bentuk(row: _Row) -> str:
    key = name_key(row.text("bentuk"))
    if not key:
        return "primer"
    if "sekunder" in key:
        return "sekunder"
    if "primer" in key:
        return "primer"
    row.error(
        "bentuk",
        _(
            '%(column)s: "%(value)s" should be Primer or Sekunder.',
            column=row.label("bentuk"),
            value=_short(row.cell("bentuk")),
        ),
    )
    return "primer"


def _parse_id_text(row: _Row, canonical: str) -> str | None:
    """BH number: free text, but never a number cell or E-notation (digits lost)."""
    value = row.cell(canonical)
    if _is_number_cell(value) or _E_NOTATION.match(clean_text(value)):
        row.digits_lost(canonical)
        return None
    return row.optional_text(canonical)


def _parse_nik(row: _Row) -> str | None:
    value = row.cell("nik")
    text = clean_text(value)
    if not text:
        return None
    if _is_number_cell(value) or _E_NOTATION.match(text):
        row.digits_lost("nik")
        return None
    digits = re.sub(r"[\s.\-]", "", text)
    if not digits.isdigit() or not digits.isascii() or len(digits) > 30:
        row.error(
            "nik",
            _(
                "%(column)s: %(value)s must contain only digits.",
                column=row.label("nik"),
                value=_short(text),
            ),
        )
        return None
    return digits


_MONTHS = {
    "jan": 1, "januari": 1, "january": 1,
    "feb": 2, "februari": 2, "pebruari": 2, "february": 2,
    "mar": 3, "maret": 3, "march": 3,
    "apr": 4, "april": 4,
    "mei": 5, "may": 5,
    "jun": 6, "juni": 6, "june": 6,
    "jul": 7, "juli": 7, "july": 7,
    "agu": 8, "agt": 8, "agus": 8, "agustus": 8, "aug": 8, "august": 8,
    "sep": 9, "sept": 9, "september": 9,
    "okt": 10, "oktober": 10, "oct": 10, "october": 10,
    "nov": 11, "nopember": 11, "november": 11,
    "des": 12, "desember": 12, "dec": 12, "december": 12,
}  # fmt: skip
_DMY = re.compile(r"^(\d{1,2})[/\-.](\d{1,2})[/\-.](\d{4})$")
_ISO = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})(?:[ T]00:00(?::00(?:\.0+)?)?)?$")
_D_MONTH_Y = re.compile(r"^(\d{1,2})[\s\-/.]+([A-Za-z]+)[\s\-/.]+(\d{4})$")
EXCEL_EPOCH = date(1899, 12, 30)
# Excel serial numbers accepted as dates: 1 January 1945 .. 31 December 2100.
SERIAL_MIN = (date(1945, 1, 1) - EXCEL_EPOCH).days
SERIAL_MAX = (date(2100, 12, 31) - EXCEL_EPOCH).days


def parse_date(value: Any) -> date | None:
    """A date from a date cell, dd/mm/yyyy, d-m-yyyy, ISO, '16 Maret 2013' or an Excel serial.

    Returns None for an empty cell; raises ValueError when the value is not a valid date.
    """
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, bool | time):
        raise ValueError(value)
    if isinstance(value, int | float):
        return _from_serial(value)
    text = clean_text(value)
    if not text:
        return None
    try:
        if m := _DMY.match(text):
            return date(int(m[3]), int(m[2]), int(m[1]))
        if m := _ISO.match(text):
            return date(int(m[1]), int(m[2]), int(m[3]))
        if (m := _D_MONTH_Y.match(text)) and m[2].lower() in _MONTHS:
            return date(int(m[3]), _MONTHS[m[2].lower()], int(m[1]))
    except (ValueError, OverflowError) as exc:
        raise ValueError(text) from exc
    if re.fullmatch(r"\d{5}(?:[.,]0+)?", text):
        return _from_serial(int(re.split(r"[.,]", text)[0]))
    raise ValueError(text)


def _from_serial(value: float) -> date:
    if not (math.isfinite(value) and SERIAL_MIN <= value <= SERIAL_MAX + 1):
        raise ValueError(value)
    return EXCEL_EPOCH + timedelta(days=int(value))


def _parse_bh_date(row: _Row, today: date) -> date | None:
    value = row.cell("bh_date")
    try:
        parsed = parse_date(value)
    except ValueError:
        row.error(
            "bh_date",
            _(
                "%(column)s: %(value)s is not a valid date",
                column=row.label("bh_date"),
                value=_short(value),
            ),
        )
        return None
    if parsed is not None and not (date(1900, 1, 1) <= parsed <= today):
        row.error(
            "bh_date",
            _(
                "%(column)s: %(value)s is not a plausible date (in the future or before 1900).",
                column=row.label("bh_date"),
                value=parsed.strftime("%d/%m/%Y"),
            ),
        )
        return None
    return parsed


_RT_PREFIX = re.compile(r"^(?:rt|rw)\s*\.?\s*", re.IGNORECASE)


def _parse_rt_rw_part(row: _Row, canonical: str, value: Any, label: str) -> str | None:
    if _is_number_cell(value):
        if not (math.isfinite(value) and float(value).is_integer()):
            text = clean_text(value)
        else:
            text = str(int(value))
    else:
        text = _RT_PREFIX.sub("", clean_text(value))
    if not text:
        return None
    if not (text.isdigit() and text.isascii()) or not (1 <= int(text) <= 999):
        row.error(
            canonical,
            _(
                "%(column)s: %(value)s should be a number from 1 to 999.",
                column=label,
                value=_short(value),
            ),
        )
        return None
    return f"{int(text):03d}"


def _parse_rt_rw(row: _Row) -> tuple[str | None, str | None]:
    rt = _parse_rt_rw_part(row, "rt", row.cell("rt"), row.label("rt"))
    rw = _parse_rt_rw_part(row, "rw", row.cell("rw"), row.label("rw"))
    combined = row.text("rt_rw")
    if combined and (rt is None or rw is None):
        parts = re.split(r"\s*[/\\\-]\s*", combined)
        if len(parts) != 2:
            row.error(
                "rt_rw",
                _(
                    "%(column)s: %(value)s should be written as RT/RW, e.g. 003/012.",
                    column=row.label("rt_rw"),
                    value=_short(combined),
                ),
            )
        else:
            label = row.label("rt_rw")
            rt = rt or _parse_rt_rw_part(row, "rt", parts[0], label)
            rw = rw or _parse_rt_rw_part(row, "rw", parts[1], label)
    return rt, rw


def _parse_place(row: _Row, regions: geo.Regions) -> tuple[geo.Area | None, geo.Area | None]:
    """(kecamatan, village), each resolved or None, with messages."""
    kec_text = row.text("kecamatan")
    desa_text = row.text("desa")
    kecamatan = regions.find_kecamatan(kec_text) if kec_text else None
    if kec_text and kecamatan is None:
        row.error(
            "kecamatan",
            _(
                '%(column)s: "%(value)s" is not a kecamatan of Kabupaten Karanganyar.',
                column=row.label("kecamatan"),
                value=_short(kec_text),
            ),
        )
        return None, None
    if not desa_text:
        row.warn(
            "desa",
            _("%(column)s is empty: the cooperative has no village.", column=row.label("desa")),
        )
        return kecamatan, None
    if kecamatan is None:
        candidates = regions.villages_named(desa_text)
        if len(candidates) == 1:
            village = candidates[0]
            kecamatan = regions.kecamatan[village.kecamatan_kode]
            row.warn(
                "kecamatan",
                _(
                    "%(column)s is empty: kecamatan %(kecamatan)s was taken from the village.",
                    column=row.label("kecamatan"),
                    kecamatan=kecamatan.nama,
                ),
            )
            return kecamatan, village
        if candidates:
            names = ", ".join(sorted(regions.kecamatan[v.kecamatan_kode].nama for v in candidates))
            row.error(
                "kecamatan",
                _(
                    "%(column)s is empty and %(village)s exists in several kecamatan "
                    "(%(names)s): fill in the kecamatan.",
                    column=row.label("kecamatan"),
                    village=_short(desa_text),
                    names=names,
                ),
            )
        else:
            row.error(
                "desa",
                _(
                    '%(column)s: "%(value)s" is not a village of Kabupaten Karanganyar.',
                    column=row.label("desa"),
                    value=_short(desa_text),
                ),
            )
        return None, None
    village = regions.find_village(kecamatan.kode, desa_text)
    if village is not None:
        return kecamatan, village
    elsewhere = regions.villages_named(desa_text)
    if elsewhere:
        names = ", ".join(sorted(regions.kecamatan[v.kecamatan_kode].nama for v in elsewhere))
        row.error(
            "desa",
            _(
                "%(village)s is not in kecamatan %(kecamatan)s (it is in %(names)s).",
                village=elsewhere[0].nama,
                kecamatan=kecamatan.nama,
                names=names,
            ),
        )
    else:
        row.error(
            "desa",
            _(
                '%(column)s: "%(value)s" is not a village of kecamatan %(kecamatan)s.',
                column=row.label("desa"),
                value=_short(desa_text),
                kecamatan=kecamatan.nama,
            ),
        )
    return kecamatan, None


_DECIMAL = re.compile(r"^[+-]?\d{1,3}(?:\.\d+)?$")


def _parse_coordinate(row: _Row, canonical: str) -> float | None:
    value = row.cell(canonical)
    if _is_number_cell(value):
        number = float(value)
    else:
        text = clean_text(value).replace("\u2212", "-").replace(" ", "")
        if not text:
            return None
        if "," in text and "." not in text and text.count(",") == 1:
            text = text.replace(",", ".")
        number = float(text) if _DECIMAL.match(text) else math.nan
    if not math.isfinite(number) or abs(number) > 180:
        row.error(
            canonical,
            _(
                "%(column)s: %(value)s is not a coordinate in decimal degrees.",
                column=row.label(canonical),
                value=_short(value),
            ),
        )
        return None
    return number


def in_karanganyar(regions: geo.Regions, lat: float, lng: float) -> bool:
    """Inside the regency: its outline is coarse, so a point inside any village also counts."""
    return regions.in_regency(lat, lng) or regions.village_at(lat, lng) is not None


def _parse_location(
    row: _Row, regions: geo.Regions, village: geo.Area | None
) -> tuple[float | None, float | None]:
    lat = _parse_coordinate(row, "lat")
    lng = _parse_coordinate(row, "lng")
    if lat is None and lng is None:
        return None, None
    if lat is None or lng is None:
        if row.text("lat") and row.text("lng"):
            return None, None  # already reported as not a number
        row.error(
            "lat",
            _(
                "%(lat)s and %(lng)s must both be filled in, or both left empty.",
                lat=row.label("lat"),
                lng=row.label("lng"),
            ),
        )
        return None, None
    if lat == 0 and lng == 0:
        row.warn("lat", _("The coordinates 0, 0 were treated as empty."))
        return None, None
    if not in_karanganyar(regions, lat, lng):
        if in_karanganyar(regions, lng, lat):
            row.warn(
                "lat",
                _(
                    "%(lat)s and %(lng)s were swapped; they have been exchanged.",
                    lat=row.label("lat"),
                    lng=row.label("lng"),
                ),
            )
            lat, lng = lng, lat
        elif in_karanganyar(regions, -lat, lng):
            row.warn(
                "lat",
                _(
                    "%(lat)s %(value)s had lost its minus sign; it has been corrected.",
                    lat=row.label("lat"),
                    value=clean_text(lat),
                ),
            )
            lat = -lat
        else:
            row.error(
                "lat",
                _(
                    "The point %(lat)s, %(lng)s is outside Kabupaten Karanganyar.",
                    lat=clean_text(lat),
                    lng=clean_text(lng),
                ),
            )
            return None, None
    if village is not None and not village.contains(lat, lng):
        actual = regions.village_at(lat, lng)
        if actual is not None:
            row.warn(
                "lat",
                _(
                    "The point lies in %(actual)s, not in %(village)s: check the coordinates or "
                    "the village.",
                    actual=actual.nama,
                    village=village.nama,
                ),
            )
        else:
            row.warn(
                "lat",
                _(
                    "The point is outside village %(village)s: check the coordinates or the "
                    "village.",
                    village=village.nama,
                ),
            )
    return lat, lng


def _parse_phone(row: _Row) -> str | None:
    value = row.cell("chair_phone")
    label = row.label("chair_phone")
    if _is_number_cell(value):
        # A phone number fits a spreadsheet number exactly; only the leading 0 is lost.
        if not (math.isfinite(value) and float(value).is_integer() and value > 0):
            row.digits_lost("chair_phone")
            return None
        text = str(int(value))
    else:
        text = clean_text(value)
        if not text:
            return None
        if _E_NOTATION.match(text):
            row.digits_lost("chair_phone")
            return None
    first, *others = re.split(r"\s*[/,;]\s*|\s+(?:atau|dan)\s+", text)
    if others:
        row.warn(
            "chair_phone",
            _(
                "%(column)s: only the first number of %(value)s was kept.",
                column=label,
                value=_short(text),
            ),
        )
    digits = re.sub(r"[\s.\-()]", "", first)
    if digits.startswith("+62"):
        digits = "0" + digits[3:]
    elif digits.startswith("62") and len(digits) >= 10:
        digits = "0" + digits[2:]
        row.warn("chair_phone", _("%(column)s: 62 was replaced by 0.", column=label))
    elif digits.startswith("8") and digits.isdigit():
        digits = "0" + digits
        row.warn(
            "chair_phone",
            _(
                "%(column)s: %(value)s had lost its leading 0; it is now %(fixed)s.",
                column=label,
                value=_short(first),
                fixed=digits,
            ),
        )
    if not (digits.isdigit() and digits.isascii()):
        row.error(
            "chair_phone",
            _("%(column)s: %(value)s is not a phone number.", column=label, value=_short(text)),
        )
        return None
    if not 8 <= len(digits) <= 15:
        row.warn(
            "chair_phone",
            _(
                "%(column)s: %(value)s does not have the length of a phone number.",
                column=label,
                value=digits,
            ),
        )
    return digits


_GROUPED = re.compile(r"^\d{1,3}(?:([.,])\d{3})(?:\1\d{3})*$")


def _parse_count(row: _Row) -> int | None:
    value = row.cell("member_count")
    label = row.label("member_count")
    number: int | None = None
    if _is_number_cell(value):
        if math.isfinite(value) and float(value).is_integer():
            number = int(value)
    else:
        text = re.sub(r"\s*orang$", "", clean_text(value), flags=re.IGNORECASE)
        if not text:
            return None
        if text.isdigit() and text.isascii():
            number = int(text)
        elif _GROUPED.match(text):
            number = int(re.sub(r"[.,]", "", text))
    if number is None or not 0 <= number <= 10_000_000:
        row.error(
            "member_count",
            _(
                "%(column)s: %(value)s is not a whole number of members.",
                column=label,
                value=_short(value),
            ),
        )
        return None
    return number


def _parse_rat_year(row: _Row, today: date) -> int | None:
    value = row.cell("last_rat_year")
    label = row.label("last_rat_year")
    year: int | None = None
    if isinstance(value, datetime | date):
        year = value.year
    elif _is_number_cell(value):
        if math.isfinite(value) and float(value).is_integer():
            year = int(value)
    else:
        text = clean_text(value)
        if not text:
            return None
        if re.fullmatch(r"\d{4}", text):
            year = int(text)
        else:
            try:
                parsed = parse_date(text)
            except ValueError:
                parsed = None
            year = parsed.year if parsed else None
    if year is None or not 1945 <= year <= today.year + 1:
        row.error(
            "last_rat_year",
            _(
                "%(column)s: %(value)s is not a year between 1945 and %(max)s.",
                column=label,
                value=_short(value),
                max=today.year + 1,
            ),
        )
        return None
    return year


def _parse_kbli(row: _Row) -> str | None:
    value = row.cell("kbli")
    if _is_number_cell(value) and math.isfinite(value) and float(value).is_integer():
        text = str(int(value))
        if len(text) < 5:
            row.warn(
                "kbli",
                _(
                    "%(column)s: %(value)s was stored as a number; it is read as %(fixed)s.",
                    column=row.label("kbli"),
                    value=text,
                    fixed=text.zfill(5),
                ),
            )
            return text.zfill(5)
        return text
    return row.optional_text("kbli")


def _parse_inactive(row: _Row) -> bool | None:
    text = row.text("status")
    if not text:
        return None
    key = name_key(text).replace(" ", "")
    if key in _INACTIVE or key.startswith(("tidakaktif", "nonaktif", "matisuri")):
        return True
    if key in _ACTIVE:
        return False
    row.warn(
        "status",
        _(
            '%(column)s: "%(value)s" was not understood as Aktif or Tidak Aktif; it is ignored.',
            column=row.label("status"),
            value=_short(text),
        ),
    )
    return None


# --------------------------------------------------------------------------------------------


def normalize_row(
    raw: RawRow, regions: geo.Regions | None = None, today: date | None = None
) -> ParsedRow:
    """Clean values and messages for one register row (never raises for any cell values)."""
    regions = regions or geo.regions()
    today = today or local_today()
    row = _Row(raw)
    values: dict[str, Any] = dict.fromkeys(VALUE_KEYS)

    name = row.optional_text("name")
    if not name and not row.messages:
        row.error("name", _("%(column)s is missing.", column=row.label("name")))
    values["name"] = name
    values["jenis"] = _parse_jenis(row)
    values["kelompok"] = row.optional_text("kelompok")
    values["bentuk"] = _parse_bentuk(row)
    values["bh_number"] = _parse_id_text(row, "bh_number")
    values["bh_date"] = _parse_bh_date(row, today)
    values["nik"] = _parse_nik(row)
    values["street"] = row.optional_text("street")
    values["rt"], values["rw"] = _parse_rt_rw(row)
    kecamatan, village = _parse_place(row, regions)
    values["kecamatan_kode"] = kecamatan.kode if kecamatan else None
    values["desa_kode"] = village.kode if village else None
    values["lat"], values["lng"] = _parse_location(row, regions, village)
    values["chair_name"] = row.optional_text("chair_name")
    values["chair_phone"] = _parse_phone(row)
    values["member_count"] = _parse_count(row)
    values["last_rat_year"] = _parse_rat_year(row, today)
    values["cluster_name"] = row.optional_text("cluster_name")
    values["kbli"] = _parse_kbli(row)
    values["products"] = row.optional_text("products")
    values["inactive"] = _parse_inactive(row)
    return ParsedRow(
        row_number=raw.row_number, values=values, messages=row.messages, original=raw.original
    )


def find_duplicates(rows: list[ParsedRow]) -> dict[int, int]:
    """Rows that repeat an earlier row of the same file: {row_number: first row_number}.

    Same BH number (compared ignoring case and spaces), or the same normalised name in the
    same village. Rejected rows are not considered: they will not be imported.
    """
    first_by_bh: dict[str, int] = {}
    first_by_name: dict[tuple[str, str], int] = {}
    duplicates: dict[int, int] = {}
    for parsed in rows:
        if parsed.rejected:
            continue
        keys: list[tuple[dict, Any]] = []
        bh = parsed.values.get("bh_number")
        if bh:
            keys.append((first_by_bh, "".join(bh.split()).upper()))
        name = name_key(parsed.values.get("name"))
        desa = parsed.values.get("desa_kode")
        if name and desa:
            keys.append((first_by_name, (name, desa)))
        first = next((index[key] for index, key in keys if key in index), None)
        if first is not None:
            duplicates[parsed.row_number] = first
            continue
        for index, key in keys:
            index[key] = parsed.row_number
    return duplicates
