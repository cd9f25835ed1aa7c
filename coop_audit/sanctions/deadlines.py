"""What is due: the deadlines dashboard and the daily sweep (reminders and due proposals).

The sweep is idempotent: reminders carry a unique key, and a revocation it proposed once for a
warning is never proposed again for the same warning. It never signs anything.
"""

from __future__ import annotations

import secrets
from dataclasses import asdict, dataclass, field
from datetime import date, timedelta
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select, update

from .. import workflow
from ..extensions import db
from ..models import Cooperative, User
from ..models.letters import Letter
from ..models.workflow import Objection, Proposal, Reminder
from ..rules import RuleSettings, deadline_state
from . import operations as ops

SYSTEM_USERNAME = "sistem"


@dataclass
class Item:
    kind: str  # no_receipt | objection_decision | revocation_deadline | window_closing | ready
    cooperative_id: int
    cooperative_name: str
    due_on: date | None
    state: str  # overdue | due_soon | open
    letter_number: str | None = None
    objection_id: int | None = None
    letter_id: int | None = None

    @property
    def label(self) -> str:
        return str(ITEM_LABELS.get(self.kind, self.kind))


def _labels() -> dict[str, Any]:
    from flask_babel import lazy_gettext as _l

    return {
        "no_receipt": _l("Warning with no proof of receipt"),
        "objection_decision": _l("Objection awaiting a decision"),
        "revocation_deadline": _l("Revocation decision due"),
        "window_closing": _l("Objection window closing"),
        "ready": _l("Objection window over: revocation can be proposed"),
    }


ITEM_LABELS = _labels()


@dataclass
class Board:
    today: date
    overdue: list[Item] = field(default_factory=list)
    due_this_week: list[Item] = field(default_factory=list)
    no_receipt: list[Item] = field(default_factory=list)
    objections: list[Item] = field(default_factory=list)
    ready: list[Item] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        return {
            "overdue": len(self.overdue),
            "due_this_week": len(self.due_this_week),
            "no_receipt": len(self.no_receipt),
            "objections": len(self.objections),
            "ready": len(self.ready),
        }


def _warned_with_clock(today: date, s: RuleSettings) -> list[tuple[Cooperative, ops.Clock]]:
    coops = list(
        db.session.execute(
            select(Cooperative).where(Cooperative.status == "warned").order_by(Cooperative.name)
        )
        .unique()
        .scalars()
    )
    return [(c, ops.warning_clock(c, today, s)) for c in coops]


def board(today: date, soon_days: int = 7) -> Board:
    """Everything the office has to act on, from the clocks of warned cooperatives."""
    s = ops.rule_settings()
    b = Board(today)
    pending_by_coop = {
        p.cooperative_id: p
        for p in db.session.execute(select(Proposal).where(Proposal.state == "pending"))
        .unique()
        .scalars()
    }
    for coop, clock in _warned_with_clock(today, s):
        base = {
            "cooperative_id": coop.id,
            "cooperative_name": coop.name,
            "letter_number": clock.letter_number,
            "letter_id": clock.letter_id,
        }
        if clock.no_receipt_alert and clock.issued_on is not None:
            due = clock.issued_on + timedelta(days=s.no_receipt_alert_days)
            b.no_receipt.append(Item("no_receipt", due_on=due, state="overdue", **base))
        if clock.pending_objection_id is not None:
            due = clock.objection_decision_deadline
            item = Item(
                "objection_decision",
                due_on=due,
                state=deadline_state(due, today, soon_days) if due else "open",
                objection_id=clock.pending_objection_id,
                **base,
            )
            b.objections.append(item)
            _bucket(b, item)
        if clock.started:
            if clock.objection_window_over is False:
                item = Item(
                    "window_closing",
                    due_on=clock.objection_deadline,
                    state=deadline_state(clock.objection_deadline, today, soon_days),
                    **base,
                )
                if item.state == "due_soon":
                    b.due_this_week.append(item)
            elif not clock.objection_blocks:
                rev = Item(
                    "revocation_deadline",
                    due_on=clock.revocation_deadline,
                    state=deadline_state(clock.revocation_deadline, today, soon_days),
                    **base,
                )
                _bucket(b, rev)
                waiting = pending_by_coop.get(coop.id)
                if waiting is None:
                    b.ready.append(
                        Item("ready", due_on=clock.revocation_deadline, state=rev.state, **base)
                    )
    for items in (b.overdue, b.due_this_week):
        items.sort(key=lambda i: (i.due_on or today, i.cooperative_name))
    return b


def _bucket(b: Board, item: Item) -> None:
    if item.state == "overdue":
        b.overdue.append(item)
    elif item.state == "due_soon":
        b.due_this_week.append(item)


# ---------------------------------------------------------------- the sweep


