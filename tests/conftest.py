"""Shared fixtures: an app on a fresh database per test, users per role, factories.

The database is SQLite in memory by default; set TEST_DATABASE_URL (postgresql+psycopg://...)
to run the same suite on PostgreSQL (.ci/run does both).
"""

from __future__ import annotations

import itertools
import os
import re
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from flask import g
from sqlalchemy import text

from config import TestConfig
from coop_audit import create_app
from coop_audit.extensions import db
from coop_audit.i18n import catalogs_stale, compile_catalogs
from coop_audit.regions import ensure_reference_data

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
PASSWORD = "correct-horse-battery"  # noqa: S105 - test users only
ROLES = ("admin", "inspector", "head", "clerk", "viewer")

if catalogs_stale():
    compile_catalogs()


_PG_SCHEMA_READY = False


def _reset_postgres(url: str) -> bool:
    """Empty the test database; True when the schema could be kept (TRUNCATE is much faster
    than rebuilding it for every test), False when it was dropped and must be created."""
    from sqlalchemy import create_engine
    from sqlalchemy.exc import DBAPIError

    engine = create_engine(url)
    try:
        if _PG_SCHEMA_READY:
            names = ", ".join(f'"{t.name}"' for t in db.metadata.sorted_tables)
            try:
                with engine.begin() as conn:
                    conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
                return True
            except DBAPIError:
                pass  # a test changed the schema: rebuild it
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
        return False
    finally:
        engine.dispose()


@pytest.fixture
def app(tmp_path) -> Iterator:
    url = os.environ.get("TEST_DATABASE_URL", "")
    config = {
        "UPLOAD_DIR": str(tmp_path / "uploads"),
        "LETTER_DIR": str(tmp_path / "letters"),
        "HUEY_FILE": str(tmp_path / "jobs.sqlite3"),
    }
    keep_schema = False
    if url:
        keep_schema = _reset_postgres(url)
        config["SQLALCHEMY_DATABASE_URI"] = url
        # Test data need not survive a power cut: skip the fsync wait on every commit.
        config["SQLALCHEMY_ENGINE_OPTIONS"] = {
            "pool_pre_ping": True,
            "connect_args": {"options": "-c synchronous_commit=off"},
        }
    else:
        # One shared in-memory database per test (StaticPool keeps it alive across sessions).
        from sqlalchemy.pool import StaticPool

        config["SQLALCHEMY_DATABASE_URI"] = "sqlite://"
        config["SQLALCHEMY_ENGINE_OPTIONS"] = {
            "poolclass": StaticPool,
            "connect_args": {"check_same_thread": False},
        }

    class Cfg(TestConfig):
        pass

    for k, v in config.items():
        setattr(Cfg, k, v)
    app = create_app(Cfg)

    # Test-client requests reuse the app context this fixture pushes, and with it `g`
    # (Flask-Login's cached user, Flask-WTF's token). Start every request with an empty `g`,
    # as a real server does.
    def fresh_g() -> None:
        for key in list(g):
            g.pop(key)

    app.before_request_funcs.setdefault(None, []).insert(0, fresh_g)
    global _PG_SCHEMA_READY
    with app.app_context():
        if not keep_schema:
            db.create_all()
        _PG_SCHEMA_READY = bool(url)
        ensure_reference_data()
        db.session.commit()
        yield app
        db.session.remove()
        if not url:
            db.drop_all()
        db.engine.dispose()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def make_user(app):
    from coop_audit.users.operations import create_user

    counter = itertools.count(1)

    def make(role: str = "inspector", username: str | None = None, **kw):
        user = create_user(
            username or f"{role}{next(counter)}",
            kw.pop("full_name", f"Test {role.title()}"),
            role,
            PASSWORD,
            **kw,
        )
        db.session.commit()
        return user

    return make


@pytest.fixture
def users(make_user) -> dict:
    """One user per role, plus a second head (for the four-eyes rule)."""
    made = {role: make_user(role, username=role) for role in ROLES}
    made["head2"] = make_user(
        "head",
        username="head2",
        full_name="Dr. Siti Rahma, M.Si.",
        nip="197502022000032002",
        rank="Pembina (IV/a)",
        job_title="Kepala Dinas",
    )
    return made


class Auth:
    def __init__(self, client) -> None:
        self.client = client

    def login(self, username: str, password: str = PASSWORD):
        return self.client.post(
            "/login",
            data={"username": username, "password": password, "csrf_token": self.csrf()},
        )

    def logout(self):
        return self.client.post("/logout", data={"csrf_token": self.csrf()})

    def csrf(self, path: str = "/login") -> str:
        html = self.client.get(path, follow_redirects=True).get_data(as_text=True)
        m = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html) or re.search(
            r'value="([^"]+)"[^>]*name="csrf_token"', html
        )
        return m.group(1) if m else ""


@pytest.fixture
def auth(client):
    return Auth(client)


@pytest.fixture
def make_coop(app):
    """Factory: make_coop(status="dormant", last_rat_year=2019, ...) -> Cooperative."""
    from coop_audit.registry.operations import create_cooperative

    counter = itertools.count(1)

    def make(**values):
        n = next(counter)
        status = values.pop("status", "active")
        base = {
            "name": f"Koperasi Uji {n}",
            "jenis": "simpan_pinjam",
            "bentuk": "primer",
            "kelompok": "KSP",
            "bh_number": f"{n}/BH/XIV/I/2010",
            "bh_date": date(2010, 1, 15),
            "desa_kode": "33.13.11.2001",
            "kecamatan_kode": "33.13.11",
            "rt": "1",
            "rw": "2",
            "member_count": 50,
            "last_rat_year": 2025,
        }
        base.update(values)
        if "desa_kode" in values and "kecamatan_kode" not in values:
            base["kecamatan_kode"] = values["desa_kode"].rsplit(".", 1)[0]
        coop = create_cooperative(base, None, source="test", status=status)
        db.session.commit()
        return coop

    return make


def jpeg(size=(800, 600), gps=True) -> bytes:
    """A real JPEG (uploads are opened, not only sniffed), with an EXIF position in
    Karanganyar unless `gps` is False."""
    import io

    from PIL import Image

    img = Image.new("RGB", size, (30, 120, 60))
    exif = Image.Exif()
    if gps:
        exif.get_ifd(0x8825).update({1: "S", 2: (7.0, 36.0, 0.0), 3: "E", 4: (111.0, 0.0, 30.0)})
    out = io.BytesIO()
    img.save(out, "JPEG", exif=exif)
    return out.getvalue()


def pdf_bytes() -> bytes:
    """A real one-page PDF."""
    import io

    from pypdf import PdfWriter

    w = PdfWriter()
    w.add_blank_page(200, 200)
    out = io.BytesIO()
    w.write(out)
    return out.getvalue()


def csrf_token_from(html: str) -> str:
    m = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html) or re.search(
        r'value="([^"]+)"[^>]*name="csrf_token"', html
    )
    return m.group(1) if m else ""


def pytest_collection_modifyitems(config, items):
    """Tests marked `postgres` need row locks and real concurrency: on SQLite they are
    deselected (not skipped); .ci/run runs the whole suite again on PostgreSQL."""
    if os.environ.get("TEST_DATABASE_URL", "").startswith("postgresql"):
        return
    keep, drop = [], []
    for item in items:
        (drop if item.get_closest_marker("postgres") else keep).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep
