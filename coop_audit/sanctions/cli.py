"""`flask workflow ...`: the daily sweep, the diagram source, and sign-off from a terminal.

Every command answers bad input with a message and exit code 1, never a traceback, and leaves
the database as it was when it fails.
"""

from __future__ import annotations

import json
import sys
from datetime import date

import click
from flask import Flask
from flask.cli import AppGroup
from sqlalchemy import select

from .. import workflow
from ..extensions import db
from ..models import Cooperative, User
from ..models.workflow import Proposal
from ..permissions import PermissionDenied
from ..timeutil import local_today
from . import deadlines as dl
from . import operations as ops

workflow_cli = AppGroup("workflow", help="The sanction workflow.")


def fail(message: str) -> None:
    db.session.rollback()
    click.echo(f"Error: {message}", err=True)
    sys.exit(1)


def _today(value: str | None) -> date:
    if not value:
        return local_today()
    try:
        return date.fromisoformat(value)
    except ValueError:
        fail(f"--today: {value!r} is not a date (YYYY-MM-DD).")
        raise  # unreachable


def _user(username: str) -> User:
    user = db.session.execute(select(User).where(User.username == username)).scalar_one_or_none()
    if user is None or not user.enabled:
        fail(f"--as: no enabled user named {username!r}.")
    return user  # type: ignore[return-value]


@workflow_cli.command("sweep")
@click.option("--today", "today_s", default=None, help="Local date YYYY-MM-DD (default: today).")
@click.option("--json", "as_json", is_flag=True)
def sweep_command(today_s: str | None, as_json: bool) -> None:
    """Raise reminders for due and overdue clocks; propose due revocations (never signs)."""
    today = _today(today_s)
    result = dl.sweep(today)
    db.session.commit()
    if as_json:
        click.echo(json.dumps(result.as_dict(), ensure_ascii=False))
        return
    click.echo(
        f"Sweep {result.today}: {result.reminders_new} new reminders "
        f"({result.reminders_existing} already raised, {result.reminders_resolved} resolved), "
        f"{len(result.proposals_new)} revocations proposed, "
        f"{result.proposals_skipped} already proposed."
    )
    for line in result.errors:
        click.echo(f"  not proposed: {line}")


@workflow_cli.command("diagram")
@click.option("--current", default=None, type=click.Choice([s.value for s in workflow.Status]))
def diagram_command(current: str | None) -> None:
    """Print the state diagram's Mermaid source (drawn from the transition table)."""
    click.echo(workflow.mermaid(current), nl=False)


@workflow_cli.command("sign")
@click.argument("proposal_id", type=int)
@click.option("--as", "username", required=True, help="The signing head's username.")
@click.option("--today", "today_s", default=None)
def sign_command(proposal_id: int, username: str, today_s: str | None) -> None:
    """Sign a proposal as a head (never the proposer)."""
    today = _today(today_s)
    user = _user(username)
    proposal = db.session.get(Proposal, proposal_id)
    if proposal is None:
        fail(f"proposal {proposal_id} does not exist.")
    try:
        ops.sign(proposal, user, today=today)
    except (PermissionDenied, ops.WorkflowError, workflow.IllegalMove) as err:
        fail(str(getattr(err, "message", err)))
    db.session.commit()
    click.echo(
        f"Signed proposal {proposal_id}: {proposal.cooperative.name} is now {proposal.to_status}."
    )


@workflow_cli.command("propose")
@click.argument("cooperative_id", type=int)
@click.argument("trigger", type=click.Choice([t for t in workflow.TRIGGERS]))
@click.option("--as", "username", required=True)
@click.option("--reason", required=True)
@click.option("--document", default=None)
@click.option("--today", "today_s", default=None)
def propose_command(cooperative_id, trigger, username, reason, document, today_s) -> None:
    """Propose a move for a cooperative (a head signs it later)."""
    today = _today(today_s)
    user = _user(username)
    coop = db.session.get(Cooperative, cooperative_id)
    if coop is None:
        fail(f"cooperative {cooperative_id} does not exist.")
    try:
        proposal = ops.propose(coop, trigger, user, reason=reason, document=document, today=today)
    except (PermissionDenied, ops.WorkflowError, workflow.IllegalMove) as err:
        fail(str(getattr(err, "message", err)))
    db.session.commit()
    click.echo(f"Proposal {proposal.id} ({trigger}) for {coop.name}: {proposal.state}.")


def init_app(app: Flask) -> None:
    app.cli.add_command(workflow_cli)
