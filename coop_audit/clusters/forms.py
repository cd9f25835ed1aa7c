"""Forms for the cluster taxonomy, bulk assignment, shortlist overrides and criteria."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, NumberRange, Regexp

from .shortlist import CRITERIA, MAX_WEIGHT

COLOR_RE = r"^#[0-9a-fA-F]{6}$"


class ClusterForm(FlaskForm):
    code = StringField(_l("Code"), validators=[Length(max=40)])
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=120)])
    color = StringField(
        _l("Colour"),
        validators=[DataRequired(), Regexp(COLOR_RE, message=_l("Use a colour like #1a2b3c."))],
        default="#6c757d",
    )
    active = BooleanField(_l("In use (offered in forms and filters)"), default=True)


class EmptyForm(FlaskForm):
    """CSRF only (delete, move, save snapshot, lift)."""


class AssignForm(FlaskForm):
    cluster = SelectField(_l("Cluster to assign"), choices=[], validate_choice=False)
    expected = HiddenField()


class OverrideForm(FlaskForm):
    cooperative_id = HiddenField(validators=[DataRequired()])
    action = SelectField(
        _l("Decision"), choices=[("pin", _l("Pin onto the list")), ("exclude", _l("Exclude"))]
    )
    reason = TextAreaField(_l("Reason"), validators=[DataRequired(), Length(min=5, max=1000)])


def criteria_form_class():
    """One enabled/required/weight trio per criterion."""

    class CriteriaForm(FlaskForm):
        pass

    for code in CRITERIA:
        setattr(CriteriaForm, f"{code}_enabled", BooleanField(_l("Counts")))
        setattr(CriteriaForm, f"{code}_required", BooleanField(_l("Required")))
        setattr(
            CriteriaForm,
            f"{code}_weight",
            IntegerField(
                _l("Weight"),
                validators=[
                    NumberRange(
                        min=0,
                        max=MAX_WEIGHT,
                        message=_l("The weight is a whole number from 0 to 10."),
                    )
                ],
            ),
        )
    return CriteriaForm
