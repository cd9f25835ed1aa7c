"""Importing the register on a real database: outcomes, matching, history, status, strict."""

from __future__ import annotations

import json
from datetime import date

import pytest
from sqlalchemy import func, select

from coop_audit import history
from coop_audit.extensions import db
from coop_audit.imports.operations import dormancy_reason, import_register
from coop_audit.models import Cluster, Cooperative, HistoryEvent
from coop_audit.permissions import PermissionDenied
from coop_audit.registry.reader import read_table
from tests.conftest import SHARED

TODAY = date(2026, 3, 2)
MESSY = SHARED / "samples" / "register-messy.csv"
EXPECTED = SHARED / "samples" / "register-messy.expected.json"
HEADER = (
    "No;Nama Koperasi;Jenis;No. Badan Hukum;NIK;Desa/Kelurahan;Kecamatan;Jml Anggota;Keterangan"
)
PLACE = "Suruhkalang;Jaten"  # 33.13.11.2001, make_coop's default village


def _csv(*rows: str, name: str = "register.csv") -> object:
    """A register CSV; "@" in a row stands for the village and kecamatan columns."""
    lines = (HEADER, *(row.replace("@", PLACE) for row in rows))
    return read_table(("\n".join(lines) + "\n").encode("utf-8"), name)


def _run(table, actor=None, **kw):
    result = import_register(table, actor, today=TODAY, write=kw.pop("write", True), **kw)
    db.session.commit()
    return result


def _by_row(result) -> dict:
    return {r.row: r for r in result.results}


def _coops() -> int:
    return db.session.execute(select(func.count()).select_from(Cooperative)).scalar_one()


def _coop(**where) -> Cooperative:
    query = select(Cooperative)
    for k, v in where.items():
        query = query.where(getattr(Cooperative, k) == v)
    return db.session.execute(query).scalar_one()


def test_every_outcome_of_the_messy_sample_is_reached(app, users):
    expected = json.loads(EXPECTED.read_text(encoding="utf-8"))
    table = read_table(MESSY.read_bytes(), MESSY.name)
    assert table.encoding_name == "Windows-1252" and table.delimiter == ";"
    result = _run(table, users["clerk"])
    rows = _by_row(result)
    offset = table.header_row  # data row n is spreadsheet row header_row + n
    for item in expected:
        r = rows[item["data_row"] + offset]
        want = item["result"]
        if want == "rejected":
            assert r.outcome == "rejected", item
            assert item["field"] in {m.field for m in r.messages if m.level == "error"}, item
        elif want == "duplicate":
            assert r.outcome == "duplicate", item
            assert r.of_row == r.row - 1, item  # "previous"
        else:
            if want == "imported-or-flagged" and r.outcome == "rejected":
                fields = {m.field for m in r.messages if m.level == "error"}
                assert {"lat", "lng"} <= fields, item
                continue
            assert r.outcome == "created", (item, r)
            coop = db.session.get(Cooperative, r.coop_id)
            checks = {
                "lat": lambda c: c.lat,
                "lng": lambda c: c.lng,
                "nama": lambda c: c.name,
                "tgl_bh": lambda c: c.bh_date.isoformat(),
                "kecamatan": lambda c: c.kecamatan.nama,
                "anggota": lambda c: c.member_count,
                "rt": lambda c: c.rt,
                "rw": lambda c: c.rw,
                "kode_desa": lambda c: c.desa_kode,
            }
            for key, get in checks.items():
                if key in item:
                    assert (
                        get(coop) == pytest.approx(item[key])
                        if key in ("lat", "lng")
                        else (get(coop) == item[key])
                    ), (item, key, get(coop))


def test_a_nik_held_by_an_earlier_row_is_dropped_with_a_warning_naming_that_row(app, users):
    table = read_table(MESSY.read_bytes(), MESSY.name)
    rows = _by_row(_run(table, users["clerk"]))
    first, fourteenth = rows[2], rows[15]
    assert first.outcome == fourteenth.outcome == "created"
    nik_warnings = [m for m in fourteenth.messages if m.field == "nik"]
    assert nik_warnings and "2" in nik_warnings[0].text
    assert db.session.get(Cooperative, first.coop_id).nik == "9785337641200222"
    assert db.session.get(Cooperative, fourteenth.coop_id).nik is None


