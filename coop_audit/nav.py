"""The main menu: one list for every feature; items whose page is not installed are skipped."""

from __future__ import annotations

from dataclasses import dataclass

from flask import Flask, current_app, request, url_for
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from .labels import EVENT_LABELS, JENIS_LABELS, KELOMPOK_SUGGESTIONS, STATUS_CSS, STATUS_LABELS
from .permissions import ADMIN, ALL_ROLES, CLERK, HEAD, INSPECTOR, ROLE_LABELS


@dataclass(frozen=True)
class NavItem:
    endpoint: str
    label: object
    roles: tuple[str, ...]

    @property
    def prefix(self) -> str:
        return self.endpoint.split(".")[0] + "."


def active_item(items: list[NavItem], endpoint: str) -> NavItem | None:
    """The one menu item to highlight: the page's own, else the first of its blueprint (a
    cooperative's page belongs to "Register", a proposal form to "Sign-off")."""
    for item in items:
        if item.endpoint == endpoint:
            return item
    return next((item for item in items if endpoint.startswith(item.prefix)), None)


NAV = (
    NavItem("dashboard.index", _l("Dashboard"), ALL_ROLES),
    NavItem("registry.index", _l("Register"), ALL_ROLES),
    NavItem("audits.due", _l("Audits"), (ADMIN, INSPECTOR, HEAD)),
    NavItem("workflow.queue", _l("Sign-off"), (ADMIN, HEAD, INSPECTOR, CLERK)),
    NavItem("workflow.deadlines", _l("Deadlines"), ALL_ROLES),
    NavItem("letters.index", _l("Letters"), (ADMIN, HEAD, CLERK, INSPECTOR)),
    NavItem("clusters.map_page", _l("Map"), ALL_ROLES),
    NavItem("clusters.summary", _l("Clusters"), ALL_ROLES),
    NavItem("clusters.shortlist", _l("Capital support"), (ADMIN, HEAD, INSPECTOR)),
    NavItem("imports.upload", _l("Import"), (ADMIN, CLERK)),
    NavItem("users.index", _l("Users"), (ADMIN,)),
    NavItem("settings.index", _l("Settings"), (ADMIN,)),
)


# Dashboard panels that features add (template names); drawn in this order.
DASHBOARD_PANELS: list[str] = []


def register_dashboard_panel(template: str) -> None:
    if template not in DASHBOARD_PANELS:
        DASHBOARD_PANELS.append(template)


# Feature hooks for the register pages, so features plug in without editing registry code:
# REGISTER_ACTIONS: callables(flt) -> [{"url", "label"}] (buttons above the list);
# COOP_BADGES: callables(coop) -> [{"label", "css", "title"}] (beside the status; no queries!);
# COOP_SECTIONS: template names included on a cooperative's page (get `coop` in context).
REGISTER_ACTIONS: list = []
# SETTINGS_SECTIONS: (endpoint, label) of settings pages, listed on the admin settings index.
SETTINGS_SECTIONS: list[tuple[str, object]] = []
COOP_BADGES: list = []
COOP_SECTIONS: list[str] = []


def init_app(app: Flask) -> None:
    # Pure label helpers are globals so imported macros see them too.
    app.jinja_env.globals.update(
        status_label=lambda s: STATUS_LABELS.get(s, s),
        status_css=lambda s: STATUS_CSS.get(s, "text-bg-secondary"),
        jenis_label=lambda j: JENIS_LABELS.get(j, j or ""),
        event_label=lambda ev: EVENT_LABELS.get(ev.kind, ev.kind),
        role_label=lambda r: ROLE_LABELS.get(r, r),
        kelompok_suggestions=KELOMPOK_SUGGESTIONS,
    )

    @app.context_processor
    def inject():
        def nav_items():
            if not current_user.is_authenticated:
                return []
            shown = [
                item
                for item in NAV
                if item.endpoint in current_app.view_functions and current_user.role in item.roles
            ]
            current = active_item(shown, request.endpoint or "")
            return [
                {"url": url_for(item.endpoint), "label": item.label, "active": item is current}
                for item in shown
            ]

        return {
            "nav_items": nav_items,
            "dashboard_panels": lambda: list(DASHBOARD_PANELS),
            "register_actions": lambda flt: [a for hook in REGISTER_ACTIONS for a in hook(flt)],
            "coop_badges": lambda coop: [b for hook in COOP_BADGES for b in hook(coop)],
            "coop_sections": lambda: list(COOP_SECTIONS),
            "current_locale": lambda: str(get_locale() or "id"),
        }
