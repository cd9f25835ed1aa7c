"""The administrator's settings index: one page linking every feature's settings section."""

from __future__ import annotations

from flask import Blueprint, Flask, current_app, render_template

from ..nav import SETTINGS_SECTIONS
from ..permissions import ADMIN, role_required

bp = Blueprint("settings", __name__, url_prefix="/pengaturan")


@bp.route("/")
@role_required(ADMIN)
def index():
    sections = [
        (endpoint, label)
        for endpoint, label in SETTINGS_SECTIONS
        if endpoint in current_app.view_functions
    ]
    return render_template("admin_settings/index.html", sections=sections)


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
