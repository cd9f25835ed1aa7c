"""Helpers shared by the web forms of every feature."""

from __future__ import annotations

from flask_wtf import FlaskForm


def refusal_message(form: FlaskForm, expired: str) -> str:
    """Why a posted form was not accepted, for a flash message: the first field error, named
    by its label ("Reason for refusal: Field cannot be longer than 4000 characters."), else
    `expired` (the CSRF token is missing or too old)."""
    for name, errors in form.errors.items():
        if name != "csrf_token" and errors:
            return f"{form[name].label.text}: {errors[0]}"
    return expired
