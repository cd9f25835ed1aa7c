"""Import row messages name the column as the clerk's file wrote it, once, never by code."""

from __future__ import annotations

import pytest

from coop_audit.imports.messages import as_line, column_label, display

COLUMNS = {"name": "NAMA KOPERASI", "bh_date": "Tgl. BH", "rt_rw": "RT/RW", "status": "Ket."}


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("tgl_bh", "Tgl. BH"),  # the header as written in the file
        ("nama", "NAMA KOPERASI"),
        ("rt", "RT/RW"),  # RT problems in a file with one RT/RW column
        ("keterangan", "Ket."),
        ("desa", "Desa/Kelurahan"),  # no such column: the register's usual header
        ("anggota", "Jumlah Anggota"),
        ("no_such_code", None),  # not a column: no label rather than a code
    ],
)
def test_column_label(code, expected):
    assert column_label(code, COLUMNS) == expected


def test_a_text_that_already_names_the_column_is_not_prefixed_again():
    m = {"field": "tgl_bh", "level": "error", "text": "Tgl. BH: 13/25/2001 bukan tanggal yang sah"}
    assert as_line(m, COLUMNS) == "Tgl. BH: 13/25/2001 bukan tanggal yang sah"
    assert display(m, COLUMNS)["label"] is None


def test_a_text_without_the_column_gets_the_header_as_written():
    m = {"field": "keterangan", "level": "warning", "text": "Berkas menyebut tidak aktif."}
    assert as_line(m, COLUMNS) == "Ket.: Berkas menyebut tidak aktif."


def test_a_short_header_inside_a_longer_word_does_not_count_as_named():
    m = {"field": "rt", "level": "error", "text": "Alamat tidak lengkap (artinya kosong)."}
    assert as_line(m, {"rt": "RT"}).startswith("RT: ")
