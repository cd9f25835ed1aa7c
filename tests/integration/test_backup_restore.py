"""`flask backup create` / `flask backup restore`: a seeded instance restored into an empty one."""

from __future__ import annotations

import hashlib
import io
import json
import os
import tarfile
from datetime import date

import pytest
from PIL import Image
from sqlalchemy import create_engine, select, text

from config import TestConfig
from coop_audit import backup, create_app
from coop_audit.extensions import db
from coop_audit.models import Cooperative
from coop_audit.models.letters import Letter

sanctions = pytest.importorskip("coop_audit.sanctions.operations")
TODAY = date(2026, 12, 3)


def jpeg() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (64, 48), (120, 140, 90)).save(buf, "JPEG")
    return buf.getvalue()


def seed(users, make_coop) -> dict:
    coops = [make_coop(name=f"KSU Backup {i}", status="dormant") for i in range(4)]
    proposal = sanctions.propose(
        coops[0],
        "warn",
        users["inspector"],
        reason="Tidak menyelenggarakan RAT 3 tahun buku berturut-turut",
        evidence=[{"type": "audit", "label": "Berita Acara Pemeriksaan"}],
        today=TODAY,
    )
    db.session.commit()
    sanctions.sign(proposal, users["head2"], today=TODAY)
    db.session.commit()
    letter = db.session.execute(select(Letter)).scalar_one()
    upload = None
    try:
        from flask import current_app

        from coop_audit.audits import operations as audits
        from coop_audit.audits import uploads
    except ImportError:  # the audits feature is optional here
        audits = None
    if audits is not None:
        audit = audits.start_audit(coops[1], users["inspector"], today=TODAY)
        db.session.flush()
        prepared = uploads.prepare(jpeg(), "foto.jpg")
        rows, _ = audits.add_files(
            audit, [prepared], users["inspector"], current_app.config["UPLOAD_DIR"]
        )
        db.session.commit()
        upload = rows[0].stored_name
    return {
        "letter_sha": hashlib.sha256(letter.pdf).hexdigest(),
        "letter_id": letter.id,
        "upload": upload,
        "counts": backup.table_counts(),
    }


def target_config(tmp_path, url: str):
    class Cfg(TestConfig):
        SQLALCHEMY_DATABASE_URI = url
        SQLALCHEMY_ENGINE_OPTIONS = {}
        UPLOAD_DIR = str(tmp_path / "restored" / "uploads")
        LETTER_DIR = str(tmp_path / "restored" / "letters")
        HUEY_FILE = str(tmp_path / "restored" / "jobs.sqlite3")

    return Cfg


def target_url(tmp_path) -> str:
    url = os.environ.get("TEST_DATABASE_URL", "")
    if not url:
        return f"sqlite:///{tmp_path / 'restored.sqlite3'}"
    base, _, name = url.rpartition("/")
    restored = f"{name}_restore"
    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{restored}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{restored}"'))
    engine.dispose()
    return f"{base}/{restored}"


