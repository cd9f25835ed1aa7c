"""The cooperative audit application: create_app and its registrations."""

from __future__ import annotations

import importlib
import logging
from typing import Any
from urllib.parse import urlsplit

from flask import Flask, jsonify, render_template, request
from flask_babel import gettext as _
from werkzeug.routing.converters import IntegerConverter

from config import config_from_env, resolve_secret_key

from .extensions import babel, csrf, db, login_manager, migrate

log = logging.getLogger(__name__)

# Feature packages with an init_app(app); each owns its views, operations, CLI and hooks.
FEATURES: tuple[str, ...] = (
    "sanctions",
    "audits",
    "clusters",
    "letters",
    "admin_settings",
    "imports",
    "backups",
)


def create_app(config: Any = None) -> Flask:
    from config import BASE_DIR, INSTANCE_DIR

    app = Flask(
        __name__,
        instance_path=str(INSTANCE_DIR),
        template_folder=str(BASE_DIR / "templates"),
        static_folder="static",
    )
    app.config.from_object(config or config_from_env())
    if isinstance(config, dict):
        app.config.update(config)
    app.config["SECRET_KEY"] = resolve_secret_key(app.config)
    # Before any route is added: every <int:...> in a URL is a database id.
    app.url_map.converters["int"] = IdConverter
    if app.config.get("TRUSTED_PROXIES"):
        from werkzeug.middleware.proxy_fix import ProxyFix

        n = app.config["TRUSTED_PROXIES"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=n)  # type: ignore[method-assign]

    register_extensions(app)
    register_blueprints(app)
    register_assets(app)
    register_errors(app)
    register_security(app)
    register_cli(app)
    register_nav(app)
    check_every_view_declares_roles(app)
    return app


# The largest id a column holds (PostgreSQL `integer`): a larger one in a URL is a 404, not an
# overflow inside the database driver (a 500).
MAX_ID = 2**31 - 1


class IdConverter(IntegerConverter):
    """`<int:...>`: digits only, 0 to MAX_ID."""

    def __init__(
        self,
        map: Any,
        fixed_digits: int = 0,
        min: int | None = None,
        max: int | None = MAX_ID,
        signed: bool = False,
    ) -> None:
        super().__init__(map, fixed_digits, min, max, signed)


def register_extensions(app: Flask) -> None:
    from . import i18n, models

    db.init_app(app)
    migrate.init_app(app, db, directory=str(app.root_path + "/../migrations"), compare_type=True)
    csrf.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = None
    login_manager.session_protection = "strong"
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", str(i18n.TRANSLATIONS_DIR))
    babel.init_app(app, locale_selector=i18n.select_locale)
    i18n.init_app(app)

    @login_manager.user_loader
    def load_user(user_id: str):
        user = db.session.get(models.User, int(user_id)) if user_id.isdigit() else None
        return user if user is not None and user.enabled else None


def register_blueprints(app: Flask) -> None:
    from .auth.views import bp as auth_bp
    from .dashboard import bp as dashboard_bp
    from .regions import bp as regions_bp
    from .registry.views import bp as registry_bp
    from .users.views import bp as users_bp

    for bp in (auth_bp, dashboard_bp, regions_bp, registry_bp, users_bp):
        app.register_blueprint(bp)
    # Feature packages register their own blueprints, CLI commands and hooks in init_app.
    for name in FEATURES:
        importlib.import_module(f"{__name__}.{name}").init_app(app)


def register_assets(app: Flask) -> None:
    """Serve front-end libraries from their XStatic packages (no CDN)."""
    from .assets import init_app

    init_app(app)


def register_nav(app: Flask) -> None:
    from .nav import init_app

    init_app(app)


def _same_site_path(url: str | None) -> str | None:
    """The local path of a URL of this site (the page a refused form came from), else None."""
    from .auth.views import safe_next

    parts = urlsplit(url or "")
    if parts.netloc != request.host:
        return None
    return safe_next(parts.path + (f"?{parts.query}" if parts.query else ""))


def _size_text(n: int) -> str:
    return f"{n // (1024 * 1024)} MB" if n >= 1024 * 1024 else f"{n // 1024} KB"


def register_errors(app: Flask) -> None:
    from flask_wtf.csrf import CSRFError
    from sqlalchemy.exc import OperationalError
    from werkzeug.exceptions import BadRequest

    def page(code: int, title: str, message: str, back: str | None = None):
        # Scripts that asked for JSON (the audit autosave) get the message, not a page.
        if request.accept_mimetypes.best_match(["text/html", "application/json"]) == (
            "application/json"
        ):
            return jsonify(ok=False, title=title, message=message), code
        return render_template(
            "error.html", code=code, title=title, message=message, back=back
        ), code

    @app.errorhandler(BadRequest)
    def bad_request(e):
        # Ours carry a message for the user; Werkzeug's own description is English jargon.
        told = e.description if e.description != BadRequest.description else None
        return page(
            400,
            _("The request could not be read"),
            told or _("Nothing was saved. Go back, check what was entered and try again."),
            back=_same_site_path(request.referrer),
        )

    @app.errorhandler(403)
    def forbidden(_e):
        return page(403, _("Not allowed"), _("Your role does not allow this page or action."))

    @app.errorhandler(404)
    def not_found(_e):
        return page(404, _("Not found"), _("The page or record you asked for does not exist."))

    @app.errorhandler(405)
    def wrong_method(_e):
        return page(
            405, _("Not possible this way"), _("Open the page from the menu and use its buttons.")
        )

    @app.errorhandler(CSRFError)
    def csrf_failed(_e):
        return page(
            400,
            _("The form has expired"),
            _("Nothing was saved. Go back, reload the page and send the form again."),
        )

    @app.errorhandler(413)
    def too_large(_e):
        return page(
            413,
            _("File too large"),
            _(
                "The uploaded file is larger than allowed (%(limit)s for everything sent at "
                "once). Nothing was saved: go back to the form, choose a smaller file and send "
                "it again.",
                limit=_size_text(app.config["MAX_CONTENT_LENGTH"] or 0),
            ),
            back=_same_site_path(request.referrer),
        )

    @app.errorhandler(429)
    def too_many(e):
        seconds = getattr(e, "retry_after", None)
        if not isinstance(seconds, int):  # no wait given (or a date): no number to show
            return page(429, _("Too many requests"), _("Please wait a moment and try again."))
        resp = app.make_response(
            page(
                429,
                _("Too many requests"),
                _("Please wait %(seconds)s seconds and try again.", seconds=seconds),
            )
        )
        resp.headers["Retry-After"] = str(seconds)
        return resp

    @app.errorhandler(OperationalError)
    def db_down(e):
        db.session.rollback()
        log.exception("database error", exc_info=e)
        return page(
            503,
            _("Database unavailable"),
            _("The database could not be reached. Nothing was saved; please try again shortly."),
        )

    @app.errorhandler(500)
    def server_error(_e):
        db.session.rollback()
        return page(500, _("Something went wrong"), _("The error was logged. Nothing was saved."))


def register_security(app: Flask) -> None:
    from .security import init_app

    init_app(app)


def register_cli(app: Flask) -> None:
    from .cli import init_app

    init_app(app)


def check_every_view_declares_roles(app: Flask) -> None:
    missing = [
        endpoint
        for endpoint, view in app.view_functions.items()
        if not endpoint.endswith("static")
        and not getattr(view, "allowed_roles", None)
        and not getattr(view, "is_public", False)
    ]
    if missing:
        raise RuntimeError(f"views without @role_required or @public: {', '.join(sorted(missing))}")
