"""Time helpers: aware UTC for storage, Asia/Jakarta local dates for deadlines."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

JAKARTA = ZoneInfo("Asia/Jakarta")


def utcnow() -> datetime:
    return datetime.now(UTC)


def local_today(now: datetime | None = None) -> date:
    """Today's date in Asia/Jakarta (deadlines are local dates)."""
    return (now or utcnow()).astimezone(JAKARTA).date()


def local_start_of_day(day: date) -> datetime:
    """00:00 of `day` in Asia/Jakarta, as an aware UTC datetime."""
    return datetime.combine(day, time(0), tzinfo=JAKARTA).astimezone(UTC)


def to_local(value: datetime) -> datetime:
    if value.tzinfo is None:  # SQLite returns naive values; they are stored as UTC
        value = value.replace(tzinfo=UTC)
    return value.astimezone(JAKARTA)
