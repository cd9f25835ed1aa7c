"""Creating and correcting cooperatives: validation and the only writes to register fields.

The status is not a register field: only the workflow operations change it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from flask import current_app, has_app_context
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm.exc import StaleDataError

from .. import history
from ..extensions import db
from ..geo import regions
from ..models import BENTUK, JENIS, Cluster, Cooperative, User
from ..timeutil import local_today

# Register fields a clerk may edit (everything but status, which is the workflow's).
EDITABLE = (
    "name",
    "jenis",
    "kelompok",
    "bentuk",
    "bh_number",
    "bh_date",
    "nik",
    "street",
    "rt",
    "rw",
    "desa_kode",
    "kecamatan_kode",
    "lat",
    "lng",
    "chair_name",
    "chair_phone",
    "member_count",
    "last_rat_year",
    "cluster_id",
    "kbli",
    "products",
)


@dataclass
class FieldMessage:
    field: str
    level: str  # "error" | "warning"
    text: str
    link_coop_id: int | None = None  # e.g. the cooperative that already uses this BH number


@dataclass
class Checked:
    values: dict[str, Any]
    messages: list[FieldMessage] = field(default_factory=list)

    @property
    def errors(self) -> list[FieldMessage]:
        return [m for m in self.messages if m.level == "error"]

    def error(self, fld: str, text: str, link: int | None = None) -> None:
        self.messages.append(FieldMessage(fld, "error", text, link))

    def warning(self, fld: str, text: str) -> None:
        self.messages.append(FieldMessage(fld, "warning", text))


class ValidationFailed(Exception):
    def __init__(self, checked: Checked) -> None:
        super().__init__("; ".join(m.text for m in checked.errors))
        self.checked = checked


class ConcurrentEdit(Exception):
    """The record changed since the form was opened."""


def name_key(name: str) -> str:
    return " ".join(name.lower().split())


def pad3(value: Any) -> str | None:
    if value is None or str(value).strip() == "":
        return None
    text = str(value).strip()
    if not text.isdigit() or len(text) > 3 or int(text) == 0:
        raise ValueError(text)
    return f"{int(text):03d}"


def check(values: dict[str, Any], existing: Cooperative | None = None) -> Checked:
    """Validate and normalise register values; messages name the field in the user's language."""
    v = {k: values.get(k) for k in EDITABLE}
    for k, val in list(v.items()):
        if isinstance(val, str):
            v[k] = " ".join(val.split()) or None
    c = Checked(v)
    if not v["name"]:
        c.error("name", _("The name is required."))
    elif len(v["name"]) > 200:
        c.error("name", _("The name is longer than 200 characters."))
    if v["jenis"] not in JENIS:
        c.error("jenis", _("Choose the type (jenis) of the cooperative."))
    v["bentuk"] = v["bentuk"] or "primer"
    if v["bentuk"] not in BENTUK:
        c.error("bentuk", _("Form must be primary or secondary."))

    if v["nik"]:
        v["nik"] = v["nik"].replace(" ", "")
        if not v["nik"].isdigit():
            c.error("nik", _("NIK may contain digits only (it is stored as text)."))
    for key in ("rt", "rw"):
        try:
            v[key] = pad3(v[key])
        except ValueError:
            c.error(key, _("%(field)s must be a number from 1 to 999.", field=key.upper()))
    if v["chair_phone"]:
        phone = re.sub(r"[\s\-().]", "", v["chair_phone"])
        if phone.startswith("+62"):
            phone = "0" + phone[3:]
        if not phone.isdigit() or not 8 <= len(phone) <= 14:
            c.error("chair_phone", _("The phone number should have 8 to 14 digits."))
        v["chair_phone"] = phone
    for key, low, high in (("member_count", 0, 10_000_000), ("last_rat_year", 1945, None)):
        if v[key] in (None, ""):
            v[key] = None
            continue
        try:
            v[key] = int(v[key])
        except (TypeError, ValueError):
            c.error(key, _("Enter a whole number."))
            continue
        top = high if high is not None else local_today().year
        if not low <= v[key] <= top:
            c.error(key, _("Must be between %(low)d and %(high)d.", low=low, high=top))
    if v["bh_date"] is not None and not isinstance(v["bh_date"], date):
        c.error("bh_date", _("Enter a valid date."))
    elif v["bh_date"] is not None and v["bh_date"] > local_today():
        c.error("bh_date", _("The legal-entity date cannot be in the future."))

    _check_place(c)
    _check_unique(c, existing)
    if v["cluster_id"] in ("", 0):
        v["cluster_id"] = None
    if v["cluster_id"] is not None:
        cluster = db.session.get(Cluster, int(v["cluster_id"]))
        if cluster is None:
            c.error("cluster_id", _("Unknown cluster."))
        elif not cluster.active and (existing is None or existing.cluster_id != cluster.id):
            c.error("cluster_id", _("The cluster %(name)s is no longer in use.", name=cluster.name))
    return c


