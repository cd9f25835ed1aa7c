"""Forms of the import pages (Flask-WTF: CSRF on every POST)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField


class UploadForm(FlaskForm):
    file = FileField(
        _l("Register file (.xlsx or .csv)"),
        validators=[FileRequired(message=_l("Choose the register file to upload."))],
    )


class ConfirmForm(FlaskForm):
    strict = BooleanField(_l("Strict: import nothing if any row is rejected"))
