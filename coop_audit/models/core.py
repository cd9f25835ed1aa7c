"""Core models: the region tables, users, clusters, cooperatives, settings and the history chain."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from flask_login import UserMixin
from sqlalchemy import (
    DDL,
    JSON,
    CheckConstraint,
    Computed,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    TypeDecorator,
    event,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from ..timeutil import utcnow


class UTCDateTime(TypeDecorator):
    """Aware UTC datetimes in, aware UTC datetimes out (SQLite forgets the zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


ROLES = ("admin", "inspector", "head", "clerk", "viewer")
STATUSES = ("active", "dormant", "warned", "license_revoked")
JENIS = ("simpan_pinjam", "konsumen", "produsen", "pemasaran", "jasa")
BENTUK = ("primer", "sekunder")


def _in(values: tuple[str, ...]) -> str:
    return "(" + ", ".join(f"'{v}'" for v in values) + ")"


class Kecamatan(db.Model):
    __tablename__ = "kecamatan"

    kode: Mapped[str] = mapped_column(String(8), primary_key=True)  # 33.13.xx
    nama: Mapped[str] = mapped_column(String(60), unique=True)
    lat: Mapped[float] = mapped_column(Float)
    lng: Mapped[float] = mapped_column(Float)
    # The boundary polygon (tens of KB). Deferred: every cooperative loads its kecamatan and
    # desa by a join, and would otherwise carry both polygons along.
    geojson: Mapped[str] = mapped_column(Text, deferred=True)

    villages: Mapped[list[Desa]] = relationship(back_populates="kecamatan", order_by="Desa.nama")


class Desa(db.Model):
    """A desa or kelurahan; keyed by code because names repeat across kecamatan."""

    __tablename__ = "desa"

    kode: Mapped[str] = mapped_column(String(13), primary_key=True)  # 33.13.xx.xxxx
    kecamatan_kode: Mapped[str] = mapped_column(ForeignKey("kecamatan.kode"), index=True)
    nama: Mapped[str] = mapped_column(String(60))
    jenis: Mapped[str] = mapped_column(String(10))  # desa | kelurahan
    lat: Mapped[float] = mapped_column(Float)
    lng: Mapped[float] = mapped_column(Float)
    geojson: Mapped[str] = mapped_column(Text, deferred=True)  # deferred: see Kecamatan

    kecamatan: Mapped[Kecamatan] = relationship(back_populates="villages")


class Cluster(db.Model):
    """A business cluster (editable taxonomy)."""

    __tablename__ = "cluster"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    color: Mapped[str] = mapped_column(String(7), default="#6c757d")
    sort_order: Mapped[int] = mapped_column(Integer, default=0)
    active: Mapped[bool] = mapped_column(default=True)


class User(UserMixin, db.Model):
    __tablename__ = "user"
    __table_args__ = (CheckConstraint(f"role IN {_in(ROLES)}", name="role"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(40), unique=True)
    full_name: Mapped[str] = mapped_column(String(120))
    nip: Mapped[str | None] = mapped_column(String(18))
    rank: Mapped[str | None] = mapped_column(String(80))
    job_title: Mapped[str | None] = mapped_column(String(160))
    role: Mapped[str] = mapped_column(String(12))
    password_hash: Mapped[str] = mapped_column(String(255))
    # Named `enabled`, not `active`/`is_active`: Flask-Login's is_active reads it.
    enabled: Mapped[bool] = mapped_column(default=True)
    locale: Mapped[str] = mapped_column(String(5), default="id")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    @property
    def is_active(self) -> bool:  # Flask-Login: disabled users cannot log in
        return self.enabled

    def has_role(self, *roles: str) -> bool:
        return self.role in roles


class Cooperative(db.Model):
    __tablename__ = "cooperative"
    __table_args__ = (
        CheckConstraint(f"status IN {_in(STATUSES)}", name="status"),
        CheckConstraint(f"jenis IN {_in(JENIS)}", name="jenis"),
        CheckConstraint(f"bentuk IN {_in(BENTUK)}", name="bentuk"),
        Index("ix_cooperative_status_kecamatan", "status", "kecamatan_kode"),
        # The register's default order; with the id in the index a page is found by an
        # index-only scan (the page's ids first, then its 50 rows: RegisterFilter.page).
        Index("ix_cooperative_name_key_id", "name_key", "id"),
        # PostgreSQL: text search ("%word%") through a trigram index instead of reading every
        # row (migration 0002; pg_trgm is created by the migration or before create_all).
        Index(
            "ix_cooperative_search_trgm",
            "search_text",
            postgresql_using="gin",
            postgresql_ops={"search_text": "gin_trgm_ops"},
        ).ddl_if(dialect="postgresql"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    # Lower-cased, space-collapsed name: sorting and duplicate detection use it.
    name_key: Mapped[str] = mapped_column(String(200))
    jenis: Mapped[str] = mapped_column(String(20))
    kelompok: Mapped[str | None] = mapped_column(String(80))
    bentuk: Mapped[str] = mapped_column(String(10), default="primer")
    bh_number: Mapped[str | None] = mapped_column(String(80), unique=True)
    bh_date: Mapped[date | None] = mapped_column(Date)
    nik: Mapped[str | None] = mapped_column(String(30), unique=True)
    street: Mapped[str | None] = mapped_column(String(200))
    rt: Mapped[str | None] = mapped_column(String(3))
    rw: Mapped[str | None] = mapped_column(String(3))
    desa_kode: Mapped[str] = mapped_column(ForeignKey("desa.kode"), index=True)
    # The address's kecamatan; always the prefix of desa_kode (kept for cheap filtering).
    kecamatan_kode: Mapped[str] = mapped_column(ForeignKey("kecamatan.kode"), index=True)
    lat: Mapped[float | None] = mapped_column(Float)
    lng: Mapped[float | None] = mapped_column(Float)
    chair_name: Mapped[str | None] = mapped_column(String(120))
    chair_phone: Mapped[str | None] = mapped_column(String(20))
    member_count: Mapped[int | None] = mapped_column(Integer)
    last_rat_year: Mapped[int | None] = mapped_column(Integer)
    cluster_id: Mapped[int | None] = mapped_column(ForeignKey("cluster.id"), index=True)
    kbli: Mapped[str | None] = mapped_column(String(60))
    products: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20), default="active", index=True)
    status_reason: Mapped[str | None] = mapped_column(Text)
    status_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    version: Mapped[int] = mapped_column(Integer, default=1)
    # What the register search looks in, kept by the database itself: one LIKE over one
    # column instead of four (and correct for rows written in bulk).
    search_text: Mapped[str] = mapped_column(
        Text,
        Computed(
            "lower(name || ' ' || coalesce(bh_number, '') || ' ' || coalesce(nik, '') || ' '"
            " || coalesce(chair_name, ''))",
            persisted=True,
        ),
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    # "unnested": loaded from a row that joins its cooperative with an outer join (a letter, a
    # proposal), these become outer joins too. Nested inner joins made SQLite build the join
    # of every cooperative with its kecamatan and desa for each such query.
    desa: Mapped[Desa] = relationship(lazy="joined", innerjoin="unnested")
    kecamatan: Mapped[Kecamatan] = relationship(lazy="joined", innerjoin="unnested")
    cluster: Mapped[Cluster | None] = relationship(lazy="joined")

    # Optimistic locking: a stale form submission fails instead of overwriting.
    __mapper_args__ = {"version_id_col": version}

    @property
    def has_location(self) -> bool:
        return self.lat is not None and self.lng is not None


# The trigram index needs pg_trgm (a trusted extension: the database owner may create it).
event.listen(
    Cooperative.__table__,
    "before_create",
    DDL("CREATE EXTENSION IF NOT EXISTS pg_trgm").execute_if(dialect="postgresql"),
)


class Setting(db.Model):
    """Office settings (thresholds, letterhead, ...) as JSON values under a key."""

    __tablename__ = "setting"

    key: Mapped[str] = mapped_column(String(80), primary_key=True)
    value: Mapped[Any] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))


class LoginAttempt(db.Model):
    """Failed logins, for throttling brute force per username and address."""

    __tablename__ = "login_attempt"
    __table_args__ = (Index("ix_login_attempt_lookup", "username", "address", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(80))
    address: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class HistoryHead(db.Model):
    """One row holding the hash of the newest history row; locked while appending."""

    __tablename__ = "history_head"

    id: Mapped[int] = mapped_column(primary_key=True)
    last_id: Mapped[int] = mapped_column(Integer, default=0)
    last_hash: Mapped[str] = mapped_column(String(64))


class HistoryEvent(db.Model):
    """An append-only, hash-chained record of something that happened to a cooperative."""

    __tablename__ = "history_event"
    __table_args__ = (Index("ix_history_event_coop", "cooperative_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    cooperative_id: Mapped[int | None] = mapped_column(ForeignKey("cooperative.id"))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    kind: Mapped[str] = mapped_column(String(40))
    from_status: Mapped[str | None] = mapped_column(String(20))
    to_status: Mapped[str | None] = mapped_column(String(20))
    trigger: Mapped[str | None] = mapped_column(String(40))
    reason: Mapped[str | None] = mapped_column(Text)
    legal_ground: Mapped[str | None] = mapped_column(Text)
    evidence: Mapped[Any] = mapped_column(JSON, default=list)
    data: Mapped[Any] = mapped_column(JSON, default=dict)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)

    actor: Mapped[User | None] = relationship(lazy="joined")
    cooperative: Mapped[Cooperative | None] = relationship()
