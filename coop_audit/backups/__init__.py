"""The `flask backup` commands (create/restore); the work is in coop_audit/backup.py."""

from __future__ import annotations

import sys

import click
from flask import Flask
from flask.cli import AppGroup

from .. import backup
from ..extensions import db

backup_cli = AppGroup("backup", help="Back up and restore the database, uploads and letters.")


def _fail(message: str) -> None:
    db.session.rollback()
    click.echo(f"Error: {message}", err=True)
    sys.exit(1)


@backup_cli.command("create")
@click.argument("file", type=click.Path(dir_okay=False))
def create_command(file: str) -> None:
    """Write one archive (tar.gz) with the database, uploads and letter files."""
    try:
        result = backup.create(file)
    except backup.BackupError as e:
        _fail(str(e))
    rows = sum(result.counts.values())
    click.echo(
        f"Backup written to {result.path} ({result.dialect}, {rows} rows, "
        f"{result.files} files, {result.bytes:,} bytes)."
    )


@backup_cli.command("restore")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--force", is_flag=True, help="Replace a database that already has data.")
def restore_command(file: str, force: bool) -> None:
    """Verify an archive and restore it into this (empty) instance."""
    try:
        result = backup.restore(file, force=force)
    except backup.BackupError as e:
        _fail(str(e))
    shown = ("cooperative", "user", "history_event", "letter")
    counts = ", ".join(f"{k}: {result.counts.get(k, 0)}" for k in shown)
    click.echo(f"Restored {file} ({counts}; {result.files} files). Run `flask history verify`.")


def init_app(app: Flask) -> None:
    app.cli.add_command(backup_cli)
