"""Register validation and corrections: messages a clerk understands, nothing half-saved."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from coop_audit.extensions import db
from coop_audit.models import Cooperative, HistoryEvent
from coop_audit.registry.operations import (
    ConcurrentEdit,
    ValidationFailed,
    check,
    create_cooperative,
    update_cooperative,
)

VALID = {
    "name": "KSP Maju Bersama",
    "jenis": "simpan_pinjam",
    "bentuk": "primer",
    "desa_kode": "33.13.11.2001",
    "kecamatan_kode": "33.13.11",
}


# Messages are checked as the clerk reads them: in Indonesian, the default language.
@pytest.mark.parametrize(
    "changes, field, message",
    [
        ({"name": "  "}, "name", "Nama wajib diisi."),
        ({"name": "x" * 201}, "name", "Nama lebih dari 200 karakter."),
        ({"jenis": "bank"}, "jenis", "Pilih jenis koperasi."),
        ({"bentuk": "tersier"}, "bentuk", "Bentuk harus primer atau sekunder."),
        ({"nik": "3,31305E+15"}, "nik", "NIK hanya boleh berisi angka (disimpan sebagai teks)."),
        ({"rt": "1000"}, "rt", "RT harus berupa angka 1 sampai 999."),
        ({"rw": "abc"}, "rw", "RW harus berupa angka 1 sampai 999."),
        (
            {"chair_phone": "12"},
            "chair_phone",
            "Nomor telepon harus terdiri dari 8 sampai 14 angka.",
        ),
        ({"member_count": "banyak"}, "member_count", "Masukkan bilangan bulat."),
        ({"last_rat_year": 1900}, "last_rat_year", "Harus antara 1945"),
        (
            {"bh_date": date(2999, 1, 1)},
            "bh_date",
            "Tanggal badan hukum tidak boleh di masa depan.",
        ),
        (
            {"kecamatan_kode": "99.99.99"},
            "kecamatan_kode",
            "Pilih kecamatan di Kabupaten Karanganyar.",
        ),
        ({"desa_kode": ""}, "desa_kode", "Pilih desa/kelurahan."),
        (
            {"desa_kode": "33.13.11.2001", "kecamatan_kode": "33.13.12"},
            "desa_kode",
            "tidak berada di Kecamatan Colomadu (berada di Jaten)",
        ),
        ({"lat": -7.56}, "lat", "Isi lintang dan bujur sekaligus, atau kosongkan keduanya."),
        ({"lat": -6.9147, "lng": 107.6098}, "lat", "berada di luar Kabupaten Karanganyar"),
        ({"lat": 110.8946, "lng": -7.5639}, "lat", "tampaknya tertukar"),
        ({"cluster_id": 999}, "cluster_id", "Klaster tidak dikenal."),
    ],
)
def test_bad_values_are_refused_naming_the_field(app, changes, field, message):
    checked = check({**VALID, **changes})
    errors = {m.field: m.text for m in checked.errors}
    assert field in errors, checked.messages
    assert message in errors[field]


@pytest.mark.parametrize(
    "changes, field, expected",
    [
        ({"rt": "3", "rw": "12"}, "rt", "003"),
        ({"rt": "003", "rw": "012"}, "rw", "012"),
        ({"chair_phone": "+62 812-3456-7890"}, "chair_phone", "081234567890"),
        ({"name": "  KSP   Maju  "}, "name", "KSP Maju"),
    ],
)
def test_values_are_normalised(app, changes, field, expected):
    checked = check({**VALID, **changes})
    assert not checked.errors
    assert checked.values[field] == expected


def test_point_outside_the_stated_village_is_only_a_warning(app):
    # A point in Colomadu, but the record says Jaten's first village.
    checked = check({**VALID, "lat": -7.5355, "lng": 110.7601})
    assert not checked.errors
    assert [m.field for m in checked.messages if m.level == "warning"] == ["lat"]


def test_bh_number_used_by_another_cooperative_names_it(app, make_coop):
    other = make_coop(name="KUD Sido Makmur", bh_number="605/BH/XIV/1990")
    checked = check({**VALID, "bh_number": "605/BH/XIV/1990"})
    (error,) = checked.errors
    assert error.field == "bh_number"
    assert "KUD Sido Makmur" in error.text
    assert error.link_coop_id == other.id


def test_failed_create_writes_nothing(app):
    before = db.session.execute(select(func.count()).select_from(HistoryEvent)).scalar_one()
    with pytest.raises(ValidationFailed):
        create_cooperative({**VALID, "lat": 1.0, "lng": 1.0}, None)
    db.session.rollback()
    assert db.session.execute(select(func.count()).select_from(Cooperative)).scalar_one() == 0
    after = db.session.execute(select(func.count()).select_from(HistoryEvent)).scalar_one()
    assert after == before


def test_update_records_what_changed_in_the_history(app, make_coop, users):
    coop = make_coop(member_count=50)
    changes = update_cooperative(coop, {"member_count": 75}, users["clerk"])
    db.session.commit()
    assert changes == {"member_count": [50, 75]}
    ev = db.session.execute(select(HistoryEvent).where(HistoryEvent.kind == "updated")).scalar_one()
    assert ev.data["changes"] == {"member_count": [50, 75]}
    assert ev.actor_id == users["clerk"].id


def test_an_unchanged_update_writes_no_history(app, make_coop, users):
    coop = make_coop()
    assert update_cooperative(coop, {"name": coop.name}, users["clerk"]) == {}
    assert not db.session.execute(
        select(HistoryEvent).where(HistoryEvent.kind == "updated")
    ).first()


def test_stale_version_is_refused(app, make_coop, users):
    coop = make_coop()
    with pytest.raises(ConcurrentEdit):
        update_cooperative(coop, {"member_count": 9}, users["clerk"], expected_version=99)


def test_status_is_not_a_register_field(app, make_coop, users):
    coop = make_coop()
    update_cooperative(coop, {"status": "license_revoked", "member_count": 10}, users["clerk"])
    assert coop.status == "active"


def test_a_deactivated_cluster_is_not_offered_for_new_assignments(app, make_coop):
    from coop_audit.models import Cluster

    cluster = db.session.execute(select(Cluster).limit(1)).scalar_one()
    kept = make_coop(cluster_id=cluster.id)
    cluster.active = False
    db.session.commit()
    checked = check({**VALID, "cluster_id": cluster.id})
    assert [m.field for m in checked.errors] == ["cluster_id"]
    # A cooperative already in that cluster keeps it when other fields are corrected.
    assert not check({**VALID, "cluster_id": cluster.id, "name": "KSP Baru"}, existing=kept).errors
