"""The sanction workflow feature: proposals, sign-off, objections, clocks, sweep, diagram."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    from flask_babel import lazy_gettext as _l

    from ..labels import EVENT_LABELS

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
