"""The audit form: the checklist of the domain primer, parsed field by field."""

from __future__ import annotations

import re
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    Field,
    IntegerField,
    MultipleFileField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import Length, NumberRange, Optional, ValidationError
from wtforms.widgets import TextInput

from ..rules import HEALTH_LABELS

TRI = [("", "—"), ("yes", _l("Yes")), ("no", _l("No"))]
RAT_ROWS = 3


def tri_to_bool(value: str | None) -> bool | None:
    return {"yes": True, "no": False}.get(value or "")


def bool_to_tri(value: bool | None) -> str:
    return "" if value is None else ("yes" if value else "no")


class TriField(SelectField):
    """Yes / No / not checked (stored as True / False / None)."""

    def __init__(self, label: Any = None, **kw: Any) -> None:
        super().__init__(label, choices=TRI, default="", **kw)


class RupiahField(Field):
    """Whole rupiah; accepts "1.500.000", "1 500 000", "Rp 1.500.000" and a leading minus."""

    widget = TextInput()

    def _value(self) -> str:
        if self.raw_data:
            return self.raw_data[0]
        return "" if self.data is None else f"{self.data:,}".replace(",", ".")

    def process_formdata(self, valuelist: list[str]) -> None:
        self.data = None
        if not valuelist:
            return
        text = (valuelist[0] or "").strip()
        if not text:
            return
        cleaned = re.sub(r"(?i)^rp\.?", "", text).strip()
        cleaned = re.sub(r"[\s.]", "", cleaned)
        cleaned = re.sub(r",00?$", "", cleaned)
        if not re.fullmatch(r"-?\d{1,15}", cleaned):
            raise ValueError(_l("Enter an amount in whole rupiah, e.g. 1.500.000."))
        self.data = int(cleaned)


class CoordinateField(StringField):
    """A decimal degree; accepts a comma as the decimal separator."""

    def __init__(self, label: Any, low: float, high: float, **kw: Any) -> None:
        super().__init__(label, validators=[Optional()], **kw)
        self.low, self.high = low, high

    def _value(self) -> str:
        if self.raw_data:
            return self.raw_data[0]
        return "" if self.data is None else f"{self.data:.6f}"

    def process_formdata(self, valuelist: list[str]) -> None:
        self.data = None
        text = (valuelist[0] if valuelist else "") or ""
        text = text.strip().replace(",", ".")
        if not text:
            return
        try:
            value = float(text)
        except ValueError:
            raise ValueError(_l("Enter a decimal number of degrees, e.g. -7.6.")) from None
        if not (self.low <= value <= self.high) or value != value:
            raise ValueError(_l("Out of range."))
        self.data = value


def _not_future(form: Any, field: Any) -> None:
    today = getattr(form, "today", None)
    if field.data is not None and today is not None and field.data > today:
        raise ValidationError(_l("This date is in the future."))


class AuditForm(FlaskForm):
    visit_date = DateField(_l("Visit date"), validators=[Optional(), _not_future])
    inspectors = TextAreaField(_l("Inspectors present"), validators=[Optional(), Length(max=1000)])
    met_persons = TextAreaField(
        _l("Met with (name and position)"), validators=[Optional(), Length(max=1000)]
    )
    # Existence
    office_found = TriField(_l("Office found at the address"))
    signboard = TriField(_l("Signboard present"))
    board_reachable = TriField(_l("Board reachable"))
    books_present = TriField(_l("Books and registers present"))
    # Organisation
    board_complete = TriField(_l("Board (pengurus) complete"))
    supervisors_complete = TriField(_l("Supervisors (pengawas) complete"))
    terms_valid = TriField(_l("Board and supervisors within their term"))
    member_count = IntegerField(
        _l("Member count"), validators=[Optional(), NumberRange(min=0, max=10_000_000)]
    )
    # AD/ART
    adart_exists = TriField(_l("AD/ART exists"))
    adart_approved = TriField(_l("AD/ART approved"))
    business_matches_adart = TriField(_l("Business matches the AD/ART"))
    # Business
    business_active = TriField(_l("Real business activity in the last two years"))
    business_description = TextAreaField(
        _l("Business: what"), validators=[Optional(), Length(max=2000)]
    )
    business_volume = RupiahField(_l("Business volume per year (Rp)"))
    business_last_date = DateField(
        _l("Last evidence of business (date)"), validators=[Optional(), _not_future]
    )
    # Finance
    balance_sheet = TriField(_l("Balance sheet and SHU statement available"))
    shu_amount = RupiahField(_l("SHU last fiscal year (Rp)"))
    bank_debt = RupiahField(_l("Debts to banks or LPDB (Rp)"))
    debt_notes = StringField(_l("Creditors"), validators=[Optional(), Length(max=500)])
    health_rating = SelectField(
        _l("Health rating"), choices=[("", "—"), *HEALTH_LABELS.items()], default=""
    )
    village_head_statement = BooleanField(_l("Village head's statement of inactivity obtained"))
    village_head_statement_date = DateField(
        _l("Date of the statement"), validators=[Optional(), _not_future]
    )
    # Outcome
    findings = TextAreaField(_l("Findings"), validators=[Optional(), Length(max=10000)])
    recommendation = TextAreaField(_l("Recommendation"), validators=[Optional(), Length(max=5000)])
    lat = CoordinateField(_l("Latitude"), -90, 90)
    lng = CoordinateField(_l("Longitude"), -180, 180)
    photos = MultipleFileField(_l("Photos (JPEG, PNG or HEIC)"))
    documents = MultipleFileField(_l("Documents (PDF)"))


