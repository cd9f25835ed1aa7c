"""Security headers (a CSP that needs no inline script) and a small fixed-window rate limiter."""

from __future__ import annotations

import math
import threading
import time
from collections import defaultdict, deque

from flask import Flask, Response, abort, request
from flask_babel import gettext as _

# Inline *styles* stay allowed: Leaflet and the marker-cluster icons set style attributes from
# JavaScript-built HTML. Scripts must come from our own files.
CSP = (
    "default-src 'self'; "
    "script-src 'self'; "
    "style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data: blob: https://tile.openstreetmap.org https://*.tile.openstreetmap.org; "
    "connect-src 'self'; "
    "font-src 'self'; "
    "object-src 'none'; "
    "frame-ancestors 'none'; "
    "base-uri 'self'; "
    "form-action 'self'"
)


def has_nul(values) -> bool:
    return any("\x00" in v for v in values if isinstance(v, str))


def init_app(app: Flask) -> None:
    @app.before_request
    def refuse_nul() -> None:
        # A NUL byte is never valid input, and PostgreSQL refuses it in text (the query would
        # fail with a 500): refuse it in the path, the query string and form fields up front.
        if (
            "\x00" in request.path
            or has_nul(request.args.keys())
            or has_nul(v for vs in request.args.listvalues() for v in vs)
        ):
            abort(400, description=_("The address contains a character that is not allowed."))
        if request.method in ("POST", "PUT", "PATCH", "DELETE") and (
            has_nul(request.form.keys())
            or has_nul(v for vs in request.form.listvalues() for v in vs)
        ):
            abort(
                400,
                description=_(
                    "Nothing was saved: a field contains a character that is not allowed (a "
                    "control character, often pasted from another program). Go back, retype "
                    "the text and send the form again."
                ),
            )

    @app.after_request
    def headers(resp: Response) -> Response:
        resp.headers.setdefault("Content-Security-Policy", CSP)
        resp.headers.setdefault("X-Content-Type-Options", "nosniff")
        resp.headers.setdefault("X-Frame-Options", "DENY")
        resp.headers.setdefault("Referrer-Policy", "same-origin")
        resp.headers.setdefault("Permissions-Policy", "geolocation=(self), camera=(self)")
        if request.endpoint and not request.endpoint.endswith("static"):
            resp.headers.setdefault("Cache-Control", "no-store")
        return resp


class RateLimiter:
    """At most `limit` hits per `window` seconds per key, in this process.

    Enough for the public verification page; logins use the database-backed throttle in
    auth.operations so the limit holds across workers.
    """

    def __init__(self, limit: int, window: float) -> None:
        self.limit = limit
        self.window = window
        self._hits: dict[str, deque[float]] = defaultdict(deque)
        self._lock = threading.Lock()

    def hit(self, key: str, now: float | None = None) -> bool:
        now = time.monotonic() if now is None else now
        with self._lock:
            q = self._hits[key]
            while q and q[0] <= now - self.window:
                q.popleft()
            if len(q) >= self.limit:
                return False
            q.append(now)
            return True

    def wait(self, key: str, now: float | None = None) -> int:
        """Seconds until `key` may hit again (when its oldest hit leaves the window)."""
        now = time.monotonic() if now is None else now
        with self._lock:
            q = self._hits[key]
            return max(1, math.ceil(q[0] + self.window - now)) if q else 1

    def check(self, key: str) -> None:
        if not self.hit(key):
            abort(429, retry_after=self.wait(key))
