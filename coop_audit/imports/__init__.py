"""Register import (upload, preview, confirm; CLI) and export of filtered register lists."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    from flask import url_for
    from flask_babel import lazy_gettext as _l

    from .. import nav
    from . import cli, views

    app.register_blueprint(views.bp)
    cli.init_app(app)

    def export_actions(flt) -> list[dict]:
        args = flt.args()
        return [
            {"url": url_for("imports.export_xlsx", **args), "label": _l("Export .xlsx")},
            {"url": url_for("imports.export_csv", **args), "label": _l("Export .csv")},
        ]

    if not any(getattr(h, "__name__", "") == "export_actions" for h in nav.REGISTER_ACTIONS):
        nav.REGISTER_ACTIONS.append(export_actions)
