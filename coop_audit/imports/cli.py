"""`flask registry import FILE` and `flask registry export FILE`.

Import exit status: 0 nothing rejected, 3 some rows rejected, 2 the file could not be read at
all (and 1 for other refusals, e.g. an unknown --user). A failed import leaves the database as
it was.
"""

from __future__ import annotations

import json
import sys
from datetime import date
from pathlib import Path

import click
from flask import Flask
from sqlalchemy import select

from ..cli import registry_cli
from ..extensions import db
from ..models import User
from ..permissions import PermissionDenied
from ..registry.query import RegisterFilter
from ..registry.reader import MAX_FILE_BYTES, ReadError, read_table
from ..timeutil import local_today
from . import exports
from .operations import import_register

EXIT_REJECTED = 3
EXIT_UNREADABLE = 2


def _fail(message: str, code: int = 1) -> None:
    db.session.rollback()
    click.echo(f"Error: {message}", err=True)
    sys.exit(code)


def _today(value: str | None) -> date:
    if not value:
        return local_today()
    try:
        return date.fromisoformat(value)
    except ValueError:
        _fail(f"--today: {value!r} is not a date (YYYY-MM-DD).")
        raise  # unreachable


def _user(username: str | None) -> User | None:
    if not username:
        return None
    user = db.session.execute(select(User).where(User.username == username)).scalar_one_or_none()
    if user is None or not user.enabled:
        _fail(f"--user: no enabled user named {username!r}.")
    return user


@registry_cli.command("import")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--dry-run", is_flag=True, help="Show what would happen; write nothing.")
@click.option("--strict", is_flag=True, help="Write nothing when any row is rejected.")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
@click.option("--user", "username", default=None, help="The importing user (for the history).")
@click.option("--today", default=None, help="Local date YYYY-MM-DD (default: today).")
def import_command(
    file: str, dry_run: bool, strict: bool, as_json: bool, username: str | None, today: str | None
) -> None:
    """Import a register spreadsheet (.xlsx or .csv); prints a summary (or JSON)."""
    actor = _user(username)
    day = _today(today)
    path = Path(file)
    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            _fail(f"{file}: the file is larger than {MAX_FILE_BYTES // 2**20} MB.", EXIT_UNREADABLE)
        data = path.read_bytes()
    except OSError as e:
        _fail(f"{file}: {e.strerror or e}", EXIT_UNREADABLE)
    try:
        table = read_table(data, path.name)
        result = import_register(table, actor, today=day, write=not dry_run, strict=strict)
    except ReadError as e:
        _fail(f"{file}: {e.message}", EXIT_UNREADABLE)
    except PermissionDenied as e:
        _fail(e.message)
    if result.written and not result.blocked:
        db.session.commit()
    else:
        db.session.rollback()
    summary = result.summary()
    if as_json:
        click.echo(json.dumps(summary, ensure_ascii=False))
    else:
        _print_summary(summary, dry_run=dry_run, blocked=result.blocked)
    if result.blocked:
        click.echo("Nothing was imported (--strict and some rows were rejected).", err=True)
    if summary["rejected"]:
        sys.exit(EXIT_REJECTED)


def _print_summary(summary: dict, *, dry_run: bool, blocked: bool) -> None:
    head = "Dry run (nothing written)" if dry_run or blocked else "Imported"
    click.echo(
        f"{head}: {summary['file']}: {summary['rows']} rows; created {summary['created']}, "
        f"updated {summary['updated']}, unchanged {summary['unchanged']}, "
        f"rejected {summary['rejected']}, duplicates {summary['duplicates']}, "
        f"warnings {summary['warnings']}."
    )
    for r in summary["results"]:
        if r["outcome"] in ("rejected", "duplicate") or r["messages"]:
            for m in r["messages"]:
                click.echo(
                    f"  row {r['row']} [{r['outcome']}] {m['field']} {m['level']}: {m['text']}"
                )


@registry_cli.command("export")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option(
    "--status",
    type=click.Choice(["all", "active", "dormant", "warned", "license_revoked"]),
    default="all",
    show_default=True,
)
@click.option("--kecamatan", default=None, help="Kecamatan name or code.")
@click.option("--q", default=None, help="Search text (name, BH number, NIK, chair).")
def export_command(file: str, status: str | None, kecamatan: str | None, q: str | None) -> None:
    """Export the register (optionally filtered) to FILE (.xlsx or .csv)."""
    from ..geo import regions

    args: dict[str, str] = {"status": status or "all", "q": q or ""}
    if kecamatan:
        kec = regions().find_kecamatan(kecamatan) or regions().kecamatan.get(kecamatan)
        if kec is None:
            _fail(f"--kecamatan: {kecamatan!r} is not a kecamatan of Karanganyar.")
        args["kecamatan"] = kec.kode
    flt = RegisterFilter.from_args(args)
    path = Path(file)
    suffix = path.suffix.lower()
    if suffix not in (".xlsx", ".csv"):
        _fail(f"{file}: the export file must end in .xlsx or .csv.")
    tmp = path.with_name(path.name + ".part")
    with tmp.open("wb") as fh:
        count = (exports.write_xlsx if suffix == ".xlsx" else exports.write_csv)(flt, fh)
    tmp.replace(path)
    click.echo(f"Exported {count} cooperatives to {file}.")


def init_app(app: Flask) -> None:
    """The commands are registered on the `registry` group when this module is imported."""
