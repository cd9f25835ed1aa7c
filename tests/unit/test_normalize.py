"""Normalising register rows: clean values, and the messages a clerk gets."""

from __future__ import annotations

import json
from collections import Counter
from datetime import date, datetime
from pathlib import Path

import pytest

from coop_audit import geo
from coop_audit.registry.normalize import (
    ParsedRow,
    find_duplicates,
    name_key,
    normalize_row,
    parse_date,
)
from coop_audit.registry.reader import RawRow, read_table

# Spreadsheet date cells are naive datetimes (a calendar date, no time zone).
CELL_2013_03_16 = datetime(2013, 3, 16, 0, 0)  # noqa: DTZ001
CELL_2021_03_01 = datetime(2021, 3, 1)  # noqa: DTZ001
SAMPLES = Path(__file__).resolve().parents[2].parent / "shared" / "samples"
TODAY = date(2026, 6, 1)
REGIONS = geo.regions()


def parse(**cells) -> ParsedRow:
    base = {"name": "KSP Maju", "jenis": "Simpan Pinjam", "kecamatan": "Jaten", "desa": "Ngringo"}
    base.update(cells)
    return normalize_row(RawRow(row_number=7, cells=base, original=[]), REGIONS, TODAY)


def errors(row: ParsedRow) -> list[tuple[str, str]]:
    return [(m.field, m.text) for m in row.messages if m.level == "error"]


def warnings(row: ParsedRow) -> list[tuple[str, str]]:
    return [(m.field, m.text) for m in row.messages if m.level == "warning"]


# ---------------------------------------------------------------------------- the samples


@pytest.fixture(scope="module")
def messy() -> dict[int, ParsedRow]:
    table = read_table((SAMPLES / "register-messy.csv").read_bytes(), "register-messy.csv")
    return {r.row_number - table.header_row: normalize_row(r, REGIONS, TODAY) for r in table}


EXPECTED = json.loads((SAMPLES / "register-messy.expected.json").read_text(encoding="utf-8"))
VALUE_OF = {
    "nama": lambda v: v["name"],
    "lat": lambda v: v["lat"],
    "lng": lambda v: v["lng"],
    "tgl_bh": lambda v: v["bh_date"].isoformat(),
    "kecamatan": lambda v: REGIONS.kecamatan[v["kecamatan_kode"]].nama,
    "anggota": lambda v: v["member_count"],
    "rt": lambda v: v["rt"],
    "rw": lambda v: v["rw"],
    "kode_desa": lambda v: v["desa_kode"],
}


@pytest.mark.parametrize("case", EXPECTED, ids=lambda c: f"row{c['data_row']}-{c['result']}")
def test_every_expected_outcome_of_the_messy_sample_is_reached(messy, case):
    parsed = messy[case["data_row"]]
    result = case["result"]
    if result == "duplicate":
        assert not parsed.rejected
        assert find_duplicates(list(messy.values())) == {parsed.row_number: parsed.row_number - 1}
        return
    if result == "rejected":
        assert parsed.rejected
        assert case["field"] in {m.field for m in parsed.errors}
        return
    assert not parsed.rejected, parsed.messages
    for key, getter in VALUE_OF.items():
        if key in case:
            assert getter(parsed.values) == case[key]
    if result == "imported-or-flagged":
        assert [m.field for m in parsed.warnings] == ["lat"]


def test_messy_sample_messages_name_the_column_as_written(messy):
    assert errors(messy[4]) == [("tgl_bh", "Tgl Badan Hukum: 13/25/2001 is not a valid date")]
    assert errors(messy[15]) == [("desa", "Ngringo is not in kecamatan Colomadu (it is in Jaten).")]
    assert "Format the column as Text" in errors(messy[5])[0][1]


def test_the_office_workbook_parses_without_errors_with_250_active_and_913_inactive():
    table = read_table((SAMPLES / "register-karanganyar.xlsx").read_bytes(), "register.xlsx")
    rows = [normalize_row(r, REGIONS, TODAY) for r in table.rows()]
    assert len(rows) == 1163
    assert [r.row_number for r in rows if r.rejected] == []
    assert Counter(r.values["inactive"] for r in rows) == {False: 250, True: 913}
    assert find_duplicates(rows) == {}
    assert all(r.values["desa_kode"] and r.values["name"] for r in rows)


