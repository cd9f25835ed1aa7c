"""Clusters on the map, summaries, exports and the capital-support shortlist."""

from __future__ import annotations

from flask import Flask, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from .. import nav, settings
from ..labels import EVENT_LABELS
from .shortlist import DEFAULT_CRITERIA

EVENT_LABELS.update(
    {
        "cluster_assigned": _l("Cluster assigned"),
        "cluster_taxonomy_changed": _l("Cluster list changed"),
        "shortlist_pinned": _l("Pinned onto the capital-support shortlist"),
        "shortlist_excluded": _l("Excluded from the capital-support shortlist"),
        "shortlist_override_lifted": _l("Shortlist decision lifted"),
        "shortlist_saved": _l("Capital-support shortlist saved"),
    }
)


def register_actions(flt) -> list[dict]:
    """Links above the register list that carry its filter to the map and to bulk assignment."""
    from .operations import ASSIGNERS

    args = flt.args()
    # The register's "no status" means all statuses; the map's default is active only.
    map_args = {**args, "status": flt.status or "all"}
    actions = [{"url": url_for("clusters.map_page", **map_args), "label": _l("Map of this list")}]
    if current_user.is_authenticated and current_user.role in ASSIGNERS:
        actions.append({"url": url_for("clusters.assign", **args), "label": _l("Assign cluster")})
    return actions


def init_app(app: Flask) -> None:
    from .cli import clusters_cli
    from .views import bp

    settings.register_defaults({"shortlist.criteria": DEFAULT_CRITERIA})
    app.register_blueprint(bp)
    app.cli.add_command(clusters_cli)
    if register_actions not in nav.REGISTER_ACTIONS:
        nav.REGISTER_ACTIONS.append(register_actions)
    section = ("clusters.criteria_settings", _l("Capital-support shortlist criteria"))
    if section[0] not in [s[0] for s in nav.SETTINGS_SECTIONS]:
        nav.SETTINGS_SECTIONS.append(section)
    taxonomy = ("clusters.taxonomy", _l("Business clusters"))
    if taxonomy[0] not in [s[0] for s in nav.SETTINGS_SECTIONS]:
        nav.SETTINGS_SECTIONS.append(taxonomy)