def _check_place(c: Checked) -> None:
    v = c.values
    reg = regions()
    kec = reg.kecamatan.get(v["kecamatan_kode"] or "")
    village = reg.villages.get(v["desa_kode"] or "")
    if kec is None:
        c.error("kecamatan_kode", _("Choose a kecamatan of Karanganyar."))
    if village is None:
        c.error("desa_kode", _("Choose the village (desa/kelurahan)."))
    elif kec is not None and village.kecamatan_kode != kec.kode:
        other = reg.kecamatan[village.kecamatan_kode].nama
        c.error(
            "desa_kode",
            _(
                "%(village)s is not in kecamatan %(kec)s (it is in %(other)s).",
                village=village.nama,
                kec=kec.nama,
                other=other,
            ),
        )
    lat, lng = v["lat"], v["lng"]
    if (lat is None) != (lng is None):
        c.error("lat", _("Give both latitude and longitude, or neither."))
        return
    if lat is None:
        return
    try:
        lat, lng = float(lat), float(lng)
    except (TypeError, ValueError):
        c.error("lat", _("Coordinates must be numbers such as -7.6034 and 110.9512."))
        return
    v["lat"], v["lng"] = lat, lng
    if not reg.in_regency(lat, lng):
        if reg.in_regency(lng, lat):
            c.error("lat", _("Latitude and longitude look swapped: latitude is about -7.6."))
        else:
            c.error(
                "lat", _("The point %(lat)s, %(lng)s lies outside Karanganyar.", lat=lat, lng=lng)
            )
    elif village is not None and not village.contains(lat, lng):
        c.warning("lat", _("The point lies outside the village %(village)s.", village=village.nama))


def _check_unique(c: Checked, existing: Cooperative | None) -> None:
    v = c.values
    own_id = existing.id if existing is not None else None
    for key in ("bh_number", "nik"):
        if not v[key]:
            continue
        label = _("legal-entity number") if key == "bh_number" else "NIK"
        other = db.session.execute(
            select(Cooperative.id, Cooperative.name).where(getattr(Cooperative, key) == v[key])
        ).first()
        if other is not None and other.id != own_id:
            c.error(
                key,
                _(
                    "This %(label)s is already used by %(name)s.",
                    label=label,
                    name=other.name,
                ),
                link=other.id,
            )


def _forget_kelompok_cache() -> None:
    if has_app_context():
        current_app.extensions.pop("kelompok_cache", None)


def create_cooperative(
    values: dict[str, Any],
    actor: User | None,
    *,
    source: str = "form",
    status: str = "active",
    data: dict[str, Any] | None = None,
) -> Cooperative:
    checked = check(values)
    if checked.errors:
        raise ValidationFailed(checked)
    v = checked.values
    coop = Cooperative(**v, name_key=name_key(v["name"]), status=status)
    db.session.add(coop)
    db.session.flush()
    _forget_kelompok_cache()
    history.record(
        "created",
        cooperative_id=coop.id,
        actor=actor,
        to_status=coop.status,
        data={"source": source, **(data or {})},
    )
    return coop


def _jsonable(value: Any) -> Any:
    return value.isoformat() if isinstance(value, date) else value


def diff(coop: Cooperative, values: dict[str, Any]) -> dict[str, list[Any]]:
    return {
        k: [_jsonable(getattr(coop, k)), _jsonable(values[k])]
        for k in EDITABLE
        if k in values and getattr(coop, k) != values[k]
    }


def update_cooperative(
    coop: Cooperative,
    values: dict[str, Any],
    actor: User | None,
    *,
    expected_version: int | None = None,
    source: str = "form",
    data: dict[str, Any] | None = None,
) -> dict[str, list[Any]]:
    """Apply corrections; returns what changed (old, new). Nothing changes when nothing differs."""
    if expected_version is not None and expected_version != coop.version:
        raise ConcurrentEdit()
    checked = check({**{k: getattr(coop, k) for k in EDITABLE}, **values}, existing=coop)
    if checked.errors:
        raise ValidationFailed(checked)
    changes = diff(coop, checked.values)
    if not changes:
        return {}
    for k in changes:
        setattr(coop, k, checked.values[k])
    coop.name_key = name_key(coop.name)
    if "kelompok" in changes:
        _forget_kelompok_cache()
    try:
        db.session.flush()
    except StaleDataError as e:
        raise ConcurrentEdit() from e
    history.record(
        "updated",
        cooperative_id=coop.id,
        actor=actor,
        data={"source": source, "changes": changes, **(data or {})},
    )
    return changes