# ---------------------------------------------------------------------------- dates


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (CELL_2013_03_16, date(2013, 3, 16)),
        (date(2013, 3, 16), date(2013, 3, 16)),
        ("16/03/2013", date(2013, 3, 16)),
        ("6-3-2013", date(2013, 3, 6)),
        ("16.03.2013", date(2013, 3, 16)),
        ("2013-03-16", date(2013, 3, 16)),
        ("2013-03-16 00:00:00", date(2013, 3, 16)),
        ("16 Maret 2013", date(2013, 3, 16)),
        ("16-Agu-2013", date(2013, 8, 16)),
        (41349, date(2013, 3, 16)),
        (41349.0, date(2013, 3, 16)),
        ("41349", date(2013, 3, 16)),
        (None, None),
        ("  ", None),
    ],
)
def test_dates_are_read_from_cells_text_and_excel_serials(value, expected):
    assert parse_date(value) == expected


@pytest.mark.parametrize(
    "value", ["13/25/2001", "31/02/2020", "2013", 2013, "16/03/13", "kemarin", 10**9, float("nan")]
)
def test_impossible_or_ambiguous_dates_are_refused(value):
    with pytest.raises(ValueError):
        parse_date(value)


def test_a_future_bh_date_is_an_error():
    row = parse(bh_date="02/06/2026")
    assert errors(row)[0][0] == "tgl_bh"
    assert not parse(bh_date="01/06/2026").rejected


# ---------------------------------------------------------------------------- IDs


@pytest.mark.parametrize("value", [3313050012345678, 3.31305e15, "3,31305E+15", "3.31305E+15"])
def test_nik_that_excel_turned_into_a_number_rejects_the_row(value):
    row = parse(nik=value)
    assert row.values["nik"] is None
    ((field, text),) = errors(row)
    assert field == "nik"
    assert "Format the column as Text" in text


@pytest.mark.parametrize(("value", "expected"), [("3313 0500 1234", "331305001234"), ("", None)])
def test_nik_is_kept_as_a_digit_string(value, expected):
    row = parse(nik=value)
    assert (row.values["nik"], row.rejected) == (expected, False)


def test_nik_with_letters_is_an_error():
    assert errors(parse(nik="NIK-ABC"))[0][0] == "nik"


@pytest.mark.parametrize("value", [5271990, "5,27E+05"])
def test_bh_number_stored_as_a_number_is_an_error(value):
    assert errors(parse(bh_number=value))[0][0] == "no_bh"


def test_bh_number_whitespace_is_collapsed():
    assert parse(bh_number=" 518.08/96/BH/XIV.10/VIII/2008  ").values["bh_number"] == (
        "518.08/96/BH/XIV.10/VIII/2008"
    )


@pytest.mark.parametrize(
    ("value", "expected", "warned"),
    [
        ("082429996099", "082429996099", False),
        ("0824-2999-6099", "082429996099", False),
        ("+62 824 2999 6099", "082429996099", False),
        ("6282429996099", "082429996099", True),
        ("82429996099", "082429996099", True),
        (82429996099, "082429996099", True),
        (82429996099.0, "082429996099", True),
        ("0812 111 222 / 0813 333 444", "0812111222", True),
        ("0271 495", "0271495", True),
    ],
)
def test_phone_numbers_are_normalised_with_a_warning_when_the_meaning_changed(
    value, expected, warned
):
    row = parse(chair_phone=value)
    assert row.values["chair_phone"] == expected
    assert not row.rejected
    assert bool(warnings(row)) is warned


@pytest.mark.parametrize("value", ["8,24E+10", "tidak ada", 8.2e10 + 0.5])
def test_unusable_phone_numbers_are_errors(value):
    assert errors(parse(chair_phone=value))[0][0] == "hp"


# ---------------------------------------------------------------------------- numbers


@pytest.mark.parametrize(
    ("value", "expected"),
    [("1.163", 1163), ("1,163", 1163), ("920", 920), (920, 920), (920.0, 920), ("25 orang", 25)],
)
def test_member_count_reads_indonesian_thousands(value, expected):
    assert parse(member_count=value).values["member_count"] == expected


@pytest.mark.parametrize("value", ["1.16", "banyak", -3, 12.5, "1.163,5"])
def test_member_count_that_is_not_a_whole_number_is_an_error(value):
    assert errors(parse(member_count=value))[0][0] == "anggota"


@pytest.mark.parametrize(
    ("value", "ok"),
    [(1944, False), (1945, True), (2027, True), (2028, False), ("2020", True),
     (CELL_2021_03_01, True), ("15/03/2021", True), ("dua ribu", False)],
)  # fmt: skip
def test_rat_year_must_be_between_1945_and_next_year(value, ok):
    row = parse(last_rat_year=value)
    assert row.rejected is not ok
    if ok:
        assert 1945 <= row.values["last_rat_year"] <= 2027


