"""Command-line interface: setup, users, demo data, register stats, history verification.

Every command answers bad input with a message and a non-zero exit, never a traceback, and
leaves the database as it was when it fails.
"""

from __future__ import annotations

import functools
import json
import sys

import click
from flask import Flask, current_app
from flask.cli import AppGroup, with_appcontext
from flask_migrate import upgrade
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from . import history
from .demo import SeedRefused, seed
from .extensions import db
from .models import ROLES, User
from .regions import ensure_reference_data
from .users.operations import UserError, create_user

users_cli = AppGroup("users", help="Manage user accounts.")
demo_cli = AppGroup("demo", help="Demo data.")
registry_cli = AppGroup("registry", help="The cooperative register.")
history_cli = AppGroup("history", help="The tamper-evident history.")


def fail(message: str, code: int = 1) -> None:
    db.session.rollback()
    click.echo(f"Error: {message}", err=True)
    sys.exit(code)


@click.command("setup")
@with_appcontext
def setup_command() -> None:
    """Create or upgrade the database schema and load the reference data."""
    upgrade()
    added = ensure_reference_data()
    db.session.commit()
    click.echo(f"Database ready ({', '.join(f'{k}: +{v}' for k, v in added.items())}).")


@users_cli.command("create")
@click.argument("username")
@click.option("--role", required=True, type=click.Choice(ROLES))
@click.option("--name", "full_name", required=True, help="Full name with titles.")
@click.option("--nip", default=None, help="18-digit NIP.")
@click.option("--rank", default=None)
@click.option("--title", "job_title", default=None)
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
def users_create(username, role, full_name, nip, rank, job_title, password_stdin) -> None:
    """Create a user; the password is asked for (or read from stdin)."""
    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        user = create_user(
            username, full_name, role, password, nip=nip, rank=rank, job_title=job_title
        )
    except UserError as e:
        fail(f"{e.field}: {e.message}")
    db.session.commit()
    click.echo(f"Created {user.username} ({user.role}).")


@users_cli.command("list")
def users_list() -> None:
    """List users."""
    for u in db.session.execute(select(User).order_by(User.username)).scalars():
        state = "" if u.enabled else " (disabled)"
        click.echo(f"{u.username:<20} {u.role:<10} {u.full_name}{state}")


@demo_cli.command("seed")
@click.option("--cooperatives", default=1163, show_default=True, type=click.IntRange(0, 2_000_000))
@click.option("--active", default=250, show_default=True, type=click.IntRange(0, 2_000_000))
@click.option("--seed", "seed_value", default=2026, show_default=True, type=int)
@click.option("--if-empty", is_flag=True, help="Do nothing (exit 0) when the register has data.")
def demo_seed(cooperatives: int, active: int, seed_value: int, if_empty: bool) -> None:
    """Fill an empty register with deterministic demo data and one user per role."""
    production = current_app.config.get("ENV_NAME") == "production"
    try:
        result = seed(cooperatives, active, seed_value, production=production)
    except SeedRefused as e:
        if if_empty and "already" in str(e):
            db.session.rollback()
            click.echo("The register already has data; demo seed skipped.")
            return
        fail(str(e))
    db.session.commit()
    click.echo(f"Seeded {result.cooperatives} cooperatives ({result.active} active).")
    if result.passwords:
        lines = [f"  {u:<10} {p}" for u, p in result.passwords.items()]
        text = "Demo logins (printed once; also saved to instance/demo-logins.txt):\n" + "\n".join(
            lines
        )
        click.echo(text)
        path = current_app.instance_path + "/demo-logins.txt"
        with open(path, "w", encoding="utf-8") as fh:
            fh.write("\n".join(lines) + "\n")


@registry_cli.command("stats")
@click.option("--json", "as_json", is_flag=True)
def registry_stats(as_json: bool) -> None:
    """Totals by status and by kecamatan."""
    from .dashboard import register_stats

    s = register_stats()
    out = {
        "total": s["total"],
        "by_status": s["by_status"],
        "by_kecamatan": {k: sum(v.values()) for k, v in s["by_kecamatan_status"].items()},
    }
    if as_json:
        click.echo(json.dumps(out, ensure_ascii=False))
    else:
        click.echo(f"total: {out['total']}")
        for k, v in out["by_status"].items():
            click.echo(f"  {k}: {v}")


@history_cli.command("verify")
def history_verify() -> None:
    """Check the hash chain; exit 1 naming the first broken row."""
    result = history.verify()
    if result.ok:
        click.echo(f"History chain whole: {result.checked} rows verified.")
        return
    fail(
        f"history row {result.broken_id} is broken ({result.problem}); "
        f"{result.checked} rows before it are intact."
    )


def _guard(command: click.Command) -> None:
    """Turn database and file-system failures of any app command into a clear message."""
    if isinstance(command, click.Group):
        for sub in command.commands.values():
            _guard(sub)
        return
    callback = command.callback
    if callback is None or getattr(callback, "_guarded", False):
        return

    @functools.wraps(callback)
    def guarded(*args, **kwargs):
        try:
            return callback(*args, **kwargs)
        except SQLAlchemyError as e:
            text = str(getattr(e, "orig", e)).splitlines()[0]
            hint = ""
            if "no such table" in text or "does not exist" in text:
                hint = " Run `flask setup` first."
            fail(f"database error: {text}.{hint}")
        except OSError as e:
            fail(f"{e.strerror or e} ({e.filename or ''})".strip())

    guarded._guarded = True  # type: ignore[attr-defined]
    command.callback = guarded


def init_app(app: Flask) -> None:
    app.cli.add_command(setup_command)
    for group in (users_cli, demo_cli, registry_cli, history_cli):
        app.cli.add_command(group)
    # Feature commands are registered before this runs (create_app order).
    for command in app.cli.commands.values():
        _guard(command)
