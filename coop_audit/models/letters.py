"""Letters: issued official letters (stored PDF bytes, number, verification token, receipt)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Date,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, deferred, mapped_column, relationship

from ..extensions import db
from .core import Cooperative, User, UTCDateTime

LETTER_KINDS = (
    "warning",
    "revocation",
    "objection_decision",
    "reactivation",
    "reinstatement",
    "proposal",
)


class LetterSequence(db.Model):
    """The last number used per letter kind and year; locked while a number is taken."""

    __tablename__ = "letter_sequence"

    kind: Mapped[str] = mapped_column(String(30), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    last_seq: Mapped[int] = mapped_column(Integer, default=0)


class Letter(db.Model):
    """An issued letter. Its PDF bytes never change; voiding keeps the number in the register."""

    __tablename__ = "letter"
    __table_args__ = (
        UniqueConstraint("kind", "year", "seq", name="uq_letter_kind_year_seq"),
        Index("ix_letter_coop", "cooperative_id", "kind"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(30))
    year: Mapped[int] = mapped_column(Integer)
    seq: Mapped[int] = mapped_column(Integer)
    number: Mapped[str] = mapped_column(String(120), unique=True)
    cooperative_id: Mapped[int | None] = mapped_column(ForeignKey("cooperative.id"), index=True)
    # The workflow proposal whose sign-off issued this letter (none for the upward proposal).
    proposal_id: Mapped[int | None] = mapped_column(Integer, index=True)
    issued_on: Mapped[date] = mapped_column(Date)  # local date in Asia/Jakarta
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime)
    signer_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    # Settings and data as they were when issued: later setting changes never alter it.
    snapshot: Mapped[Any] = mapped_column(JSON, default=dict)
    pdf: Mapped[bytes] = deferred(mapped_column(LargeBinary))
    sha256: Mapped[str] = mapped_column(String(64))
    token: Mapped[str] = mapped_column(String(64), unique=True)  # for /verify/<token>
    short_code: Mapped[str] = mapped_column(String(16), unique=True)
    voided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    void_reason: Mapped[str | None] = mapped_column(Text)
    voided_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    # Proof of receipt (tanda terima): the legal clocks start on receipt_date.
    receipt_date: Mapped[date | None] = mapped_column(Date)
    receipt_receiver: Mapped[str | None] = mapped_column(String(120))
    receipt_method: Mapped[str | None] = mapped_column(String(30))  # hand, post, announcement
    receipt_scan: Mapped[str | None] = mapped_column(String(200))  # stored upload name
    receipt_recorded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    receipt_recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    # When the letter could not be delivered: start date of the public announcement.
    announced_on: Mapped[date | None] = mapped_column(Date)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # printed/posted by a clerk

    cooperative: Mapped[Cooperative | None] = relationship(lazy="joined")
    signer: Mapped[User] = relationship(foreign_keys=[signer_id], lazy="joined")

    @property
    def is_void(self) -> bool:
        return self.voided_at is not None

    @property
    def clock_start(self) -> date | None:
        """The date the legal clock starts: receipt, else the announcement's start."""
        return self.receipt_date or self.announced_on


BATCH_STATUSES = ("queued", "running", "done", "failed")


class BatchJob(db.Model):
    """A batch print run handled by the job queue; the page polls its progress."""

    __tablename__ = "letter_batch_job"

    id: Mapped[int] = mapped_column(primary_key=True)
    status: Mapped[str] = mapped_column(String(10), default="queued")
    # The letters to merge, in print order (chosen when the clerk asked, not when it runs).
    letter_ids: Mapped[Any] = mapped_column(JSON, default=list)
    filters: Mapped[Any] = mapped_column(JSON, default=dict)
    total: Mapped[int] = mapped_column(Integer, default=0)
    progress: Mapped[int] = mapped_column(Integer, default=0)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    # Set only after the finished file was renamed into place: never a half-written PDF.
    result_path: Mapped[str | None] = mapped_column(String(300))
    error: Mapped[str | None] = mapped_column(Text)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # Updated while running; a running job whose heartbeat stops was killed with its worker.
    heartbeat_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    created_by: Mapped[User | None] = relationship(lazy="joined")

    @property
    def percent(self) -> int:
        return 100 if self.status == "done" else int(100 * self.progress / max(1, self.total))
