"""Capital-support shortlists: dated snapshots, their ranked entries, and pin/exclude overrides."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Date, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from ..timeutil import utcnow
from .core import Cluster, Cooperative, User, UTCDateTime


class ShortlistOverride(db.Model):
    """The office's decision to pin a cooperative onto, or exclude it from, the shortlist.

    Rows are never deleted: lifting an override sets `lifted_at`, so the record of who decided
    what, and why, stays.
    """

    __tablename__ = "shortlist_override"
    __table_args__ = (Index("ix_shortlist_override_coop", "cooperative_id", "lifted_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    cooperative_id: Mapped[int] = mapped_column(ForeignKey("cooperative.id"))
    action: Mapped[str] = mapped_column(String(10))  # "pin" | "exclude"
    reason: Mapped[str] = mapped_column(Text)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    lifted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    lifted_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))

    cooperative: Mapped[Cooperative] = relationship()
    created_by: Mapped[User | None] = relationship(foreign_keys=[created_by_id])


class Shortlist(db.Model):
    """A saved, dated shortlist for one cluster: what the ranking was on that day."""

    __tablename__ = "shortlist"

    id: Mapped[int] = mapped_column(primary_key=True)
    cluster_id: Mapped[int] = mapped_column(ForeignKey("cluster.id"), index=True)
    taken_on: Mapped[date] = mapped_column(Date)
    title: Mapped[str] = mapped_column(String(200))
    # The criteria (weights, enabled, required) in force when it was saved.
    criteria: Mapped[Any] = mapped_column(JSON)
    # Whether audit results were available to the scoring when it was saved.
    facts_available: Mapped[bool] = mapped_column(default=False)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    cluster: Mapped[Cluster] = relationship(lazy="joined")
    created_by: Mapped[User | None] = relationship()
    entries: Mapped[list[ShortlistEntry]] = relationship(
        back_populates="shortlist", order_by="ShortlistEntry.rank", cascade="all, delete-orphan"
    )


class ShortlistEntry(db.Model):
    """One cooperative's row in a saved shortlist, with its score and the reasons, as printed."""

    __tablename__ = "shortlist_entry"

    id: Mapped[int] = mapped_column(primary_key=True)
    shortlist_id: Mapped[int] = mapped_column(ForeignKey("shortlist.id"), index=True)
    cooperative_id: Mapped[int] = mapped_column(ForeignKey("cooperative.id"))
    rank: Mapped[int] = mapped_column(Integer)
    qualifies: Mapped[bool] = mapped_column()
    score: Mapped[int] = mapped_column(Integer)
    max_score: Mapped[int] = mapped_column(Integer)
    override: Mapped[str | None] = mapped_column(String(10))
    # Copied so the snapshot reads the same after the register changes.
    name: Mapped[str] = mapped_column(String(200))
    place: Mapped[str] = mapped_column(String(200))
    bh_number: Mapped[str | None] = mapped_column(String(80))
    rank_reason: Mapped[Any] = mapped_column(JSON)  # {"code": ..., params}
    breakdown: Mapped[Any] = mapped_column(JSON)  # [{code, outcome, points, weight, reason}]

    shortlist: Mapped[Shortlist] = relationship(back_populates="entries")


# Covering indexes for the map's data endpoint: one grouped pass over narrow index entries
# instead of the table (200,000 cooperatives: ~20 ms instead of ~600 ms on SQLite). The first
# serves filters without a status (grouped by village and cluster in index order), the second
# the usual status filter (and status with kecamatan).
Index(
    "ix_cooperative_map_area",
    Cooperative.desa_kode,
    Cooperative.cluster_id,
    Cooperative.status,
    Cooperative.lat,
    Cooperative.lng,
)
Index(
    "ix_cooperative_map_status",
    Cooperative.status,
    Cooperative.kecamatan_kode,
    Cooperative.desa_kode,
    Cooperative.cluster_id,
    Cooperative.lat,
    Cooperative.lng,
)
