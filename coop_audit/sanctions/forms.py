"""Forms of the sanction workflow pages."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    HiddenField,
    IntegerField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional


class ProposeForm(FlaskForm):
    reason = TextAreaField(
        _l("Reason"),
        validators=[DataRequired(message=_l("Enter the reason.")), Length(max=4000)],
    )
    legal_ground = TextAreaField(_l("Legal ground"), validators=[Optional(), Length(max=1000)])
    evidence = TextAreaField(
        _l("Evidence (one item per line)"), validators=[Optional(), Length(max=4000)]
    )
    document = StringField(
        _l("Supporting document (number or file name)"), validators=[Optional(), Length(max=200)]
    )


class DecideForm(FlaskForm):
    reason = TextAreaField(_l("Reason for refusal"), validators=[Optional(), Length(max=4000)])


class WithdrawForm(FlaskForm):
    reason = TextAreaField(_l("Reason"), validators=[Optional(), Length(max=4000)])


class BulkSignForm(FlaskForm):
    pass


class ObjectionForm(FlaskForm):
    received_on = DateField(
        _l("Date received"), validators=[InputRequired(message=_l("Enter a valid date."))]
    )
    text = TextAreaField(
        _l("Objection (text or summary)"),
        validators=[DataRequired(message=_l("Enter the objection.")), Length(max=8000)],
    )
    document = StringField(
        _l("Document (number or file name)"), validators=[Optional(), Length(max=200)]
    )


class ObjectionDecisionForm(FlaskForm):
    decision = SelectField(
        _l("Decision"),
        choices=[("reject", _l("Reject the objection")), ("accept", _l("Accept the objection"))],
    )
    reasons = TextAreaField(
        _l("Reasons"),
        validators=[DataRequired(message=_l("Enter the reasons.")), Length(max=8000)],
    )
    confirm = BooleanField(_l("I have read the objection and its documents"))
    objection_id = HiddenField()


def _months(label):
    return IntegerField(
        label,
        validators=[
            InputRequired(message=_l("Enter a whole number.")),
            NumberRange(min=1, max=24, message=_l("Must be between 1 and 24.")),
        ],
    )


class WorkflowSettingsForm(FlaskForm):
    objection_window_months = _months(_l("Objection window after receipt (months)"))
    announcement_window_months = _months(
        _l("Objection window after a public announcement (months)")
    )
    objection_decision_months = _months(_l("Time to decide an objection (months)"))
    revocation_deadline_months = _months(_l("Revocation decided within (months of receipt)"))
    no_receipt_alert_days = IntegerField(
        _l("Alert when a warning has no receipt after (days)"),
        validators=[
            InputRequired(message=_l("Enter a whole number.")),
            NumberRange(min=1, max=120, message=_l("Must be between 1 and 120.")),
        ],
    )
