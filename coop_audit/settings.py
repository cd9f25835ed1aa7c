"""Office settings stored in the database, with code defaults each feature registers.

Where offices differ (thresholds, letterhead, number pattern, shortlist criteria) the product
makes it a setting. `get(key)` returns the stored value or the registered default.
"""

from __future__ import annotations

import copy
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session

from .extensions import db
from .models import Setting, User

_DEFAULTS: dict[str, Any] = {}


def register_defaults(defaults: dict[str, Any]) -> None:
    _DEFAULTS.update(defaults)


def defaults() -> dict[str, Any]:
    return copy.deepcopy(_DEFAULTS)


def _rows() -> dict[str, Setting]:
    """All stored settings, read with one query per database session (a request, a job).

    A page reads a dozen settings, most of them never stored; looking each up by key cost a
    query apiece, as the identity map remembers only rows that exist.
    """
    rows = db.session.info.get("settings_rows")
    if rows is None:
        rows = {row.key: row for row in db.session.execute(db.select(Setting)).scalars()}
        db.session.info["settings_rows"] = rows
    return rows


def _forget(session: Any, *args: Any) -> None:
    session.info.pop("settings_rows", None)


# A rolled-back put must not leave its row in the cache.
event.listen(Session, "after_rollback", _forget)


def get(key: str) -> Any:
    row = _rows().get(key)
    if row is not None:
        return copy.deepcopy(row.value)
    if key not in _DEFAULTS:
        raise KeyError(f"unknown setting {key!r}")
    return copy.deepcopy(_DEFAULTS[key])


def put(key: str, value: Any, actor: User | None = None) -> None:
    """Store a setting (flushes, never commits); the change goes into the history."""
    from . import history  # local: history imports models, settings is imported early

    rows = _rows()
    row = rows.get(key)
    old = row.value if row is not None else _DEFAULTS.get(key)
    if row is None:
        row = Setting(key=key, value=value)
        db.session.add(row)
        rows[key] = row
    else:
        row.value = value
    row.updated_by_id = actor.id if actor is not None else None
    history.record("setting_changed", actor=actor, data={"key": key, "old": old, "new": value})
    db.session.flush()
