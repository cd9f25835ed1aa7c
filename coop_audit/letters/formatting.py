"""Indonesian formatting for official letters: dates, NIP, numbers, letter numbers, diktum."""

from __future__ import annotations

import string
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal

from flask_babel import gettext as _

from coop_audit.timeutil import to_local

MONTHS = (
    "Januari",
    "Februari",
    "Maret",
    "April",
    "Mei",
    "Juni",
    "Juli",
    "Agustus",
    "September",
    "Oktober",
    "November",
    "Desember",
)

_UNITS = (
    "",
    "satu",
    "dua",
    "tiga",
    "empat",
    "lima",
    "enam",
    "tujuh",
    "delapan",
    "sembilan",
    "sepuluh",
    "sebelas",
)

NUMBER_PLACEHOLDERS = frozenset({"code", "seq", "unit", "year"})


def tanggal(d: date) -> str:
    """'3 Desember 2026'; an aware datetime is first converted to Asia/Jakarta."""
    if isinstance(d, datetime):
        d = to_local(d).date()
    return f"{d.day} {MONTHS[d.month - 1]} {d.year}"


def clause(text: str) -> str:
    """Text joined into a sentence ('1) ...; 2) ...;'): without its own closing punctuation."""
    return text.strip().rstrip(".;:, ").strip()


def nip_grouped(nip: str) -> str:
    """An 18-digit NIP grouped '19700101 199503 1 001'; anything else is returned stripped."""
    digits = "".join(nip.split())
    if len(digits) != 18 or not digits.isdigit():
        return nip.strip()
    return f"{digits[:8]} {digits[8:14]} {digits[14]} {digits[15:]}"


def angka(n: int) -> str:
    """Thousands separated by dots: 1163 -> '1.163'."""
    return f"{int(n):,}".replace(",", ".")


def rupiah(amount: int | float | Decimal) -> str:
    """'Rp12.500.000,00' (dots for thousands, comma for decimals, rounded half up)."""
    value = Decimal(str(amount)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    sign = "-" if value < 0 else ""
    whole, _sep, cents = f"{abs(value):.2f}".partition(".")
    return f"{sign}Rp{angka(int(whole))},{cents}"


def kata_bilangan(n: int) -> str:
    """Indonesian words for 1..999: 2 -> 'dua', 21 -> 'dua puluh satu'."""
    if not 1 <= n <= 999:
        raise ValueError(_("Number out of range: %(n)s", n=n))
    if n < 12:
        return _UNITS[n]
    if n < 20:
        return f"{_UNITS[n - 10]} belas"
    if n < 100:
        tens, rest = divmod(n, 10)
        return f"{_UNITS[tens]} puluh" + (f" {_UNITS[rest]}" if rest else "")
    hundreds, rest = divmod(n, 100)
    head = "seratus" if hundreds == 1 else f"{_UNITS[hundreds]} ratus"
    return head + (f" {kata_bilangan(rest)}" if rest else "")


def ordinal_diktum(n: int) -> str:
    """Diktum label of a decision: 1 -> 'KESATU', 2 -> 'KEDUA', 12 -> 'KEDUA BELAS'."""
    if n == 1:
        return "KESATU"
    return f"KE{kata_bilangan(n)}".upper()


def letter_number(pattern: str, code: str, seq: int, unit: str, year: int) -> str:
    """Fill a number pattern such as '{code}/{seq}/{unit}/{year}'.

    Only the four placeholders are allowed (format specs like '{seq:03d}' are fine); anything
    else, including attribute or index access, raises ValueError naming the placeholder.
    """
    for _literal, field, _spec, _conv in string.Formatter().parse(pattern):
        if field is not None and field not in NUMBER_PLACEHOLDERS:
            raise ValueError(
                _(
                    "Unknown placeholder {%(name)s} in the letter number pattern.",
                    name=field,
                )
            )
    return pattern.format(code=code, seq=seq, unit=unit, year=year)
