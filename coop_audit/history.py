"""The append-only, hash-chained history: one mechanism for every feature.

Each row stores the hash of the previous row and a SHA-256 over its own canonical content plus
that previous hash. Appending locks the single `history_head` row (SELECT ... FOR UPDATE on
PostgreSQL; SQLite serialises writers anyway), so concurrent writers cannot fork the chain.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select

from . import register_cache
from .extensions import db
from .models import HistoryEvent, HistoryHead, User
from .timeutil import utcnow

GENESIS = "0" * 64


COLUMNS = (
    "id",
    "cooperative_id",
    "actor_id",
    "at",
    "kind",
    "from_status",
    "to_status",
    "trigger",
    "reason",
    "legal_ground",
    "evidence",
    "data",
    "prev_hash",
)


def _canonical(values: dict[str, Any]) -> bytes:
    at = values["at"]
    at = at.astimezone(UTC) if at.tzinfo else at.replace(tzinfo=UTC)
    body = {c: values[c] for c in COLUMNS}
    body["at"] = at.isoformat(timespec="microseconds")
    return json.dumps(body, sort_keys=True, ensure_ascii=False, default=str).encode()


def hash_values(values: dict[str, Any]) -> str:
    """The row hash over its canonical content (which includes the previous row's hash)."""
    return hashlib.sha256(_canonical(values)).hexdigest()


def compute_hash(ev: HistoryEvent) -> str:
    return hash_values({c: getattr(ev, c) for c in COLUMNS})


def _head() -> HistoryHead:
    head = db.session.execute(
        select(HistoryHead).where(HistoryHead.id == 1).with_for_update()
    ).scalar_one_or_none()
    if head is None:
        head = HistoryHead(id=1, last_id=0, last_hash=GENESIS)
        db.session.add(head)
        db.session.flush()
    return head


def record(
    kind: str,
    *,
    cooperative_id: int | None = None,
    actor: User | None = None,
    from_status: str | None = None,
    to_status: str | None = None,
    trigger: str | None = None,
    reason: str | None = None,
    legal_ground: str | None = None,
    evidence: list[Any] | None = None,
    data: dict[str, Any] | None = None,
    at: datetime | None = None,
) -> HistoryEvent:
    """Append one history row in the caller's transaction (flushes, never commits)."""
    head = _head()
    # Ids are assigned here, in chain order, so the hash can cover the id itself.
    ev = HistoryEvent(
        id=head.last_id + 1,
        cooperative_id=cooperative_id,
        actor_id=actor.id if actor is not None else None,
        at=(at or utcnow()).astimezone(UTC),
        kind=kind,
        from_status=from_status,
        to_status=to_status,
        trigger=trigger,
        reason=reason,
        legal_ground=legal_ground,
        evidence=_jsonable(evidence or []),
        data=_jsonable(data or {}),
        prev_hash=head.last_hash,
    )
    ev.hash = compute_hash(ev)
    db.session.add(ev)
    head.last_id = ev.id
    head.last_hash = ev.hash
    register_cache.note_history_appended(db.session)
    db.session.flush()
    return ev


def _jsonable(value: Any) -> Any:
    """Round-trip through JSON so the hash sees exactly what the database stores."""
    return json.loads(json.dumps(value, default=str, ensure_ascii=False))


@dataclass
class VerifyResult:
    ok: bool
    checked: int
    broken_id: int | None = None
    problem: str = ""


def verify(batch: int = 5000) -> VerifyResult:
    """Walk the chain in id order; report the first row whose links or hash do not hold."""
    prev = GENESIS
    expected_id = 1
    checked = 0
    last_id = 0
    while True:
        rows = (
            db.session.execute(
                select(HistoryEvent)
                .where(HistoryEvent.id > last_id)
                .order_by(HistoryEvent.id)
                .limit(batch)
            )
            .scalars()
            .all()
        )
        if not rows:
            break
        for ev in rows:
            if ev.id != expected_id:
                return VerifyResult(False, checked, expected_id, "row missing")
            if ev.prev_hash != prev:
                return VerifyResult(False, checked, ev.id, "link to previous row broken")
            if compute_hash(ev) != ev.hash:
                return VerifyResult(False, checked, ev.id, "content changed")
            prev = ev.hash
            expected_id += 1
            checked += 1
            last_id = ev.id
        db.session.expunge_all()
    head = db.session.get(HistoryHead, 1)
    if head is not None and (head.last_id != last_id or head.last_hash != prev):
        return VerifyResult(False, checked, last_id + 1, "rows after this one were deleted")
    return VerifyResult(True, checked)


def timeline(cooperative_id: int) -> list[HistoryEvent]:
    return list(
        db.session.execute(
            select(HistoryEvent)
            .where(HistoryEvent.cooperative_id == cooperative_id)
            .order_by(HistoryEvent.id.desc())
        ).scalars()
    )


def record_many(rows: list[dict[str, Any]]) -> int:
    """Append many rows in one go (demo data, large imports): same chain, bulk INSERT."""
    from sqlalchemy import insert

    if not rows:
        return 0
    head = _head()
    prev, next_id = head.last_hash, head.last_id + 1
    values = []
    now = utcnow()
    for row in rows:
        v = {
            "id": next_id,
            "cooperative_id": row.get("cooperative_id"),
            "actor_id": row.get("actor_id"),
            "at": (row.get("at") or now).astimezone(UTC),
            "kind": row["kind"],
            "from_status": row.get("from_status"),
            "to_status": row.get("to_status"),
            "trigger": row.get("trigger"),
            "reason": row.get("reason"),
            "legal_ground": row.get("legal_ground"),
            "evidence": _jsonable(row.get("evidence") or []),
            "data": _jsonable(row.get("data") or {}),
            "prev_hash": prev,
        }
        v["hash"] = prev = hash_values(v)
        values.append(v)
        next_id += 1
    # render_nulls keeps every row in one executemany (None columns would split the batch).
    stmt = insert(HistoryEvent).execution_options(render_nulls=True)
    for start in range(0, len(values), 5000):
        db.session.execute(stmt, values[start : start + 5000])
    head.last_id, head.last_hash = next_id - 1, prev
    register_cache.note_history_appended(db.session)
    db.session.flush()
    return len(values)
