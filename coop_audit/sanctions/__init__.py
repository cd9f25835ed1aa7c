"""The sanction workflow feature: proposals, sign-off, objections, clocks, sweep, diagram."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    from flask_babel import lazy_gettext as _l

    from .. import nav
    from ..labels import EVENT_LABELS
    from . import cli, views

    EVENT_LABELS.update(
        {
            "dormancy_recorded": _l("Dormancy recorded"),
            "proposed": _l("Move proposed"),
            "signed": _l("Signed by the head"),
            "refused": _l("Proposal refused"),
            "withdrawn": _l("Proposal withdrawn"),
            "objection_filed": _l("Objection received"),
            "objection_decided": _l("Objection decided"),
        }
    )
    app.register_blueprint(views.bp)
    cli.init_app(app)
    if "sanctions/_coop_section.html" not in nav.COOP_SECTIONS:
        nav.COOP_SECTIONS.append("sanctions/_coop_section.html")
    nav.register_dashboard_panel("sanctions/_dashboard_panel.html")
    section = ("workflow.settings_page", _l("Workflow deadlines"))
    if all(endpoint != section[0] for endpoint, _label in nav.SETTINGS_SECTIONS):
        nav.SETTINGS_SECTIONS.append(section)

    @app.context_processor
    def workflow_helpers():
        return {
            "workflow_panel": views.coop_panel,
            "workflow_counts": views.dashboard_counts,
            "workflow_today_args": views.today_args,
        }
