"""Backups: one tar.gz with the database dump, the uploads and the letter files, and a manifest.

The archive holds ``manifest.json`` (format, database kind, row counts, sha256 of every other
member), ``database.sqlite3`` (SQLite, written with the online backup API, so the app may keep
running) or ``database.pgdump`` (PostgreSQL, ``pg_dump -Fc``), and the files of ``UPLOAD_DIR``
under ``uploads/`` and of ``LETTER_DIR`` under ``letters/``. Issued letter PDFs live in the
database (``Letter.pdf``) and come with it.

Restore verifies the whole archive before touching anything, refuses a database that already
holds users, cooperatives or history unless forced, and replaces the database in one step
(SQLite: the backup API into the live connection; PostgreSQL: one psql transaction that drops
the schema and replays the dump).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3

# pg_dump/pg_restore/psql run with argument lists, no shell.
import subprocess  # nosec B404
import tarfile
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from flask import current_app
from sqlalchemy import func, inspect, select, text

from .extensions import db
from .timeutil import utcnow

FORMAT = "coop-audit-backup"
VERSION = 1
MANIFEST = "manifest.json"
# A database holding any of these rows is "in use": restore refuses it without --force.
CONTENT_TABLES = ("user", "cooperative", "history_event", "letter")
PG_SEARCH = "/usr/lib/postgresql/*/bin"


class BackupError(Exception):
    """A backup or restore that cannot go ahead; the message is for the operator."""


@dataclass
class Result:
    path: Path
    dialect: str
    counts: dict[str, int]
    files: int
    bytes: int = 0
    notes: list[str] = field(default_factory=list)


# ---------------------------------------------------------------- helpers


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _dialect() -> str:
    return db.engine.dialect.name


def table_counts() -> dict[str, int]:
    """Rows per table of the application's schema (the ones that exist)."""
    names = set(inspect(db.engine).get_table_names())
    counts = {}
    with db.engine.connect() as conn:
        for table in db.metadata.sorted_tables:
            if table.name in names:
                n = conn.execute(select(func.count()).select_from(table)).scalar_one()
                counts[table.name] = int(n)
    return counts


def _dirs() -> dict[str, Path]:
    return {
        "uploads": Path(current_app.config["UPLOAD_DIR"]),
        "letters": Path(current_app.config["LETTER_DIR"]),
    }


# ---------------------------------------------------------------- PostgreSQL binaries


def _server_major() -> int:
    with db.engine.connect() as conn:
        num = int(conn.execute(text("SHOW server_version_num")).scalar_one())
    return num // 10000


