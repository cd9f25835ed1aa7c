"""Workflow models: proposals waiting for sign-off, objections, and sweep reminders."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, Date, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from ..timeutil import utcnow
from .core import Cooperative, User, UTCDateTime

PROPOSAL_STATES = ("pending", "signed", "refused", "withdrawn", "superseded")
OBJECTION_STATES = ("pending", "accepted", "rejected")


def _in(values: tuple[str, ...]) -> str:
    return "(" + ", ".join(f"'{v}'" for v in values) + ")"


class Proposal(db.Model):
    """A proposed move that waits for a head's sign-off (four-eyes rule)."""

    __tablename__ = "proposal"
    __table_args__ = (
        CheckConstraint(f"state IN {_in(PROPOSAL_STATES)}", name="state"),
        Index("ix_proposal_state_coop", "state", "cooperative_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    cooperative_id: Mapped[int] = mapped_column(ForeignKey("cooperative.id"), index=True)
    trigger: Mapped[str] = mapped_column(String(40))
    from_status: Mapped[str] = mapped_column(String(20))
    to_status: Mapped[str] = mapped_column(String(20))
    state: Mapped[str] = mapped_column(String(12), default="pending")
    reason: Mapped[str] = mapped_column(Text)
    legal_ground: Mapped[str | None] = mapped_column(Text)
    evidence: Mapped[Any] = mapped_column(JSON, default=list)
    document: Mapped[str | None] = mapped_column(String(200))
    proposed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    proposed_on: Mapped[date] = mapped_column(Date)
    proposed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Set by the nightly sweep when it proposed this move (it never signs).
    by_sweep: Mapped[bool] = mapped_column(default=False)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    decided_on: Mapped[date | None] = mapped_column(Date)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    refusal_reason: Mapped[str | None] = mapped_column(Text)

    cooperative: Mapped[Cooperative] = relationship(lazy="joined")
    proposed_by: Mapped[User | None] = relationship(foreign_keys=[proposed_by_id], lazy="joined")
    decided_by: Mapped[User | None] = relationship(foreign_keys=[decided_by_id], lazy="joined")

    @property
    def is_pending(self) -> bool:
        return self.state == "pending"


class Objection(db.Model):
    """A cooperative's objection (keberatan) to a warning; decided by the head within a month."""

    __tablename__ = "objection"
    __table_args__ = (CheckConstraint(f"state IN {_in(OBJECTION_STATES)}", name="state"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    cooperative_id: Mapped[int] = mapped_column(ForeignKey("cooperative.id"), index=True)
    letter_id: Mapped[int | None] = mapped_column(ForeignKey("letter.id"))  # the warning
    received_on: Mapped[date] = mapped_column(Date)
    text: Mapped[str] = mapped_column(Text)
    document: Mapped[str | None] = mapped_column(String(200))
    state: Mapped[str] = mapped_column(String(12), default="pending")
    filed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    filed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    decided_on: Mapped[date | None] = mapped_column(Date)
    decision_reasons: Mapped[str | None] = mapped_column(Text)
    # The reactivation proposal an accepted objection created.
    proposal_id: Mapped[int | None] = mapped_column(ForeignKey("proposal.id"))

    cooperative: Mapped[Cooperative] = relationship(lazy="joined")
    filed_by: Mapped[User | None] = relationship(foreign_keys=[filed_by_id], lazy="joined")
    decided_by: Mapped[User | None] = relationship(foreign_keys=[decided_by_id], lazy="joined")

    @property
    def is_pending(self) -> bool:
        return self.state == "pending"


class Reminder(db.Model):
    """A reminder raised by the sweep; `key` is unique so re-runs never duplicate it."""

    __tablename__ = "reminder"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(120), unique=True)
    kind: Mapped[str] = mapped_column(String(40))
    cooperative_id: Mapped[int | None] = mapped_column(ForeignKey("cooperative.id"), index=True)
    due_on: Mapped[date | None] = mapped_column(Date)
    raised_on: Mapped[date] = mapped_column(Date)
    message: Mapped[str] = mapped_column(Text)
    resolved_on: Mapped[date | None] = mapped_column(Date)
    extra: Mapped[int | None] = mapped_column(Integer)

    cooperative: Mapped[Cooperative | None] = relationship(lazy="joined")


SIGN_JOB_STATES = ("queued", "running", "done", "failed")


class SignJob(db.Model):
    """A bulk sign-off handled by the job queue; the page polls its progress.

    The proposals are signed in chunks, each chunk in one transaction together with its
    outcomes here, so a worker that dies mid-run leaves every chunk either signed and reported
    or untouched; a retry skips the proposals that already have an outcome.
    """

    __tablename__ = "sign_job"
    __table_args__ = (CheckConstraint(f"status IN {_in(SIGN_JOB_STATES)}", name="status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    status: Mapped[str] = mapped_column(String(10), default="queued")
    # The proposals the head ticked, in the order shown (chosen when asked, not when it runs).
    proposal_ids: Mapped[Any] = mapped_column(JSON, default=list)
    # The day of the decision (Asia/Jakarta), fixed when the head asked.
    decided_on: Mapped[date] = mapped_column(Date)
    # The head's language when asking: the outcomes' messages are written in it.
    locale: Mapped[str] = mapped_column(String(10), default="id")
    # One {"proposal_id", "ok", "message", "cooperative_name"} per proposal handled so far.
    outcomes: Mapped[Any] = mapped_column(JSON, default=list)
    total: Mapped[int] = mapped_column(Integer, default=0)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # When the head asked (created, or asked again for the rest of a stopped job): a job not
    # finished long after is not continued by the worker (jobs.SIGN_JOB_MAX_DELAY).
    asked_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Set when queued and by every report of a run; a job whose heartbeat stops lost its
    # worker (running) or its place in the queue (queued): see jobs.recover_stale_jobs.
    heartbeat_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    created_by: Mapped[User] = relationship(lazy="joined")

    @property
    def progress(self) -> int:
        return len(self.outcomes or [])

    @property
    def signed(self) -> int:
        return sum(1 for o in self.outcomes or [] if o.get("ok"))

    @property
    def percent(self) -> int:
        return 100 if self.status == "done" else int(100 * self.progress / max(1, self.total))
