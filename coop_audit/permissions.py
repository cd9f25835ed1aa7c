"""Who may do what: role decorators for views and can_* predicates for operations.

Every view declares its roles (`@role_required(...)`) or is explicitly `@public`; create_app
refuses to start when a view declares neither, so a new route cannot be forgotten.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import TypeVar

from flask import abort
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from .extensions import login_manager

F = TypeVar("F", bound=Callable)

ADMIN, INSPECTOR, HEAD, CLERK, VIEWER = "admin", "inspector", "head", "clerk", "viewer"
ALL_ROLES = (ADMIN, INSPECTOR, HEAD, CLERK, VIEWER)
STAFF = (ADMIN, INSPECTOR, HEAD, CLERK)

ROLE_LABELS = {
    ADMIN: _l("Administrator"),
    INSPECTOR: _l("Inspector"),
    HEAD: _l("Head of office"),
    CLERK: _l("Clerk"),
    VIEWER: _l("Viewer"),
}


class PermissionDenied(Exception):
    """Raised by operations when the acting user may not do this; views turn it into 403."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def role_required(*roles: str) -> Callable[[F], F]:
    def decorator(view: F) -> F:
        @wraps(view)
        def wrapped(*args, **kwargs):
            if not current_user.is_authenticated:
                return login_manager.unauthorized()
            if current_user.role not in roles:
                abort(403)
            return view(*args, **kwargs)

        wrapped.allowed_roles = tuple(roles)  # type: ignore[attr-defined]
        return wrapped  # type: ignore[return-value]

    return decorator


def public(view: F) -> F:
    """Mark a view as reachable without logging in (login page, verification page, ...)."""
    view.is_public = True  # type: ignore[attr-defined]
    return view


def any_user(view: F) -> F:
    return role_required(*ALL_ROLES)(view)


def require(condition: bool, message: str) -> None:
    """Operations call this so the rule holds on the server, whatever the UI shows."""
    if not condition:
        raise PermissionDenied(message)