def test_a_nik_already_in_the_register_is_dropped_and_the_holder_named(app, make_coop):
    holder = make_coop(name="KSP Pemegang NIK", nik="3313000000000001")
    result = _run(_csv("1;KSP Baru;Simpan Pinjam;9/BH/2020;3313000000000001;@;20;Aktif"))
    (row,) = result.results
    assert row.outcome == "created"
    assert any(m.field == "nik" and holder.name in m.text for m in row.messages)
    assert db.session.get(Cooperative, row.coop_id).nik is None
    assert db.session.get(Cooperative, holder.id).nik == "3313000000000001"


def test_the_same_file_twice_changes_nothing_the_second_time(app, users):
    first = _run(read_table(MESSY.read_bytes(), MESSY.name), users["clerk"])
    events = db.session.execute(select(func.count()).select_from(HistoryEvent)).scalar_one()
    second = _run(read_table(MESSY.read_bytes(), MESSY.name), users["clerk"])
    created = first.counts["created"]
    assert created > 0 and second.counts["unchanged"] == created
    assert second.counts["created"] == second.counts["updated"] == 0
    assert db.session.execute(select(func.count()).select_from(HistoryEvent)).scalar_one() == events


def test_an_update_records_what_changed_who_imported_and_from_which_file(app, users, make_coop):
    coop = make_coop(name="KSP Maju", bh_number="7/BH/XIV/2001", member_count=50)
    table = _csv(
        "1;KSP Maju;Simpan Pinjam;7/BH/XIV/2001;;@;1.163;Aktif",
        name="kiriman-camat.csv",
    )
    (row,) = _run(table, users["clerk"]).results
    assert row.outcome == "updated" and row.coop_id == coop.id
    assert db.session.get(Cooperative, coop.id).member_count == 1163
    ev = history.timeline(coop.id)[0]
    assert ev.kind == "updated" and ev.actor_id == users["clerk"].id
    assert ev.data["source"] == "import" and ev.data["file"] == "kiriman-camat.csv"
    assert ev.data["changes"]["member_count"] == [50, 1163]


def test_rows_match_by_bh_then_nik_then_name_and_village(app, make_coop):
    by_nik = make_coop(name="KSP Lama", bh_number=None, nik="3313000000000009")
    by_name = make_coop(name="KUD Sido Makmur", bh_number=None, desa_kode="33.13.11.2001")
    result = _run(
        _csv(
            "1;KSP Lama Baru;Simpan Pinjam;;3313000000000009;@;77;",
            "2;kud  sido-makmur;Simpan Pinjam;;;@;88;",
        )
    )
    a, b = result.results
    assert (a.outcome, a.coop_id) == ("updated", by_nik.id)
    assert (b.outcome, b.coop_id) == ("updated", by_name.id)
    assert db.session.get(Cooperative, by_name.id).member_count == 88
    assert _coops() == 2


def test_empty_cells_never_erase_what_the_register_holds(app, make_coop):
    coop = make_coop(name="KSP Tetap", bh_number="8/BH/2001", member_count=50, nik="123")
    (row,) = _run(_csv("1;KSP Tetap;Simpan Pinjam;8/BH/2001;;@;;")).results
    assert row.outcome == "unchanged"
    fresh = db.session.get(Cooperative, coop.id)
    assert fresh.member_count == 50 and fresh.nik == "123"


def test_an_import_never_changes_the_status_of_an_existing_cooperative(app, users, make_coop):
    active = make_coop(name="KSP Aktif", bh_number="1/BH/2001")
    dormant = make_coop(name="KSP Tidur", bh_number="2/BH/2001", status="dormant")
    result = _run(
        _csv(
            "1;KSP Aktif;Simpan Pinjam;1/BH/2001;;@;;Tidak Aktif",
            "2;KSP Tidur;Simpan Pinjam;2/BH/2001;;@;;Aktif",
        ),
        users["clerk"],
    )
    assert [r.outcome for r in result.results] == ["unchanged", "unchanged"]
    assert all(any(m.field == "keterangan" for m in r.messages) for r in result.results)
    assert db.session.get(Cooperative, active.id).status == "active"
    assert db.session.get(Cooperative, dormant.id).status == "dormant"


