"""Creating and changing users: the only code that writes User rows."""

from __future__ import annotations

import re

from flask_babel import gettext as _
from sqlalchemy import func, select

from .. import history
from ..auth.operations import hash_password
from ..extensions import db
from ..models import ROLES, User

USERNAME_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{1,39}$")
MIN_PASSWORD = 8


class UserError(ValueError):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


def normalize_nip(nip: str | None) -> str | None:
    """Accept a NIP typed grouped ("19700101 199503 1 001") or plain; store 18 digits."""
    if not nip or not nip.strip():
        return None
    digits = re.sub(r"[\s.]", "", nip)
    if not re.fullmatch(r"\d{18}", digits):
        raise UserError("nip", _("NIP must have exactly 18 digits."))
    return digits


def check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise UserError(
            "password", _("The password needs at least %(n)d characters.", n=MIN_PASSWORD)
        )


def create_user(
    username: str,
    full_name: str,
    role: str,
    password: str,
    *,
    nip: str | None = None,
    rank: str | None = None,
    job_title: str | None = None,
    actor: User | None = None,
) -> User:
    username = (username or "").strip().lower()
    if not USERNAME_RE.match(username):
        raise UserError(
            "username",
            _("A username has 2-40 characters: lowercase letters, digits, dot, dash, underscore."),
        )
    if db.session.execute(
        select(func.count()).select_from(User).where(User.username == username)
    ).scalar_one():
        raise UserError("username", _("The username %(name)s is already taken.", name=username))
    if role not in ROLES:
        raise UserError("role", _("Unknown role %(role)s.", role=role))
    if not (full_name or "").strip():
        raise UserError("full_name", _("The full name is required."))
    check_password(password)
    user = User(
        username=username,
        full_name=full_name.strip(),
        role=role,
        password_hash=hash_password(password),
        nip=normalize_nip(nip),
        rank=(rank or "").strip() or None,
        job_title=(job_title or "").strip() or None,
        enabled=True,
    )
    db.session.add(user)
    db.session.flush()
    history.record(
        "user_created", actor=actor, data={"user_id": user.id, "username": username, "role": role}
    )
    return user


def update_user(
    user: User,
    *,
    actor: User,
    full_name: str,
    role: str,
    enabled: bool,
    nip: str | None,
    rank: str | None,
    job_title: str | None,
    new_password: str | None = None,
) -> User:
    if role not in ROLES:
        raise UserError("role", _("Unknown role %(role)s.", role=role))
    if not (full_name or "").strip():
        raise UserError("full_name", _("The full name is required."))
    if user.id == actor.id and (role != "admin" or not enabled):
        raise UserError("role", _("You cannot remove your own administrator access."))
    before = {"role": user.role, "enabled": user.enabled}
    user.full_name = full_name.strip()
    user.role = role
    user.enabled = enabled
    user.nip = normalize_nip(nip)
    user.rank = (rank or "").strip() or None
    user.job_title = (job_title or "").strip() or None
    if new_password:
        check_password(new_password)
        user.password_hash = hash_password(new_password)
    db.session.flush()
    history.record(
        "user_changed",
        actor=actor,
        data={
            "user_id": user.id,
            "before": before,
            "after": {"role": role, "enabled": enabled},
            "password_reset": bool(new_password),
        },
    )
    return user
