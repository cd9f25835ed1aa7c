"""Field audits: the inspector's checklist (draft, then append-only), evidence files, amendments.

A submitted audit is never changed: a before-flush guard refuses any update of a submitted
`Audit`, any change to its files, and any delete. Corrections are a new audit or an
`AuditAmendment` (a reason and a note, itself append-only).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    event,
    inspect,
)
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from ..extensions import db
from ..timeutil import utcnow
from .core import Cooperative, User, UTCDateTime

AUDIT_STATES = ("draft", "submitted")
FILE_KINDS = ("photo", "document")


def _in(values: tuple[str, ...]) -> str:
    return "(" + ", ".join(f"'{v}'" for v in values) + ")"


class Audit(db.Model):
    """One field visit to one cooperative, with the checklist of the domain primer (section 4)."""

    __tablename__ = "audit"
    __table_args__ = (
        CheckConstraint(f"state IN {_in(AUDIT_STATES)}", name="state"),
        Index("ix_audit_coop_state_date", "cooperative_id", "state", "visit_date"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    cooperative_id: Mapped[int] = mapped_column(ForeignKey("cooperative.id"), index=True)
    state: Mapped[str] = mapped_column(String(12), default="draft")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    saved_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    submitted_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    # The visit
    visit_date: Mapped[date | None] = mapped_column(Date)
    inspectors: Mapped[str | None] = mapped_column(Text)
    met_persons: Mapped[str | None] = mapped_column(Text)
    # Existence
    office_found: Mapped[bool | None] = mapped_column()
    signboard: Mapped[bool | None] = mapped_column()
    board_reachable: Mapped[bool | None] = mapped_column()
    books_present: Mapped[bool | None] = mapped_column()
    # Organisation
    board_complete: Mapped[bool | None] = mapped_column()
    supervisors_complete: Mapped[bool | None] = mapped_column()
    terms_valid: Mapped[bool | None] = mapped_column()
    member_count: Mapped[int | None] = mapped_column(Integer)
    # AD/ART
    adart_exists: Mapped[bool | None] = mapped_column()
    adart_approved: Mapped[bool | None] = mapped_column()
    business_matches_adart: Mapped[bool | None] = mapped_column()
    # RAT for the last three fiscal years: [{"fy", "held", "date", "attendance", "minutes"}]
    rat: Mapped[Any] = mapped_column(JSON, default=list)
    # Business in the last two years
    business_active: Mapped[bool | None] = mapped_column()
    business_description: Mapped[str | None] = mapped_column(Text)
    business_volume: Mapped[int | None] = mapped_column(BigInteger)  # rupiah per year
    business_last_date: Mapped[date | None] = mapped_column(Date)
    # Finance
    balance_sheet: Mapped[bool | None] = mapped_column()
    shu_amount: Mapped[int | None] = mapped_column(BigInteger)  # rupiah, may be negative
    bank_debt: Mapped[int | None] = mapped_column(BigInteger)  # rupiah owed to banks / LPDB
    debt_notes: Mapped[str | None] = mapped_column(Text)
    # Health rating (mainly savings and loan)
    health_rating: Mapped[str | None] = mapped_column(String(30))
    # Village head's statement of inactivity
    village_head_statement: Mapped[bool] = mapped_column(default=False)
    village_head_statement_date: Mapped[date | None] = mapped_column(Date)
    # Outcome
    findings: Mapped[str | None] = mapped_column(Text)
    recommendation: Mapped[str | None] = mapped_column(Text)
    lat: Mapped[float | None] = mapped_column(Float)
    lng: Mapped[float | None] = mapped_column(Float)
    # The verdict at submission (snapshot, Indonesian text as recorded in the history).
    verdict_kind: Mapped[str | None] = mapped_column(String(30))
    verdict_summary: Mapped[str | None] = mapped_column(Text)
    verdict_codes: Mapped[Any] = mapped_column(JSON, default=list)

    cooperative: Mapped[Cooperative] = relationship(lazy="joined")
    created_by: Mapped[User | None] = relationship(foreign_keys=[created_by_id])
    submitted_by: Mapped[User | None] = relationship(foreign_keys=[submitted_by_id])
    files: Mapped[list[AuditFile]] = relationship(
        back_populates="audit", order_by="AuditFile.id", cascade="save-update, merge"
    )
    amendments: Mapped[list[AuditAmendment]] = relationship(
        back_populates="audit", order_by="AuditAmendment.id"
    )

    @property
    def is_draft(self) -> bool:
        return self.state == "draft"

    @property
    def photos(self) -> list[AuditFile]:
        return [f for f in self.files if f.kind == "photo"]

    @property
    def documents(self) -> list[AuditFile]:
        return [f for f in self.files if f.kind == "document"]

    @property
    def rat_years_held(self) -> frozenset[int]:
        return frozenset(int(r["fy"]) for r in self.rat or [] if r.get("fy") and r.get("held"))


class AuditFile(db.Model):
    """A photo or PDF kept as evidence: stored under a random name outside the web root."""

    __tablename__ = "audit_file"
    __table_args__ = (CheckConstraint(f"kind IN {_in(FILE_KINDS)}", name="kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    audit_id: Mapped[int] = mapped_column(ForeignKey("audit.id"), index=True)
    kind: Mapped[str] = mapped_column(String(10))
    stored_name: Mapped[str] = mapped_column(String(80), unique=True)
    thumb_name: Mapped[str | None] = mapped_column(String(80))
    mime: Mapped[str] = mapped_column(String(40))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    # The client's name, for display only (never a path).
    display_name: Mapped[str] = mapped_column(String(120))
    width: Mapped[int | None] = mapped_column(Integer)
    height: Mapped[int | None] = mapped_column(Integer)
    exif_lat: Mapped[float | None] = mapped_column(Float)
    exif_lng: Mapped[float | None] = mapped_column(Float)
    exif_taken_at: Mapped[str | None] = mapped_column(String(30))
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    audit: Mapped[Audit] = relationship(back_populates="files")


class AuditAmendment(db.Model):
    """A correction note on a submitted audit: who, when, why, what (append-only)."""

    __tablename__ = "audit_amendment"

    id: Mapped[int] = mapped_column(primary_key=True)
    audit_id: Mapped[int] = mapped_column(ForeignKey("audit.id"), index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    reason: Mapped[str] = mapped_column(Text)
    note: Mapped[str] = mapped_column(Text)

    audit: Mapped[Audit] = relationship(back_populates="amendments")
    actor: Mapped[User | None] = relationship(lazy="joined")


class SubmittedAuditChanged(RuntimeError):
    """Something tried to change or delete a submitted audit, its files or an amendment."""


def _was_submitted(obj: Audit) -> bool:
    hist = inspect(obj).attrs.state.history
    if hist.deleted:  # the state is being changed in this flush: look at the old value
        return hist.deleted[0] == "submitted"
    return obj.state == "submitted"


@event.listens_for(Session, "before_flush")
def _append_only(session: Session, _ctx: Any, _instances: Any) -> None:
    for obj in session.dirty:
        if isinstance(obj, Audit) and session.is_modified(obj, include_collections=False):
            if _was_submitted(obj):
                raise SubmittedAuditChanged(f"audit {obj.id} is submitted and cannot be edited")
        elif isinstance(obj, (AuditFile, AuditAmendment)) and session.is_modified(
            obj, include_collections=False
        ):
            raise SubmittedAuditChanged(f"{type(obj).__name__} {obj.id} cannot be edited")
    for obj in session.deleted:
        if isinstance(obj, Audit) and _was_submitted(obj):
            raise SubmittedAuditChanged(f"audit {obj.id} is submitted and cannot be deleted")
        if isinstance(obj, AuditAmendment):
            raise SubmittedAuditChanged("amendments cannot be deleted")
        if isinstance(obj, AuditFile) and obj.audit is not None and obj.audit.state == "submitted":
            raise SubmittedAuditChanged("files of a submitted audit cannot be deleted")
    for obj in session.new:
        if isinstance(obj, AuditFile) and obj.audit is not None:
            if obj.audit.state == "submitted" and inspect(obj.audit).persistent:
                if not inspect(obj.audit).attrs.state.history.added:
                    raise SubmittedAuditChanged("files cannot be added to a submitted audit")