def _binary_major(path: str) -> int | None:
    try:
        # An argument list (no shell) naming a PostgreSQL binary we located ourselves.
        out = subprocess.run(  # noqa: S603 # nosec B603
            [path, "--version"], capture_output=True, text=True, timeout=30, check=True
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    for word in out.split():
        head = word.split(".")[0]
        if head.isdigit():
            return int(head)
    return None


def pg_binary(name: str, server_major: int) -> str:
    """The `name` binary (pg_dump, pg_restore, psql) of the server's major version, or a newer
    one; PostgreSQL tools refuse to dump a server newer than themselves."""
    candidates = [Path(PG_SEARCH.replace("*", str(server_major))) / name]
    candidates += sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"), reverse=True)
    found = shutil.which(name)
    if found:
        candidates.append(Path(found))
    for path in candidates:
        if path.is_file() and os.access(path, os.X_OK):
            major = _binary_major(str(path))
            if major is not None and major >= server_major:
                return str(path)
    raise BackupError(
        f"{name} for PostgreSQL {server_major} was not found (looked in "
        f"/usr/lib/postgresql/{server_major}/bin and on PATH). Install the client tools of "
        f"the server's version, e.g. `apt-get install postgresql-client-{server_major}`."
    )


def _pg_args_env() -> tuple[list[str], dict[str, str]]:
    url = db.engine.url
    args = []
    if url.host:
        args += ["-h", url.host]
    if url.port:
        args += ["-p", str(url.port)]
    if url.username:
        args += ["-U", url.username]
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = str(url.password)  # not on the command line (visible in ps)
    return [*args, "-d", url.database or "postgres"], env


def _run(cmd: list[str], env: dict[str, str], what: str) -> None:
    # An argument list (no shell); the binary comes from pg_binary(), the values from our URL.
    proc = subprocess.run(  # noqa: S603 # nosec B603
        cmd, capture_output=True, text=True, env=env, check=False
    )
    if proc.returncode != 0:
        detail = (proc.stderr or proc.stdout).strip().splitlines()
        raise BackupError(f"{what} failed: {detail[-1] if detail else proc.returncode}")


# ---------------------------------------------------------------- create


def create(path: str | Path) -> Result:
    """Write a backup archive to `path` (written to a temporary name, then renamed)."""
    path = Path(path)
    if path.exists() and path.is_dir():
        raise BackupError(f"{path} is a directory; give a file name such as backup.tar.gz")
    if not path.parent.exists():
        raise BackupError(f"the folder {path.parent} does not exist")
    dialect = _dialect()
    if dialect not in ("sqlite", "postgresql"):
        raise BackupError(f"backups support SQLite and PostgreSQL, not {dialect}")
    counts = table_counts()
    with tempfile.TemporaryDirectory(prefix="coop-backup-") as tmp:
        tmpdir = Path(tmp)
        if dialect == "sqlite":
            dump_name = "database.sqlite3"
            _sqlite_dump(tmpdir / dump_name)
        else:
            dump_name = "database.pgdump"
            _pg_dump(tmpdir / dump_name)
        members: dict[str, Path] = {dump_name: tmpdir / dump_name}
        for prefix, folder in _dirs().items():
            if not folder.is_dir():
                continue
            for f in sorted(folder.rglob("*")):
                if f.is_file() and not f.is_symlink() and not f.name.endswith(".part"):
                    members[f"{prefix}/{f.relative_to(folder).as_posix()}"] = f
        manifest = {
            "format": FORMAT,
            "version": VERSION,
            "created_at": utcnow().isoformat(),
            "database": {"dialect": dialect, "file": dump_name},
            "counts": counts,
            "files": {name: _sha256(p) for name, p in members.items()},
        }
        (tmpdir / MANIFEST).write_text(json.dumps(manifest, indent=1, sort_keys=True))
        partial = path.with_name(path.name + ".part")
        try:
            with tarfile.open(partial, "w:gz") as tar:
                tar.add(tmpdir / MANIFEST, arcname=MANIFEST)
                for name, p in members.items():
                    tar.add(p, arcname=name, recursive=False)
            os.replace(partial, path)
        finally:
            partial.unlink(missing_ok=True)
    files = sum(1 for n in members if n != dump_name)
    return Result(path, dialect, counts, files, path.stat().st_size)


def _sqlite_dump(target: Path) -> None:
    raw = db.engine.raw_connection()
    try:
        dst = sqlite3.connect(target)
        try:
            raw.driver_connection.backup(dst)
        finally:
            dst.close()
    finally:
        raw.close()


def _pg_dump(target: Path) -> None:
    binary = pg_binary("pg_dump", _server_major())
    args, env = _pg_args_env()
    _run([binary, "-Fc", "--no-owner", "--no-privileges", "-f", str(target), *args], env, "pg_dump")


# ---------------------------------------------------------------- restore


def read_manifest(tar: tarfile.TarFile, source: Path) -> dict:
    try:
        member = tar.getmember(MANIFEST)
        fh = tar.extractfile(member)
        manifest = json.loads(fh.read()) if fh else None
    except (KeyError, ValueError):
        manifest = None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise BackupError(f"{source} is not a cooperative-audit backup (no valid manifest.json)")
    if manifest.get("version") != VERSION:
        raise BackupError(
            f"{source} is a backup of format version {manifest.get('version')}; "
            f"this program reads version {VERSION}"
        )
    return manifest


def verify(source: str | Path, into: Path) -> dict:
    """Check and extract the archive into `into`; returns the manifest. Nothing else changes."""
    source = Path(source)
    if not source.exists():
        raise BackupError(f"{source} does not exist")
    if not source.is_file():
        raise BackupError(f"{source} is not a file")
    if not tarfile.is_tarfile(source):
        raise BackupError(f"{source} is not a backup archive (expected a .tar.gz)")
    try:
        with tarfile.open(source, "r:*") as tar:
            manifest = read_manifest(tar, source)
            expected = manifest.get("files") or {}
            names = set()
            for m in tar.getmembers():
                if m.name == MANIFEST:
                    continue
                if m.name not in expected or not m.isfile():
                    raise BackupError(f"{source}: unexpected member {m.name!r}")
                names.add(m.name)
            missing = set(expected) - names
            if missing:
                raise BackupError(f"{source}: missing {', '.join(sorted(missing))}")
            # "data" filter: no absolute paths, no .., no links or devices.
            tar.extractall(into, filter="data")  # members checked above; data filter
    except (tarfile.TarError, EOFError, OSError) as e:
        raise BackupError(f"{source} cannot be read: {e}") from None
    for name, digest in expected.items():
        if _sha256(into / name) != digest:
            raise BackupError(f"{source}: {name} does not match its checksum (damaged archive)")
    return manifest


def in_use() -> dict[str, int]:
    """Content rows in the current database (empty dict = safe to restore into)."""
    names = set(inspect(db.engine).get_table_names())
    out = {}
    with db.engine.connect() as conn:
        for t in CONTENT_TABLES:
            if t in names:
                table = db.metadata.tables[t]
                n = conn.execute(select(func.count()).select_from(table)).scalar_one()
                if n:
                    out[t] = int(n)
    return out


def restore(source: str | Path, *, force: bool = False) -> Result:
    source = Path(source)
    dialect = _dialect()
    with tempfile.TemporaryDirectory(prefix="coop-restore-") as tmp:
        tmpdir = Path(tmp)
        manifest = verify(source, tmpdir)
        kind = (manifest.get("database") or {}).get("dialect")
        dump_name = (manifest.get("database") or {}).get("file")
        if kind != dialect:
            raise BackupError(
                f"{source} holds a {kind} database; this instance uses {dialect}. "
                "Restore it into an instance of the same kind."
            )
        if not dump_name or not (tmpdir / dump_name).is_file():
            raise BackupError(f"{source}: the database dump is missing")
        busy = in_use()
        if busy and not force:
            rows = ", ".join(f"{k}: {v}" for k, v in busy.items())
            raise BackupError(
                f"the database is not empty ({rows}); restore refuses to overwrite it. "
                "Use --force to replace it."
            )
        if not force:
            _check_file_conflicts(tmpdir, manifest)
        db.session.remove()
        if dialect == "sqlite":
            _sqlite_restore(tmpdir / dump_name)
        else:
            _pg_restore(tmpdir / dump_name, tmpdir)
        db.engine.dispose()
        files = _restore_files(tmpdir, manifest, replace=force)
    counts = table_counts()
    notes = []
    for table, n in (manifest.get("counts") or {}).items():
        if counts.get(table) != n:
            notes.append(f"{table}: backup had {n} rows, restored {counts.get(table)}")
    if notes:
        raise BackupError("restored row counts differ: " + "; ".join(notes))
    return Result(source, dialect, counts, files)


def _sqlite_restore(dump: Path) -> None:
    src = sqlite3.connect(dump)
    raw = db.engine.raw_connection()
    try:
        src.backup(raw.driver_connection)
    finally:
        raw.close()
        src.close()


def _pg_restore(dump: Path, tmpdir: Path) -> None:
    major = _server_major()
    pg_restore = pg_binary("pg_restore", major)
    psql = pg_binary("psql", major)
    script = tmpdir / "restore.sql"
    _run(
        [pg_restore, "--no-owner", "--no-privileges", "-f", str(script), str(dump)],
        dict(os.environ),
        "pg_restore",
    )
    db.engine.dispose()  # our own pooled connections would block DROP SCHEMA
    args, env = _pg_args_env()
    _run(
        [
            psql,
            "-X",
            "-q",
            "-v",
            "ON_ERROR_STOP=1",
            "--single-transaction",
            *args,
            "-c",
            "DROP SCHEMA IF EXISTS public CASCADE; CREATE SCHEMA public;",
            "-f",
            str(script),
        ],
        env,
        "restoring the PostgreSQL dump",
    )


def _file_targets(manifest: dict) -> list[tuple[str, Path]]:
    dirs = _dirs()
    out = []
    for name in manifest.get("files") or {}:
        prefix, _, rel = name.partition("/")
        if prefix in dirs and rel:
            out.append((name, dirs[prefix] / rel))
    return out


def _check_file_conflicts(tmpdir: Path, manifest: dict) -> None:
    for name, target in _file_targets(manifest):
        if target.exists() and _sha256(target) != _sha256(tmpdir / name):
            raise BackupError(f"{target} already exists and differs; use --force to replace it")


def _restore_files(tmpdir: Path, manifest: dict, *, replace: bool) -> int:
    n = 0
    for name, target in _file_targets(manifest):
        if target.exists() and not replace and _sha256(target) == _sha256(tmpdir / name):
            n += 1
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        part = target.with_name(target.name + ".part")
        shutil.copyfile(tmpdir / name, part)
        os.replace(part, target)
        n += 1
    return n
