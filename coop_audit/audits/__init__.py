"""Field audits: the inspector's checklist with evidence files, verdicts, campaign planning."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    from . import views

    views.init_app(app)
