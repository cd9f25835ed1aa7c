from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, Length, Optional

from ..permissions import ROLE_LABELS


class UserForm(FlaskForm):
    username = StringField(_l("Username"), validators=[DataRequired(), Length(max=40)])
    full_name = StringField(
        _l("Full name with titles"), validators=[DataRequired(), Length(max=120)]
    )
    # The least privileged role by default: an admin who forgets to choose creates a viewer.
    role = SelectField(_l("Role"), choices=list(ROLE_LABELS.items()), default="viewer")
    nip = StringField(_l("NIP (18 digits)"), validators=[Optional(), Length(max=30)])
    rank = StringField(_l("Rank (pangkat/golongan)"), validators=[Optional(), Length(max=80)])
    job_title = StringField(_l("Job title"), validators=[Optional(), Length(max=160)])
    enabled = BooleanField(_l("Account active"), default=True)
    password = PasswordField(_l("Password"), validators=[Optional(), Length(max=200)])
