"""Cached register counts and map aggregates: never stale, whichever worker made the change.

gunicorn runs several worker processes, each with its own cache. Two app instances on one
database file stand in for two workers here.
"""

from __future__ import annotations

import re
from datetime import date

import pytest
from sqlalchemy import event

from config import TestConfig
from coop_audit import create_app, register_cache
from coop_audit.extensions import db
from coop_audit.models import Cooperative
from coop_audit.regions import ensure_reference_data
from coop_audit.registry.operations import create_cooperative
from coop_audit.registry.query import RegisterFilter
from tests.conftest import PASSWORD, csrf_token_from


def _coop(n: int, **values):
    base = {
        "name": f"Koperasi Cache {n}",
        "jenis": "simpan_pinjam",
        "bentuk": "primer",
        "kelompok": "KSP",
        "bh_number": f"{n}/BH/XIV/I/2011",
        "bh_date": date(2011, 1, 15),
        "desa_kode": "33.13.11.2001",
        "kecamatan_kode": "33.13.11",
        "lat": -7.56,
        "lng": 110.95,
    }
    base.update(values)
    return create_cooperative(base, None, source="test")


def _count(html: str) -> int:
    return int(re.search(r'data-count="(\d+)"', html).group(1))


@pytest.fixture
def workers(tmp_path):
    """Two apps (two gunicorn workers) on one SQLite file, each with a logged-in viewer."""
    from coop_audit.users.operations import create_user

    class Cfg(TestConfig):
        SQLALCHEMY_DATABASE_URI = f"sqlite:///{tmp_path / 'register.sqlite3'}"
        UPLOAD_DIR = str(tmp_path / "uploads")
        LETTER_DIR = str(tmp_path / "letters")
        HUEY_FILE = str(tmp_path / "jobs.sqlite3")

    apps = [create_app(Cfg), create_app(Cfg)]
    with apps[0].app_context():
        db.create_all()
        ensure_reference_data()
        create_user("viewer", "Test Viewer", "viewer", PASSWORD)
        create_user("admin", "Test Admin", "admin", PASSWORD)
        _coop(1)
        _coop(2)
        db.session.commit()
    clients = []
    for app in apps:
        client = app.test_client()
        page = client.get("/login").get_data(as_text=True)
        client.post(
            "/login",
            data={"username": "viewer", "password": PASSWORD, "csrf_token": csrf_token_from(page)},
        )
        clients.append(client)
    yield apps, clients
    for app in apps:
        with app.app_context():
            db.engine.dispose()


def test_a_cooperative_added_by_one_worker_is_counted_at_once_by_the_other(workers):
    (_, app_b), (client_a, _) = workers
    assert _count(client_a.get("/koperasi/").get_data(as_text=True)) == 2
    assert client_a.get("/klaster/peta/data").get_json()["total"] == 2

    with app_b.app_context():
        _coop(3)
        db.session.commit()

    assert _count(client_a.get("/koperasi/").get_data(as_text=True)) == 3
    assert client_a.get("/klaster/peta/data").get_json()["total"] == 3


def test_a_bulk_cluster_assignment_in_one_worker_moves_the_other_workers_counts(workers):
    from coop_audit.clusters.operations import assign_cluster, create_cluster

    (_, app_b), (client_a, _) = workers
    with app_b.app_context():
        cluster = create_cluster("KRIYA", "Kerajinan", "#aa5500", None)
        db.session.commit()
        cluster_id = cluster.id
    url = f"/koperasi/?cluster={cluster_id}"
    assert _count(client_a.get(url).get_data(as_text=True)) == 0
    assert _count(client_a.get("/koperasi/?cluster=none").get_data(as_text=True)) == 2

    with app_b.app_context():  # one UPDATE statement for many rows, not an ORM flush
        assert assign_cluster(RegisterFilter(q="cache 1"), cluster_id, None) == 1
        db.session.commit()

    assert _count(client_a.get(url).get_data(as_text=True)) == 1
    assert _count(client_a.get("/koperasi/?cluster=none").get_data(as_text=True)) == 1
    data = client_a.get(f"/klaster/peta/data?cluster={cluster_id}").get_json()
    assert data["total"] == 1


def test_a_repeated_list_page_does_not_count_the_register_again(workers):
    (app_a, _), (client_a, _) = workers
    statements: list[str] = []
    with app_a.app_context():
        engine = db.engine

    def spy(conn, cursor, statement, *args):
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", spy)
    try:
        client_a.get("/koperasi/?status=active")
        first = [s for s in statements if "count(" in s.lower()]
        statements.clear()
        html = client_a.get("/koperasi/?status=active").get_data(as_text=True)
        again = [s for s in statements if "count(" in s.lower()]
    finally:
        event.remove(engine, "before_cursor_execute", spy)
    assert first and not again
    assert _count(html) == 2


def test_a_transaction_sees_its_own_uncommitted_cooperatives_and_caches_nothing_of_them(app):
    flt = RegisterFilter()
    assert flt.count(db.session) == 0
    _coop(1)
    assert flt.count(db.session) == 1  # its own write, not the cached 0
    db.session.rollback()
    assert flt.count(db.session) == 0  # nor was the rolled-back 1 remembered
    _coop(2)
    db.session.commit()
    assert flt.count(db.session) == 1


def test_changing_a_cooperative_without_a_history_row_fails_and_writes_nothing(app):
    coop = _coop(1)
    db.session.commit()
    coop.name = "Renamed Behind The History's Back"
    with pytest.raises(register_cache.RegisterWriteWithoutHistory):
        db.session.commit()
    db.session.rollback()
    assert db.session.get(Cooperative, coop.id).name == "Koperasi Cache 1"