def system_user() -> User:
    """The disabled account the sweep proposes as (it can never log in or sign)."""
    user = db.session.execute(
        select(User).where(User.username == SYSTEM_USERNAME)
    ).scalar_one_or_none()
    if user is None:
        from ..users.operations import create_user

        user = create_user(
            SYSTEM_USERNAME,
            "Sistem (pengingat otomatis)",
            "clerk",
            secrets.token_urlsafe(24),
        )
        user.enabled = False
        db.session.flush()
    return user


@dataclass
class SweepResult:
    today: str
    reminders_new: int = 0
    reminders_existing: int = 0
    reminders_resolved: int = 0
    proposals_new: list[int] = field(default_factory=list)
    proposals_skipped: int = 0
    errors: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _remindable(b: Board) -> list[Item]:
    return [*b.no_receipt, *b.objections, *b.overdue, *b.due_this_week]


def _reminder_key(item: Item) -> str:
    ref = item.objection_id or item.letter_id or 0
    return f"{item.kind}:{item.cooperative_id}:{ref}:{item.state}"


def reminder_keys(b: Board) -> set[str]:
    """The reminders the board calls for now (a sweep raises the missing ones)."""
    return {_reminder_key(item) for item in _remindable(b)}


def sweep(today: date) -> SweepResult:
    """Raise reminders for what is due and propose revocations whose window is over."""
    result = SweepResult(today.isoformat())
    b = board(today)
    existing = set(db.session.execute(select(Reminder.key)).scalars())
    current = reminder_keys(b)
    # What was done since (a receipt recorded, an objection decided) is no longer reminded of.
    result.reminders_resolved = db.session.execute(
        update(Reminder)
        .where(Reminder.resolved_on.is_(None), Reminder.key.not_in(current))
        .values(resolved_on=today)
    ).rowcount
    for item in _remindable(b):
        key = _reminder_key(item)
        if key in existing:
            result.reminders_existing += 1
            continue
        existing.add(key)
        db.session.add(
            Reminder(
                key=key,
                kind=item.kind,
                cooperative_id=item.cooperative_id,
                due_on=item.due_on,
                raised_on=today,
                message=f"{item.label}: {item.cooperative_name}",
            )
        )
        result.reminders_new += 1
    db.session.flush()
    if b.ready:
        actor = system_user()
        for item in b.ready:
            already = db.session.execute(
                select(Proposal.id).where(
                    Proposal.cooperative_id == item.cooperative_id,
                    Proposal.trigger == "revoke",
                    Proposal.by_sweep.is_(True),
                    Proposal.evidence.is_not(None),
                    Proposal.proposed_on >= _issued_on(item.letter_id, today),
                )
            ).first()
            if already is not None:
                result.proposals_skipped += 1
                continue
            coop = db.session.get(Cooperative, item.cooperative_id)
            savepoint = db.session.begin_nested()
            try:
                proposal = ops.propose(
                    coop,
                    "revoke",
                    actor,
                    reason=_(
                        "The objection window of warning %(number)s is over with no objection "
                        "pending or accepted.",
                        number=item.letter_number or "-",
                    ),
                    evidence=[
                        {
                            "type": "letter",
                            "id": item.letter_id,
                            "label": item.letter_number or "",
                        }
                    ],
                    today=today,
                    by_sweep=True,
                )
                savepoint.commit()
                result.proposals_new.append(proposal.id)
            except (ops.WorkflowError, workflow.IllegalMove, ops.PermissionDenied) as err:
                savepoint.rollback()
                result.errors.append(f"{item.cooperative_name}: {err}")
    return result


def _issued_on(letter_id: int | None, today: date) -> date:
    if letter_id is None:
        return today
    letter = db.session.get(Letter, letter_id)
    return letter.issued_on if letter is not None else today


def reminder_text(reminder: Reminder) -> str:
    """A reminder in the reader's language. The stored message was written in the language of
    the sweep that raised it; it stays the text for a kind this version no longer knows."""
    label = ITEM_LABELS.get(reminder.kind)
    if label is None or reminder.cooperative is None:
        return reminder.message
    return f"{label}: {reminder.cooperative.name}"


def open_reminders(current: Board, limit: int = 50) -> list[Reminder]:
    """Reminders still called for by the `current` board: one dealt with since the last sweep
    (a receipt recorded this morning) is not shown, though the sweep resolves it only later."""
    return list(
        db.session.execute(
            select(Reminder)
            .where(Reminder.resolved_on.is_(None), Reminder.key.in_(reminder_keys(current)))
            .order_by(Reminder.raised_on.desc(), Reminder.id.desc())
            .limit(limit)
        )
        .unique()
        .scalars()
    )


def pending_objections() -> list[Objection]:
    return list(
        db.session.execute(
            select(Objection).where(Objection.state == "pending").order_by(Objection.received_on)
        )
        .unique()
        .scalars()
    )