def drop_target(url: str) -> None:
    if url.startswith("postgresql"):
        base, _, name = url.rpartition("/")
        engine = create_engine(os.environ["TEST_DATABASE_URL"], isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        engine.dispose()


@pytest.fixture
def restored(tmp_path):
    url = target_url(tmp_path)
    app2 = create_app(target_config(tmp_path, url))
    yield app2
    with app2.app_context():
        db.session.remove()
        db.engine.dispose()
    drop_target(url)


def run(app, *args):
    # Flask's CLI reuses an app context already pushed (the fixture's): push this app's own.
    with app.app_context():
        return app.test_cli_runner().invoke(args=list(args))


def test_a_backup_restores_into_an_empty_instance_with_history_letters_and_uploads(
    app, users, make_coop, tmp_path, restored
):
    seeded = seed(users, make_coop)
    archive = tmp_path / "backup.tar.gz"
    result = run(app, "backup", "create", str(archive))
    assert result.exit_code == 0, result.output
    assert "Backup written" in result.output

    with tarfile.open(archive) as tar:
        manifest = json.load(tar.extractfile("manifest.json"))
        names = tar.getnames()
    assert manifest["counts"]["cooperative"] == 4
    assert all(len(d) == 64 for d in manifest["files"].values())
    if seeded["upload"]:
        assert f"uploads/audits/{seeded['upload']}" in names

    result = run(restored, "backup", "restore", str(archive))
    assert result.exit_code == 0, result.output
    assert "cooperative: 4" in result.output

    verify = run(restored, "history", "verify")
    assert verify.exit_code == 0, verify.output
    assert "History chain whole" in verify.output
    with restored.app_context():
        assert backup.table_counts() == seeded["counts"]
        letter = db.session.get(Letter, seeded["letter_id"])
        assert hashlib.sha256(letter.pdf).hexdigest() == seeded["letter_sha"] == letter.sha256
        assert db.session.execute(select(Cooperative.name)).scalars().all()
        if seeded["upload"]:
            path = os.path.join(restored.config["UPLOAD_DIR"], "audits", seeded["upload"])
            assert os.path.isfile(path)

    # A second restore finds data and refuses without --force; with it, the result is the same.
    again = run(restored, "backup", "restore", str(archive))
    assert again.exit_code == 1 and "not empty" in again.output and "--force" in again.output
    forced = run(restored, "backup", "restore", str(archive), "--force")
    assert forced.exit_code == 0, forced.output
    assert run(restored, "history", "verify").exit_code == 0


def test_bad_archives_are_refused_with_a_message_not_a_traceback(app, users, tmp_path):
    missing = run(app, "backup", "restore", str(tmp_path / "nope.tar.gz"))
    assert missing.exit_code == 1 and "does not exist" in missing.output

    junk = tmp_path / "junk.tar.gz"
    junk.write_bytes(b"this is not an archive")
    out = run(app, "backup", "restore", str(junk))
    assert out.exit_code == 1 and "not a backup archive" in out.output

    other = tmp_path / "other.tar.gz"
    (tmp_path / "readme.txt").write_text("hello")
    with tarfile.open(other, "w:gz") as tar:
        tar.add(tmp_path / "readme.txt", arcname="readme.txt")
    out = run(app, "backup", "restore", str(other))
    assert out.exit_code == 1 and "not a cooperative-audit backup" in out.output

    # A damaged member (checksum mismatch) and a path escaping the archive are both refused.
    archive = tmp_path / "good.tar.gz"
    assert run(app, "backup", "create", str(archive)).exit_code == 0
    with tarfile.open(archive) as tar:
        manifest = json.load(tar.extractfile("manifest.json"))
        dump_name = manifest["database"]["file"]
        dump = tar.extractfile(dump_name).read()
    for name, data in ((dump_name, dump[:-10] + b"0123456789"), ("../evil.txt", b"x")):
        bad = tmp_path / "bad.tar.gz"
        if name not in manifest["files"]:
            manifest["files"][name] = hashlib.sha256(data).hexdigest()
        with tarfile.open(bad, "w:gz") as tar:
            for member, content in (
                ("manifest.json", json.dumps(manifest).encode()),
                (name, data),
            ):
                info = tarfile.TarInfo(member)
                info.size = len(content)
                tar.addfile(info, io.BytesIO(content))
        out = run(app, "backup", "restore", str(bad), "--force")
        assert out.exit_code == 1, out.output
        assert "Traceback" not in out.output
        assert "checksum" in out.output or "missing" in out.output or "cannot be read" in out.output
    assert not (tmp_path / "evil.txt").exists()
    # Nothing was restored: the users made by the fixture are still here.
    assert backup.in_use().get("user") == 6


def test_a_backup_of_the_other_database_kind_is_refused(app, users, tmp_path):
    archive = tmp_path / "b.tar.gz"
    assert run(app, "backup", "create", str(archive)).exit_code == 0
    with tarfile.open(archive) as tar:
        members = {m.name: tar.extractfile(m).read() for m in tar.getmembers()}
    manifest = json.loads(members["manifest.json"])
    manifest["database"]["dialect"] = "oracle"
    members["manifest.json"] = json.dumps(manifest).encode()
    with tarfile.open(archive, "w:gz") as tar:
        for name, content in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(content)
            tar.addfile(info, io.BytesIO(content))
    out = run(app, "backup", "restore", str(archive), "--force")
    assert out.exit_code == 1 and "oracle database" in out.output


def test_create_into_a_missing_folder_is_a_message(app, tmp_path):
    out = run(app, "backup", "create", str(tmp_path / "no" / "such" / "b.tar.gz"))
    assert out.exit_code == 1 and "does not exist" in out.output


@pytest.mark.postgres
def test_postgres_backup_uses_pg_dump_of_the_server_version(app):
    major = backup._server_major()
    path = backup.pg_binary("pg_dump", major)
    assert backup._binary_major(path) >= major
    with pytest.raises(backup.BackupError, match="not found"):
        backup.pg_binary("pg_dump_does_not_exist", major)
