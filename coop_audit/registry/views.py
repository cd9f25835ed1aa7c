"""Register pages: the list with filters, a cooperative's page, create and edit forms."""

from __future__ import annotations

import time

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from markupsafe import Markup, escape
from sqlalchemy import select

from .. import history
from ..extensions import db
from ..geo import regions
from ..models import Cluster, Cooperative
from ..permissions import ADMIN, ALL_ROLES, CLERK, INSPECTOR, role_required
from .forms import CooperativeForm
from .operations import (
    ConcurrentEdit,
    ValidationFailed,
    create_cooperative,
    update_cooperative,
)
from .query import RegisterFilter

bp = Blueprint("registry", __name__, url_prefix="/koperasi")

EDITORS = (ADMIN, CLERK, INSPECTOR)


def clusters() -> list[Cluster]:
    return list(
        db.session.execute(select(Cluster).order_by(Cluster.sort_order, Cluster.name)).scalars()
    )


def kelompok_values() -> list[str]:
    """The groups in use, for the filter; a full scan, so cached per process for a minute."""
    cache = current_app.extensions.setdefault("kelompok_cache", {})
    now = time.monotonic()
    if cache.get("at", -1e9) > now - 60:
        return cache["values"]
    values = [
        k
        for (k,) in db.session.execute(
            select(Cooperative.kelompok)
            .where(Cooperative.kelompok.is_not(None))
            .distinct()
            .order_by(Cooperative.kelompok)
        )
    ]
    cache.update(at=now, values=values)
    return values


def filter_choices() -> dict:
    reg = regions()
    return {
        "kecamatan": list(reg.kecamatan.values()),
        "kecamatan_names": {k.kode: k.nama for k in reg.kecamatan.values()},
        "villages": sorted(reg.villages.values(), key=lambda v: (v.nama, v.kecamatan_kode)),
        "clusters": clusters(),
        "kelompok": kelompok_values(),
    }


@bp.route("/")
@role_required(*ALL_ROLES)
def index():
    flt = RegisterFilter.from_args(request.args)
    page = max(1, request.args.get("page", 1, type=int) or 1)
    per_page = current_app.config["PAGE_SIZE"]
    rows, total, page = flt.page(db.session, page, per_page)
    last_page = max(1, -(-total // per_page))
    return render_template(
        "registry/index.html",
        flt=flt,
        rows=rows,
        total=total,
        page=page,
        last_page=last_page,
        choices=filter_choices(),
    )


@bp.route("/<int:coop_id>")
@role_required(*ALL_ROLES)
def detail(coop_id: int):
    coop = db.session.get(Cooperative, coop_id) or abort(404)
    return render_template(
        "registry/detail.html",
        coop=coop,
        events=history.timeline(coop.id),
        village=regions().villages.get(coop.desa_kode),
    )


def _prepare(form: CooperativeForm) -> None:
    reg = regions()
    form.kecamatan_kode.choices = [("", "—")] + [(k.kode, k.nama) for k in reg.kecamatan.values()]
    form.desa_kode.choices = [("", "—")] + [
        (v.kode, f"{v.nama} ({reg.kecamatan[v.kecamatan_kode].nama})")
        for v in sorted(reg.villages.values(), key=lambda v: (v.kecamatan_kode, v.nama))
    ]
    # New assignments go to active clusters; a record keeps showing its current one.
    current = str(form.cluster_id.data or "")
    form.cluster_id.choices = [("", "—")] + [
        (str(c.id), c.name) for c in clusters() if c.active or str(c.id) == current
    ]


def _show_errors(form: CooperativeForm, failed: ValidationFailed) -> None:
    for m in failed.checked.errors:
        target = getattr(form, m.field, None) or form.name
        text = escape(m.text)
        if m.link_coop_id:
            href = url_for("registry.detail", coop_id=m.link_coop_id)
            text = Markup('{} <a href="{}">{}</a>').format(text, href, _("Open it"))
        target.errors = [*target.errors, text]
    flash(_("Nothing was saved: please correct the fields marked in red."), "danger")


@bp.route("/baru", methods=["GET", "POST"])
@role_required(*EDITORS)
def new():
    form = CooperativeForm()
    _prepare(form)
    if form.validate_on_submit():
        try:
            coop = create_cooperative(form.values(), current_user)
        except ValidationFailed as e:
            db.session.rollback()
            _show_errors(form, e)
        else:
            db.session.commit()
            flash(_("%(name)s was added to the register.", name=coop.name), "success")
            return redirect(url_for("registry.detail", coop_id=coop.id))
    elif request.method == "POST":
        flash(_("Nothing was saved: please correct the fields marked in red."), "danger")
    return render_template("registry/form.html", form=form, coop=None)


@bp.route("/<int:coop_id>/ubah", methods=["GET", "POST"])
@role_required(*EDITORS)
def edit(coop_id: int):
    coop = db.session.get(Cooperative, coop_id) or abort(404)
    form = CooperativeForm(obj=coop)
    _prepare(form)
    if request.method == "GET":
        form.cluster_id.data = str(coop.cluster_id or "")
        form.version.data = str(coop.version)
    if form.validate_on_submit():
        try:
            version = int(form.version.data or 0)
            changes = update_cooperative(
                coop, form.values(), current_user, expected_version=version
            )
        except ValidationFailed as e:
            db.session.rollback()
            _show_errors(form, e)
        except ConcurrentEdit:
            db.session.rollback()
            flash(
                _(
                    "Someone else changed this cooperative while you were editing. "
                    "Nothing was saved; the form now shows their version."
                ),
                "danger",
            )
            return redirect(url_for("registry.edit", coop_id=coop_id))
        else:
            db.session.commit()
            if changes:
                flash(_("Saved: %(n)d field(s) changed.", n=len(changes)), "success")
            else:
                flash(_("Nothing changed."), "info")
            return redirect(url_for("registry.detail", coop_id=coop.id))
    elif request.method == "POST":
        flash(_("Nothing was saved: please correct the fields marked in red."), "danger")
    return render_template("registry/form.html", form=form, coop=coop)
