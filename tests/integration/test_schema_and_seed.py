"""The migrations build exactly the models' schema; the demo seed gives the full register."""

from __future__ import annotations

import json

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import upgrade
from sqlalchemy import create_engine, inspect, text

from config import TestConfig
from coop_audit import create_app
from coop_audit.extensions import db
from coop_audit.models import include_object_for


def _migrated_app(tmp_path):
    url = f"sqlite:///{tmp_path / 'migrated.sqlite3'}"

    class Cfg(TestConfig):
        SQLALCHEMY_DATABASE_URI = url

    return create_app(Cfg), url


def test_upgrade_on_an_empty_database_gives_the_models_schema(tmp_path):
    app, url = _migrated_app(tmp_path)
    with app.app_context():
        upgrade()
        engine = create_engine(url)
        with engine.connect() as conn:
            opts = {"compare_type": True, "include_object": include_object_for("sqlite")}
            diff = compare_metadata(MigrationContext.configure(conn, opts=opts), db.metadata)
        engine.dispose()
    assert diff == [], diff


def test_demo_seed_fills_the_register_and_stats_report_it(tmp_path):
    app, _ = _migrated_app(tmp_path)
    runner = app.test_cli_runner()
    with app.app_context():
        upgrade()
    result = runner.invoke(args=["setup"])
    assert result.exit_code == 0, result.output
    result = runner.invoke(args=["demo", "seed"])
    assert result.exit_code == 0, result.output
    assert "Demo logins" in result.output
    stats = json.loads(runner.invoke(args=["registry", "stats", "--json"]).output)
    assert stats["total"] == 1163
    assert stats["by_status"]["active"] == 250
    assert sum(stats["by_kecamatan"].values()) == 1163
    assert set(stats["by_kecamatan"]) >= {"Jaten", "Colomadu", "Karanganyar", "Jenawi"}
    verify = runner.invoke(args=["history", "verify"])
    assert verify.exit_code == 0, verify.output
    # A second seed refuses (the register is not empty), and --if-empty is a quiet no-op.
    assert runner.invoke(args=["demo", "seed"]).exit_code == 1
    assert runner.invoke(args=["demo", "seed", "--if-empty"]).exit_code == 0


def test_demo_seed_is_deterministic_and_places_points_in_their_village(app):
    from coop_audit.demo import seed
    from coop_audit.geo import regions
    from coop_audit.models import Cooperative

    seed(120, 40, 7, with_users=False)
    rows = db.session.execute(
        text("SELECT name, desa_kode, lat, lng FROM cooperative ORDER BY id")
    ).all()
    villages = regions().villages
    placed = [r for r in rows if r.lat is not None]
    assert placed
    assert all(villages[r.desa_kode].contains(r.lat, r.lng) for r in placed)
    assert db.session.query(Cooperative).filter_by(status="active").count() == 40
    first = [tuple(r) for r in rows]
    db.session.rollback()
    db.drop_all()
    db.create_all()
    from coop_audit.regions import ensure_reference_data

    ensure_reference_data()
    seed(120, 40, 7, with_users=False)
    again = [
        tuple(r)
        for r in db.session.execute(
            text("SELECT name, desa_kode, lat, lng FROM cooperative ORDER BY id")
        )
    ]
    assert again == first


def test_demo_seed_refuses_in_production(tmp_path, monkeypatch):
    monkeypatch.setenv("SECRET_KEY", "x" * 32)
    from config import ProductionConfig

    class Cfg(ProductionConfig):
        SQLALCHEMY_DATABASE_URI = f"sqlite:///{tmp_path / 'prod.sqlite3'}"
        SECRET_KEY = "x" * 32

    app = create_app(Cfg)
    with app.app_context():
        db.create_all()
    result = app.test_cli_runner().invoke(args=["demo", "seed", "--cooperatives", "5"])
    assert result.exit_code == 1
    assert "production" in result.output
    with app.app_context():
        assert inspect(db.engine).has_table("cooperative")
        assert db.session.execute(text("SELECT count(*) FROM cooperative")).scalar() == 0


def test_history_verify_names_a_row_changed_in_the_database(app, runner, make_coop):
    make_coop()
    make_coop()
    assert runner.invoke(args=["history", "verify"]).exit_code == 0
    db.session.execute(text("UPDATE history_event SET reason = 'forged' WHERE id = 2"))
    db.session.commit()
    result = runner.invoke(args=["history", "verify"])
    assert result.exit_code == 1
    assert "history row 2" in result.output