@pytest.mark.parametrize(
    ("cells", "rt", "rw"),
    [
        ({"rt": 3, "rw": 12}, "003", "012"),
        ({"rt": "003", "rw": "012"}, "003", "012"),
        ({"rt": "RT 03", "rw": "rw.12"}, "003", "012"),
        ({"rt": 3.0, "rw": None}, "003", None),
        ({"rt_rw": "003/012"}, "003", "012"),
        ({"rt_rw": "3 / 12"}, "003", "012"),
        ({"rt_rw": "3-12"}, "003", "012"),
    ],
)
def test_rt_and_rw_become_three_digit_strings(cells, rt, rw):
    row = parse(**cells)
    assert (row.values["rt"], row.values["rw"], row.rejected) == (rt, rw, False)


@pytest.mark.parametrize(
    ("cells", "field"),
    [({"rt": "0"}, "rt"), ({"rt": "1000"}, "rt"), ({"rw": "A"}, "rw"), ({"rt_rw": "3"}, "rt")],
)
def test_bad_rt_rw_is_an_error(cells, field):
    assert errors(parse(**cells))[0][0] == field


# ---------------------------------------------------------------------------- places


@pytest.mark.parametrize("value", ["Jaten", "KEC. JATEN ", "Kecamatan Jaten", "kec jaten", "JATEN"])
def test_kecamatan_spellings_resolve(value):
    row = parse(kecamatan=value)
    assert REGIONS.kecamatan[row.values["kecamatan_kode"]].nama == "Jaten"
    assert REGIONS.villages[row.values["desa_kode"]].nama == "Ngringo"


def test_unknown_kecamatan_is_an_error():
    ((field, text),) = errors(parse(kecamatan="Kecamatan Tidak Ada"))
    assert field == "kecamatan"
    assert "Tidak Ada" in text


def test_village_names_that_repeat_are_resolved_inside_their_kecamatan():
    dayu_gondangrejo = parse(kecamatan="Gondangrejo", desa="Dayu").values["desa_kode"]
    dayu_karangpandan = parse(kecamatan="Karangpandan", desa="Desa Dayu").values["desa_kode"]
    assert dayu_gondangrejo == "33.13.13.2011"
    assert dayu_karangpandan != dayu_gondangrejo


def test_missing_kecamatan_is_taken_from_a_unique_village_with_a_warning():
    row = parse(kecamatan="", desa="Ngringo")
    assert REGIONS.kecamatan[row.values["kecamatan_kode"]].nama == "Jaten"
    assert [f for f, _t in warnings(row)] == ["kecamatan"]


def test_missing_kecamatan_with_an_ambiguous_village_is_an_error():
    ((field, text),) = errors(parse(kecamatan="", desa="Dayu"))
    assert field == "kecamatan"
    assert "Gondangrejo" in text and "Karangpandan" in text


def test_unknown_village_is_an_error():
    assert errors(parse(desa="Atlantis"))[0][0] == "desa"


# ---------------------------------------------------------------------------- coordinates

NGRINGO = REGIONS.villages[next(k for k, v in REGIONS.villages.items() if v.nama == "Ngringo")]


@pytest.mark.parametrize(
    ("lat", "lng"),
    [
        (NGRINGO.lat, NGRINGO.lng),
        (f"{NGRINGO.lat}".replace(".", ","), f"{NGRINGO.lng}".replace(".", ",")),
        (str(NGRINGO.lat), str(NGRINGO.lng)),
    ],
)
def test_coordinates_accept_numbers_and_decimal_commas(lat, lng):
    row = parse(lat=lat, lng=lng)
    assert (row.values["lat"], row.values["lng"], row.messages) == (NGRINGO.lat, NGRINGO.lng, [])


def test_swapped_coordinates_inside_the_regency_are_corrected_with_a_warning():
    row = parse(lat=NGRINGO.lng, lng=NGRINGO.lat)
    assert (row.values["lat"], row.values["lng"]) == (NGRINGO.lat, NGRINGO.lng)
    assert [f for f, _t in warnings(row)] == ["lat"]


def test_latitude_that_lost_its_minus_sign_is_corrected_with_a_warning():
    row = parse(lat=-NGRINGO.lat, lng=NGRINGO.lng)
    assert row.values["lat"] == NGRINGO.lat
    assert [f for f, _t in warnings(row)] == ["lat"]


@pytest.mark.parametrize(("lat", "lng"), [(-6.914744, 107.60981), ("-7,6", ""), ("abc", "110")])
def test_coordinates_outside_or_incomplete_are_errors(lat, lng):
    row = parse(lat=lat, lng=lng)
    assert row.rejected
    assert {m.field for m in row.errors} <= {"lat", "lng"}


def test_point_in_another_village_of_the_regency_is_a_warning():
    jaten = next(v for v in REGIONS.villages_of(NGRINGO.kecamatan_kode) if v.nama == "Jaten")
    row = parse(lat=jaten.lat, lng=jaten.lng)
    assert not row.rejected
    ((field, text),) = warnings(row)
    assert field == "lat"
    assert "Ngringo" in text


def test_zero_coordinates_are_treated_as_empty():
    row = parse(lat=0, lng=0)
    assert (row.values["lat"], row.values["lng"], row.rejected) == (None, None, False)


# ---------------------------------------------------------------------------- labels and text


@pytest.mark.parametrize(
    ("value", "expected"),
    [("Simpan Pinjam", "simpan_pinjam"), ("KSP", "simpan_pinjam"),
     ("Koperasi Konsumen", "konsumen"), ("PRODUSEN", "produsen"), ("Pemasaran", "pemasaran"),
     ("jasa", "jasa")],
)  # fmt: skip
def test_jenis_labels_map_to_the_five_types(value, expected):
    assert parse(jenis=value).values["jenis"] == expected


@pytest.mark.parametrize("value", ["", "Serba Usaha"])
def test_missing_or_unknown_jenis_is_an_error(value):
    assert errors(parse(jenis=value))[0][0] == "jenis"


@pytest.mark.parametrize(
    ("value", "expected"),
    [("", "primer"), ("Primer", "primer"), ("Koperasi Sekunder", "sekunder")],
)
def test_bentuk_defaults_to_primer(value, expected):
    assert parse(bentuk=value).values["bentuk"] == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [("Tidak Aktif", True), ("NON AKTIF", True), ("Non-Aktif", True), ("Mati Suri", True),
     ("pasif", True), ("Aktif", False), (" aktif ", False), ("", None), (None, None)],
)  # fmt: skip
def test_keterangan_says_whether_the_cooperative_is_inactive(value, expected):
    assert parse(status=value).values["inactive"] is expected


def test_unclear_keterangan_is_a_warning_and_ignored():
    row = parse(status="Sedang diperiksa")
    assert row.values["inactive"] is None
    assert [f for f, _t in warnings(row)] == ["keterangan"]


def test_names_have_their_spaces_collapsed_and_a_missing_name_is_an_error():
    assert parse(name="  KSP   Maju\u00a0Jaya  ").values["name"] == "KSP Maju Jaya"
    assert errors(parse(name="   "))[0][0] == "nama"


def test_text_fields_keep_what_was_given_trimmed():
    row = parse(kelompok=" Kopwan ", cluster_name="Hasil bumi segar", products="Beras", kbli=1111)
    values = row.values
    assert (values["kelompok"], values["cluster_name"], values["products"]) == (
        "Kopwan",
        "Hasil bumi segar",
        "Beras",
    )
    assert values["kbli"] == "01111"  # a numeric KBLI cell lost its leading zero


@pytest.mark.parametrize(
    ("name", "key"),
    [
        ("Koperasi Jum\u2019at Berkah", "koperasi jumat berkah"),
        ("Koperasi Jum'at  Berkah ", "koperasi jumat berkah"),
        ("KSP  Sido-Dadi I.", "ksp sido dadi i"),
        (None, ""),
    ],
)
def test_name_key_ignores_case_spaces_and_punctuation(name, key):
    assert name_key(name) == key


# ---------------------------------------------------------------------------- duplicates


def test_duplicates_by_bh_number_or_by_name_in_the_same_village():
    rows = [
        parse(name="KSP A", bh_number="1/BH/1990"),
        parse(name="KSP B", bh_number="1 / BH/1990".replace(" / ", "/")),
        parse(name="ksp  a.", bh_number=""),
        parse(name="KSP A", desa="Jaten", bh_number=""),
        parse(name="KSP C", bh_number="x", nik=123.0),  # rejected: never a duplicate
        parse(name="KSP C", bh_number="x"),
    ]
    for i, row in enumerate(rows):
        row.row_number = 10 + i
    assert find_duplicates(rows) == {11: 10, 12: 10}
