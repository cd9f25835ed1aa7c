"""Forms of the letter pages."""

from __future__ import annotations

from datetime import date

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import BooleanField, DateField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from ..models.letters import Letter
from .operations import SCAN_MAX_BYTES, receipt_problems
from .render import PAGE_SIZES, SIGNER_PREFIXES


def lines_of(text: str | None) -> list[str]:
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


class LetterSettingsForm(FlaskForm):
    letterhead_lines = TextAreaField(
        _l("Letterhead lines (one per line)"), validators=[DataRequired(), Length(max=1000)]
    )
    address_line = StringField(_l("Address line"), validators=[Optional(), Length(max=200)])
    contact_line = StringField(
        _l("Phone, e-mail, website line"), validators=[Optional(), Length(max=200)]
    )
    place = StringField(_l("Place in the date line"), validators=[DataRequired(), Length(max=60)])
    classification_code = StringField(
        _l("Classification code"), validators=[DataRequired(), Length(max=30)]
    )
    unit_code = StringField(_l("Unit code"), validators=[DataRequired(), Length(max=40)])
    number_pattern = StringField(
        _l("Number pattern of letters"), validators=[DataRequired(), Length(max=80)]
    )
    decision_number_pattern = StringField(
        _l("Number pattern of decisions (Keputusan)"), validators=[DataRequired(), Length(max=80)]
    )
    signer_title = TextAreaField(
        _l("Signer's title (position)"), validators=[DataRequired(), Length(max=300)]
    )
    signer_name = StringField(_l("Signer's name"), validators=[Optional(), Length(max=120)])
    signer_rank = StringField(
        _l("Signer's rank (pangkat/golongan)"), validators=[Optional(), Length(max=80)]
    )
    signer_nip = StringField(_l("Signer's NIP"), validators=[Optional(), Length(max=24)])
    signer_prefix = SelectField(
        _l("Signing on behalf"),
        choices=[(p, p or "—") for p in SIGNER_PREFIXES],
        validate_choice=True,
    )
    signer_position = StringField(
        _l("Own position of whoever signs on behalf"), validators=[Optional(), Length(max=160)]
    )
    mengingat = TextAreaField(
        _l("Legal bases (Mengingat), one per line"), validators=[Optional(), Length(max=5000)]
    )
    tembusan = TextAreaField(
        _l("Default copies (Tembusan), one per line"), validators=[Optional(), Length(max=2000)]
    )
    proposal_addressee = TextAreaField(
        _l("Addressee of the dissolution proposal, one per line"),
        validators=[Optional(), Length(max=500)],
    )
    page_size = SelectField(_l("Paper size"), choices=[(k, k) for k in PAGE_SIZES])

    LIST_FIELDS = ("letterhead_lines", "mengingat", "tembusan", "proposal_addressee")

    def fill(self, values: dict) -> None:
        for name, field in self._fields.items():
            if name in values:
                value = values[name]
                field.data = "\n".join(value) if name in self.LIST_FIELDS else value

    def values(self) -> dict:
        out = {}
        for name, field in self._fields.items():
            if name == "csrf_token":
                continue
            if name in self.LIST_FIELDS:
                out[name] = lines_of(field.data)
            elif name == "signer_nip":
                out[name] = "".join((field.data or "").split())
            else:
                out[name] = (field.data or "").strip()
        return out


class LogoForm(FlaskForm):
    logo = FileField(_l("Logo (PNG or JPEG, at most 512 KB)"))
    remove = BooleanField(_l("Remove the logo"))


class VoidForm(FlaskForm):
    reason = TextAreaField(_l("Reason for voiding"), validators=[DataRequired(), Length(max=1000)])


class ReceiptForm(FlaskForm):
    """The proof of receipt of one letter.

    `validate()` reports every field `operations.receipt_problems` finds, all at once and before
    anything is stored; `record_receipt` checks again and stays the authority.
    """

    method = SelectField(
        _l("Delivered by"),
        choices=[
            ("hand", _l("By hand")),
            ("post", _l("By post")),
            ("announcement", _l("Public announcement (could not be delivered)")),
        ],
        validate_choice=False,  # refused below with the operation's own message
    )
    received_on = DateField(_l("Date received"), validators=[Optional()])
    receiver = StringField(_l("Received by (name)"), validators=[Optional(), Length(max=120)])
    announced_on = DateField(_l("Announcement start date"), validators=[Optional()])
    scan = FileField(_l("Scan of the receipt (PDF, JPEG or PNG)"))

    def __init__(self, *args, letter: Letter | None = None, today: date | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.letter = letter
        self.today = today
        # The chosen file's bytes once validated; its name, because a page sent back with
        # errors cannot keep the file and has to ask for it again.
        self.scan_bytes: bytes | None = None
        upload = self.scan.data
        self.scan_name: str = getattr(upload, "filename", None) or ""

    def validate(self, extra_validators=None) -> bool:
        super().validate(extra_validators)
        if self.scan_name:
            self.scan_bytes = self.scan.data.read(SCAN_MAX_BYTES + 1)
        if self.letter is not None and self.today is not None:
            problems = receipt_problems(
                self.letter,
                method=self.method.data or "",
                today=self.today,
                received_on=self.received_on.data,
                receiver=self.receiver.data or "",
                announced_on=self.announced_on.data,
                scan=self.scan_bytes,
            )
            for name, message in problems.items():
                if not self[name].errors:  # a date that does not parse already says so
                    self[name].errors.append(message)
        return not self.errors


class ReceiptCorrectionForm(ReceiptForm):
    """A recorded receipt corrected: the same fields, and why (kept in the history)."""

    reason = TextAreaField(_l("Why is it corrected?"), validators=[Optional(), Length(max=1000)])

    @classmethod
    def of(cls, letter: Letter, today: date) -> ReceiptCorrectionForm:
        """Filled with what is recorded now, for the clerk to change."""
        return cls(
            formdata=None,
            letter=letter,
            today=today,
            data={
                "method": letter.receipt_method,
                "received_on": letter.receipt_date,
                "receiver": letter.receipt_receiver or "",
                "announced_on": letter.announced_on,
            },
        )


class ReissueForm(FlaskForm):
    """The head's button that issues a voided letter again (CSRF only)."""


class BatchForm(FlaskForm):
    kind = SelectField(_l("Kind"), choices=[], validate_choice=True)
    kecamatan = SelectField(_l("Kecamatan"), choices=[], validate_choice=True)
    unsent = BooleanField(_l("Only letters not yet sent"), default=True)
    # Unticked, printing marks the letters sent (the clerk prints to post them).
    copies = BooleanField(_l("Copies only (e.g. for the archive): do not mark them as sent"))


class ProposalForm(FlaskForm):
    addressee = TextAreaField(_l("Addressee, one per line"), validators=[Length(max=500)])
    reason = TextAreaField(_l("Additional paragraph (optional)"), validators=[Length(max=2000)])


class ShortCodeForm(FlaskForm):
    class Meta:
        csrf = False  # a public GET lookup changes nothing

    code = StringField(_l("Verification code"), validators=[DataRequired(), Length(max=20)])
