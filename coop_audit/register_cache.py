"""Register aggregates (list counts, the map's per-village groups) cached per process, keyed by
the history chain's head.

Every change to a cooperative is written together with its history row, and appending to the
history locks and advances the single `history_head` row in the same transaction. The head's
committed `last_id` is therefore a version of the whole register: an aggregate computed after
reading version v stays right until the head moves. Reading the head is one primary-key
lookup, so each gunicorn worker asks for it on every use, and no worker serves an aggregate
that another worker's commit has made stale.

The invariant this rests on is checked: a transaction that writes cooperatives without
appending history fails its commit under tests (`REGISTER_CACHE_STRICT`) and is logged in
production, where entries also expire after `MAX_AGE` seconds as a safety net.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

from flask import current_app, has_app_context
from sqlalchemy import event, select
from sqlalchemy.orm import Session

from .extensions import db
from .models import Cooperative, HistoryHead

T = TypeVar("T")
log = logging.getLogger(__name__)

MAX_ENTRIES = 512
MAX_AGE = 600.0  # seconds; only matters if a write ever bypasses the history

# session.info flags, cleared when the transaction ends
_WROTE = "register_written"
_APPENDED = "history_appended"


class RegisterWriteWithoutHistory(RuntimeError):
    """A transaction changed cooperatives but appended no history row."""


class _Store:
    """One app's entries: key -> (register version, stored at, value), least recent first."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.entries: OrderedDict[Hashable, tuple[Any, float, Any]] = OrderedDict()


def _store() -> _Store:
    return current_app.extensions.setdefault("register_cache", _Store())


def version(session: Session | None = None) -> tuple[int, str] | None:
    """The register's version as this transaction sees it: the history head's id and hash (the
    hash tells two databases apart, e.g. after a restore, that happen to share the id)."""
    session = session or db.session
    row = session.execute(
        select(HistoryHead.last_id, HistoryHead.last_hash).where(HistoryHead.id == 1)
    ).first()
    return (row.last_id, row.last_hash) if row is not None else None


def cached(key: Hashable, compute: Callable[[], T], session: Session | None = None) -> T:
    """`compute()`, or its remembered result if the register has not changed since.

    A transaction with its own uncommitted register writes neither reads nor fills the cache:
    its view of the register is not what other requests see, and it may still roll back.
    """
    session = session or db.session
    if _wrote(session) or session.info.get(_APPENDED):
        return compute()
    # The version is read before the aggregate: the stored value is never older than its key.
    seen = version(session)
    store, now = _store(), time.monotonic()
    with store.lock:
        hit = store.entries.get(key)
        if hit is not None and hit[0] == seen and now - hit[1] < MAX_AGE:
            store.entries.move_to_end(key)
            return hit[2]
    value = compute()
    with store.lock:
        store.entries[key] = (seen, now, value)
        store.entries.move_to_end(key)
        while len(store.entries) > MAX_ENTRIES:
            store.entries.popitem(last=False)
    return value


def note_history_appended(session: Session) -> None:
    """Called by `history` for every append (row or bulk)."""
    session.info[_APPENDED] = True


# ---------------------------------------------------------------- the invariant, checked


def _changes_cooperatives(session: Session) -> bool:
    return any(
        isinstance(obj, Cooperative) and (obj not in session.dirty or session.is_modified(obj))
        for obj in (*session.new, *session.deleted, *session.dirty)
    )


def _wrote(session: Session) -> bool:
    """Whether this transaction changed cooperatives (flushed, by statement, or still pending)."""
    return bool(session.info.get(_WROTE)) or _changes_cooperatives(session)


@event.listens_for(Session, "before_flush")
def _orm_writes(session: Session, _context: Any, _instances: Any) -> None:
    if _changes_cooperatives(session):
        session.info[_WROTE] = True


@event.listens_for(Session, "do_orm_execute")
def _statement_writes(state: Any) -> None:
    if (state.is_insert or state.is_update or state.is_delete) and getattr(
        state.statement, "table", None
    ) is Cooperative.__table__:
        state.session.info[_WROTE] = True


@event.listens_for(Session, "before_commit")
def _check(session: Session) -> None:
    # Runs before the commit's own flush: changes still pending count as well. A savepoint's
    # release fires it too; the rows of a bulk sign-off come after its savepoints.
    if session.in_nested_transaction():
        return
    if _wrote(session) and not session.info.get(_APPENDED):
        message = "cooperatives were changed without a history row"
        if has_app_context() and current_app.config.get("REGISTER_CACHE_STRICT"):
            raise RegisterWriteWithoutHistory(message)
        log.error("%s; cached register aggregates may lag up to %s s", message, MAX_AGE)


def _reset(session: Session, *_args: Any) -> None:
    session.info.pop(_WROTE, None)
    session.info.pop(_APPENDED, None)


event.listen(Session, "after_commit", _reset)
event.listen(Session, "after_rollback", _reset)
