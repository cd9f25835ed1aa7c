from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    DateField,
    DecimalField,
    HiddenField,
    IntegerField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from ..labels import BENTUK_LABELS, JENIS_LABELS


class CooperativeForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)])
    jenis = SelectField(_l("Type (jenis)"), choices=[("", "—"), *JENIS_LABELS.items()])
    kelompok = StringField(_l("Group (kelompok)"), validators=[Optional(), Length(max=80)])
    bentuk = SelectField(_l("Form (bentuk)"), choices=list(BENTUK_LABELS.items()))
    bh_number = StringField(_l("Legal-entity (BH) number"), validators=[Optional(), Length(max=80)])
    bh_date = DateField(_l("Legal-entity approval date"), validators=[Optional()])
    nik = StringField(_l("NIK (cooperative number)"), validators=[Optional(), Length(max=30)])
    street = StringField(_l("Street / hamlet"), validators=[Optional(), Length(max=200)])
    rt = StringField("RT", validators=[Optional(), Length(max=3)])
    rw = StringField("RW", validators=[Optional(), Length(max=3)])
    kecamatan_kode = SelectField(_l("Kecamatan"), choices=[])
    desa_kode = SelectField(_l("Village (desa/kelurahan)"), choices=[])
    lat = DecimalField(_l("Latitude"), places=6, validators=[Optional()])
    lng = DecimalField(_l("Longitude"), places=6, validators=[Optional()])
    chair_name = StringField(_l("Chair's name"), validators=[Optional(), Length(max=120)])
    chair_phone = StringField(_l("Chair's phone"), validators=[Optional(), Length(max=20)])
    member_count = IntegerField(
        _l("Members"), validators=[Optional(), NumberRange(min=0, max=10_000_000)]
    )
    last_rat_year = IntegerField(_l("Last RAT (fiscal year)"), validators=[Optional()])
    cluster_id = SelectField(
        _l("Business cluster"), choices=[], coerce=str, default="", validate_choice=False
    )
    kbli = StringField(_l("KBLI code"), validators=[Optional(), Length(max=60)])
    products = TextAreaField(_l("Products"), validators=[Optional(), Length(max=2000)])
    version = HiddenField()

    def values(self) -> dict:
        data = {k: f.data for k, f in self._fields.items() if k not in ("csrf_token", "version")}
        for k in ("lat", "lng"):
            data[k] = float(data[k]) if data[k] is not None else None
        cid = data["cluster_id"]
        data["cluster_id"] = int(cid) if cid and str(cid).isdigit() else None
        return data
