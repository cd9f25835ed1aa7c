"""Authentication: password check with a per-username-and-address throttle."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from flask import current_app
from sqlalchemy import delete, func, select
from werkzeug.security import check_password_hash, generate_password_hash

from ..extensions import db
from ..models import LoginAttempt, User
from ..timeutil import utcnow

# Compared against when the username is unknown, so timing does not reveal which names exist.
_DUMMY_HASH = generate_password_hash("not-a-real-password", method="pbkdf2:sha256:1000")


@dataclass
class LoginResult:
    user: User | None
    locked: bool = False


def hash_password(password: str) -> str:
    return generate_password_hash(password, method=current_app.config["PASSWORD_HASH_METHOD"])


def _recent_failures(username: str, address: str) -> int:
    since = utcnow() - timedelta(seconds=current_app.config["LOGIN_WINDOW_SECONDS"])
    return db.session.execute(
        select(func.count())
        .select_from(LoginAttempt)
        .where(
            LoginAttempt.username == username,
            LoginAttempt.address == address,
            LoginAttempt.at >= since,
        )
    ).scalar_one()


def authenticate(username: str, password: str, address: str) -> LoginResult:
    """Check a login; records failures; refuses while the throttle is exceeded (flushes)."""
    username = username.strip().lower()
    if _recent_failures(username, address) >= current_app.config["LOGIN_MAX_FAILURES"]:
        return LoginResult(None, locked=True)
    user = db.session.execute(select(User).where(User.username == username)).scalar_one_or_none()
    ok = check_password_hash(user.password_hash if user else _DUMMY_HASH, password)
    if user is None or not ok or not user.enabled:
        db.session.add(LoginAttempt(username=username, address=address))
        db.session.flush()
        return LoginResult(None)
    db.session.execute(
        delete(LoginAttempt).where(
            LoginAttempt.username == username, LoginAttempt.address == address
        )
    )
    return LoginResult(user)