# RAT rows: rat_fy_0, rat_held_0, rat_date_0, rat_attendance_0, rat_minutes_0 ... (3 rows)
for _i in range(RAT_ROWS):
    setattr(
        AuditForm,
        f"rat_fy_{_i}",
        IntegerField(_l("Fiscal year"), validators=[Optional(), NumberRange(min=1945, max=2100)]),
    )
    setattr(AuditForm, f"rat_held_{_i}", TriField(_l("RAT held")))
    setattr(
        AuditForm, f"rat_date_{_i}", DateField(_l("RAT date"), validators=[Optional(), _not_future])
    )
    setattr(
        AuditForm,
        f"rat_attendance_{_i}",
        IntegerField(
            _l("Members present"), validators=[Optional(), NumberRange(min=0, max=10_000_000)]
        ),
    )
    setattr(AuditForm, f"rat_minutes_{_i}", TriField(_l("Minutes present")))

TRI_FIELDS = (
    "office_found",
    "signboard",
    "board_reachable",
    "books_present",
    "board_complete",
    "supervisors_complete",
    "terms_valid",
    "adart_exists",
    "adart_approved",
    "business_matches_adart",
    "business_active",
    "balance_sheet",
)
PLAIN_FIELDS = (
    "visit_date",
    "inspectors",
    "met_persons",
    "member_count",
    "business_description",
    "business_volume",
    "business_last_date",
    "shu_amount",
    "bank_debt",
    "debt_notes",
    "health_rating",
    "village_head_statement",
    "village_head_statement_date",
    "findings",
    "recommendation",
    "lat",
    "lng",
)
RAT_PARTS = ("fy", "held", "date", "attendance", "minutes")
TEXT_FIELDS = {
    "inspectors",
    "met_persons",
    "business_description",
    "debt_notes",
    "findings",
    "recommendation",
}


def parse_fields(form: AuditForm, names: set[str] | None = None) -> tuple[dict, dict]:
    """Validate each field on its own: (values of the fields that parsed, errors by field).

    Only fields present in the request (or in `names`) are returned, so an autosave of one
    field never blanks the others. Values use model types; RAT rows come back as `rat_<i>`
    dicts merged by the caller.
    """
    from flask import request

    present = set(request.form.keys()) if names is None else names
    values: dict[str, Any] = {}
    errors: dict[str, str] = {}
    ticked_or_not = present_booleans(present)
    for name, f in form._fields.items():
        if name in ("csrf_token", "photos", "documents"):
            continue
        if name not in present and not (f.type == "BooleanField" and name in ticked_or_not):
            continue
        if not f.validate(form):
            # One message per entry: after "not a number", a range check on nothing adds noise.
            f.errors = [f.errors[0] if f.errors else _l("Invalid value.")]
            errors[name] = str(f.errors[0])
            continue
        values[name] = _model_value(name, f)
    return values, errors


def present_booleans(present: set[str]) -> set[str]:
    # An unticked checkbox is absent from the form; the page sends "<name>__present" with it.
    return {p.removesuffix("__present") for p in present if p.endswith("__present")}


def _model_value(name: str, f: Any) -> Any:
    if name in TRI_FIELDS or name.startswith(("rat_held_", "rat_minutes_")):
        return tri_to_bool(f.data)
    if name in TEXT_FIELDS:
        return (f.data or "").strip() or None
    if name == "health_rating":
        return f.data or None
    if name == "village_head_statement":
        return bool(f.data)
    return f.data


def fill_form(form: AuditForm, audit: Any) -> None:
    """Show a stored (draft) audit in the form."""
    for name in TRI_FIELDS:
        form[name].data = bool_to_tri(getattr(audit, name))
    for name in PLAIN_FIELDS:
        form[name].data = getattr(audit, name)
    form.health_rating.data = audit.health_rating or ""
    rows = list(audit.rat or [])
    for i in range(RAT_ROWS):
        row = rows[i] if i < len(rows) else {}
        form[f"rat_fy_{i}"].data = row.get("fy")
        form[f"rat_held_{i}"].data = bool_to_tri(row.get("held"))
        form[f"rat_date_{i}"].data = _date(row.get("date"))
        form[f"rat_attendance_{i}"].data = row.get("attendance")
        form[f"rat_minutes_{i}"].data = bool_to_tri(row.get("minutes"))


def _date(value: Any):
    from datetime import date

    if not value:
        return None
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        return None


class AmendmentForm(FlaskForm):
    reason = TextAreaField(_l("Reason for the amendment"), validators=[Length(max=2000)])
    note = TextAreaField(_l("Correction"), validators=[Length(max=5000)])


class DueFilterForm(FlaskForm):
    class Meta:
        csrf = False

    kecamatan = SelectField(_l("Kecamatan"), choices=[], validate_choice=False)
    desa = SelectField(_l("Village"), choices=[], validate_choice=False)