def test_a_new_inactive_row_is_created_then_moved_to_dormant_through_the_workflow(app, users):
    (row,) = _run(
        _csv("1;KSP Mati Suri;Simpan Pinjam;3/BH/2001;;@;5;Tidak Aktif"),
        users["clerk"],
    ).results
    coop = db.session.get(Cooperative, row.coop_id)
    assert coop.status == "dormant" and coop.status_reason == dormancy_reason()
    created, moved = sorted(history.timeline(coop.id), key=lambda e: e.id)
    assert (created.kind, created.to_status) == ("created", "active")
    assert created.data["source"] == "import" and created.data["file"] == "register.csv"
    assert (moved.kind, moved.trigger) == ("dormancy_recorded", "record_dormancy")
    assert (moved.from_status, moved.to_status) == ("active", "dormant")
    assert moved.reason == dormancy_reason() and moved.legal_ground
    assert moved.evidence == [{"type": "import", "file": "register.csv", "row": 2}]
    assert moved.actor_id == users["clerk"].id
    assert history.verify().ok


def test_the_dormancy_reason_is_indonesian_by_default(app):
    assert dormancy_reason() == "tercatat tidak aktif dalam register yang diimpor"


def test_strict_writes_nothing_when_any_row_is_rejected(app, users):
    table = read_table(MESSY.read_bytes(), MESSY.name)
    result = import_register(table, users["clerk"], today=TODAY, write=True, strict=True)
    assert result.blocked and result.rejected > 0
    db.session.rollback()
    assert _coops() == 0


def test_strict_imports_a_clean_file(app, users):
    result = _run(
        _csv("1;KSP Bersih;Simpan Pinjam;4/BH/2001;;@;5;Aktif"),
        users["clerk"],
        strict=True,
    )
    assert not result.blocked and result.counts["created"] == 1 and _coops() == 1


def test_a_dry_run_writes_nothing(app, users):
    events = db.session.execute(select(func.count()).select_from(HistoryEvent)).scalar_one()
    result = _run(read_table(MESSY.read_bytes(), MESSY.name), users["clerk"], write=False)
    assert result.counts["created"] > 0 and not result.written
    assert _coops() == 0
    assert db.session.execute(select(func.count()).select_from(HistoryEvent)).scalar_one() == events


def test_cluster_names_resolve_by_name_or_code_and_unknown_ones_are_a_warning(app):
    c = db.session.execute(select(Cluster).order_by(Cluster.id)).scalars().first()
    header = "Nama Koperasi;Jenis;Desa/Kelurahan;Kecamatan;Klaster Usaha"
    text = "\n".join(
        (
            header,
            f"KSP Satu;Jasa;{PLACE};{c.name.upper()}",
            f"KSP Dua;Jasa;{PLACE};{c.code}",
            f"KSP Tiga;Jasa;{PLACE};Klaster Tidak Ada",
        )
    )
    result = _run(read_table(text.encode(), "k.csv"))
    one, two, three = result.results
    assert db.session.get(Cooperative, one.coop_id).cluster_id == c.id
    assert db.session.get(Cooperative, two.coop_id).cluster_id == c.id
    assert three.outcome == "created"
    assert db.session.get(Cooperative, three.coop_id).cluster_id is None
    assert [m.field for m in three.messages] == ["klaster"]


def test_a_row_the_register_refuses_is_rejected_naming_the_field(app):
    # No village: the reader warns, the register's own check refuses (desa is required).
    (row,) = _run(_csv("1;KSP Tanpa Desa;Simpan Pinjam;5/BH/2001;;;Jaten;5;Aktif")).results
    assert row.outcome == "rejected"
    assert "desa" in {m.field for m in row.messages if m.level == "error"}
    assert _coops() == 0


def test_rows_repeating_an_earlier_row_are_duplicates_not_imports(app):
    result = _run(
        _csv(
            "1;KSP Kembar;Simpan Pinjam;6/BH/2001;;@;5;Aktif",
            "2;KSP  Kembar ;Simpan Pinjam;6/BH/2001;;@;6;Aktif",
            "3;ksp kembar;Simpan Pinjam;;;@;7;Aktif",
        )
    )
    assert [r.outcome for r in result.results] == ["created", "duplicate", "duplicate"]
    assert [r.of_row for r in result.results[1:]] == [2, 2]
    assert _coops() == 1


@pytest.mark.parametrize("role", ["viewer", "inspector", "head"])
def test_only_admins_and_clerks_import(app, users, role):
    with pytest.raises(PermissionDenied):
        import_register(_csv(), users[role], today=TODAY)


def test_an_admin_import_is_recorded_as_the_admin(app, users):
    (row,) = _run(
        _csv("1;KSP Admin;Simpan Pinjam;10/BH/2001;;@;5;Tidak Aktif"),
        users["admin"],
    ).results
    assert {e.actor_id for e in history.timeline(row.coop_id)} == {users["admin"].id}
