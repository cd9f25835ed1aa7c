"""Official letters: formatting, PDF rendering and merging, issuing, verification (issue 6)."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    from flask_babel import lazy_gettext as _l

    from .. import labels, nav
    from ..security import RateLimiter
    from . import cli, jobs, operations, views
    from .labels import EVENT_LABELS

    operations.register_defaults()
    app.register_blueprint(views.bp)
    app.register_blueprint(views.verify_bp)
    jobs.init_app(app)
    cli.init_app(app)
    app.extensions["letters.verify_limiter"] = RateLimiter(
        app.config.get("VERIFY_RATE_LIMIT", 30), app.config.get("VERIFY_RATE_WINDOW", 60)
    )
    labels.EVENT_LABELS.update(EVENT_LABELS)
    if "letters/web/_coop_letters.html" not in nav.COOP_SECTIONS:
        nav.COOP_SECTIONS.append("letters/web/_coop_letters.html")
    if not any(endpoint == "letters.settings_page" for endpoint, _ in nav.SETTINGS_SECTIONS):
        nav.SETTINGS_SECTIONS.append(("letters.settings_page", _l("Official letters")))

    @app.context_processor
    def letter_helpers():
        from .labels import JOB_STATUS_CSS, JOB_STATUS_LABELS, KIND_LABELS, METHOD_LABELS

        return {
            "coop_letters": views.coop_letters,
            "letter_kind_label": lambda k: KIND_LABELS.get(k, k),
            "receipt_method_label": lambda m: METHOD_LABELS.get(m, m or ""),
            "job_status_label": lambda st: JOB_STATUS_LABELS.get(st, st or ""),
            "job_status_css": lambda st: JOB_STATUS_CSS.get(st, "text-bg-light"),
        }

    _register_workflow_hooks()


def _register_workflow_hooks() -> None:
    """Issue letters when the sanction workflow signs (if that feature is installed)."""
    try:
        from ..sanctions import operations as sanctions
    except ModuleNotFoundError as e:
        if (e.name or "").startswith("coop_audit.sanctions"):
            return
        raise
    from .operations import on_objection_decided, on_signoff

    for name, hook in (("SIGNOFF_HOOKS", on_signoff), ("OBJECTION_HOOKS", on_objection_decided)):
        hooks = getattr(sanctions, name, None)
        if hooks is not None and hook not in hooks:
            hooks.append(hook)
