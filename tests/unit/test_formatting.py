from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from coop_audit.letters.formatting import (
    angka,
    kata_bilangan,
    letter_number,
    nip_grouped,
    ordinal_diktum,
    rupiah,
    tanggal,
)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (date(2026, 12, 3), "3 Desember 2026"),
        (date(2027, 1, 31), "31 Januari 2027"),
        (date(2026, 8, 17), "17 Agustus 2026"),
    ],
)
def test_tanggal_writes_indonesian_month_names(value, expected):
    assert tanggal(value) == expected


def test_tanggal_converts_an_aware_datetime_to_the_jakarta_date():
    # 18:30 UTC on 2 December is already 3 December in Jakarta (UTC+7).
    assert tanggal(datetime(2026, 12, 2, 18, 30, tzinfo=UTC)) == "3 Desember 2026"


@pytest.mark.parametrize(
    ("nip", "expected"),
    [
        ("197001011995031001", "19700101 199503 1 001"),
        (" 19700101 199503 1 001 ", "19700101 199503 1 001"),
        ("12345", "12345"),
        ("19700101199503100X", "19700101199503100X"),
    ],
)
def test_nip_is_grouped_only_when_it_has_18_digits(nip, expected):
    assert nip_grouped(nip) == expected


@pytest.mark.parametrize(
    ("n", "expected"),
    [(0, "0"), (999, "999"), (1163, "1.163"), (200000, "200.000"), (-1163, "-1.163")],
)
def test_angka_separates_thousands_with_dots(n, expected):
    assert angka(n) == expected


@pytest.mark.parametrize(
    ("amount", "expected"),
    [
        (12500000, "Rp12.500.000,00"),
        (0, "Rp0,00"),
        (Decimal("1234.565"), "Rp1.234,57"),
        (750.5, "Rp750,50"),
        (-1000, "-Rp1.000,00"),
    ],
)
def test_rupiah_uses_comma_decimals(amount, expected):
    assert rupiah(amount) == expected


@pytest.mark.parametrize(
    ("n", "expected"),
    [
        (1, "KESATU"),
        (2, "KEDUA"),
        (3, "KETIGA"),
        (4, "KEEMPAT"),
        (9, "KESEMBILAN"),
        (10, "KESEPULUH"),
        (11, "KESEBELAS"),
        (12, "KEDUA BELAS"),
        (20, "KEDUA PULUH"),
        (21, "KEDUA PULUH SATU"),
    ],
)
def test_ordinal_diktum(n, expected):
    assert ordinal_diktum(n) == expected


@pytest.mark.parametrize(
    ("n", "expected"), [(2, "dua"), (60, "enam puluh"), (115, "seratus lima belas")]
)
def test_kata_bilangan(n, expected):
    assert kata_bilangan(n) == expected


@pytest.mark.parametrize("n", [0, 1000])
def test_kata_bilangan_refuses_out_of_range(n):
    with pytest.raises(ValueError):
        kata_bilangan(n)


def test_letter_number_fills_the_default_pattern():
    pattern = "{code}/{seq}/{unit}/{year}"
    assert letter_number(pattern, "500.3", 123, "DKUKTESDM", 2026) == "500.3/123/DKUKTESDM/2026"


def test_letter_number_accepts_a_format_spec():
    assert letter_number("{code}/{seq:04d}/{year}", "518", 7, "X", 2026) == "518/0007/2026"


@pytest.mark.parametrize(
    ("pattern", "name"),
    [
        ("{code}/{month}/{year}", "month"),
        ("{code.__class__}", "code.__class__"),
        ("{}/{seq}", ""),
    ],
)
def test_letter_number_refuses_unknown_placeholders_naming_them(pattern, name):
    with pytest.raises(ValueError, match=f"{{{name}}}".replace(".", r"\.")):
        letter_number(pattern, "518", 1, "X", 2026)
