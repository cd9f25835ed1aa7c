"""Cluster pages: the map and its data, summaries, exports, the taxonomy, bulk assignment and the
capital-support shortlist. Thin: parse, call one operation, commit once, redirect."""

from __future__ import annotations

import json

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import func, select

from ..extensions import db
from ..geo import regions
from ..labels import STATUS_LABELS
from ..models import STATUSES, Cluster, Cooperative
from ..models.clusters import Shortlist, ShortlistOverride
from ..permissions import ADMIN, ALL_ROLES, PermissionDenied, role_required
from ..registry.query import RegisterFilter
from ..registry.views import filter_choices as registry_filter_choices
from ..timeutil import local_today
from ..webforms import refusal_message
from . import exports, operations, queries
from . import shortlist as sl
from .forms import AssignForm, ClusterForm, EmptyForm, OverrideForm, criteria_form_class

bp = Blueprint("clusters", __name__, url_prefix="/klaster")

MAP_DEFAULTS = {"status": "active"}


def map_filter() -> RegisterFilter:
    """The register filter, with the map's default of active cooperatives."""
    return RegisterFilter.from_args(request.args, **MAP_DEFAULTS)


def filter_choices() -> dict:
    """The register's filter choices (one definition) plus the statuses the map offers."""
    return {**registry_filter_choices(), "statuses": STATUSES}


def _denied(e: PermissionDenied):
    db.session.rollback()
    flash(e.message, "danger")
    abort(403)


# ---------------------------------------------------------------- map


@bp.route("/peta")
@role_required(*ALL_ROLES)
def map_page():
    flt = map_filter()
    total, located = queries.counts(flt)
    cl = queries.clusters()
    return render_template(
        "clusters/map.html",
        flt=flt,
        total=total,
        located=located,
        without=queries.without_location(flt),
        outside=queries.outside_their_village(flt),
        choices=filter_choices(),
        clusters=cl,
        legend_json=json.dumps(
            {str(c.id): [c.name, c.color] for c in cl} | {"0": [_("No cluster"), "#6c757d"]},
            ensure_ascii=False,
        ),
        status_json=json.dumps([str(STATUS_LABELS[s]) for s in STATUSES]),
    )


@bp.route("/peta/data")
@role_required(*ALL_ROLES)
def map_data():
    flt = map_filter()
    zoom = request.args.get("z", 11, type=int) or 11
    bbox = queries.parse_bbox(request.args.get("bbox"))
    resp = jsonify(queries.map_data(flt, max(0, min(zoom, 22)), bbox))
    return resp


@bp.route("/peta/koperasi/<int:coop_id>")
@role_required(*ALL_ROLES)
def map_popup(coop_id: int):
    c = db.session.get(Cooperative, coop_id) or abort(404)
    outside = c.has_location and queries.outside_village(c.desa_kode, c.lat, c.lng)
    return jsonify(
        {
            "name": c.name,
            "cluster": c.cluster.name if c.cluster else _("No cluster"),
            "status": str(STATUS_LABELS.get(c.status, c.status)),
            "village": c.desa.nama,
            "kecamatan": c.kecamatan.nama,
            "rtrw": f"RT {c.rt or '—'} / RW {c.rw or '—'}",
            "url": url_for("registry.detail", coop_id=c.id),
            "gmaps": exports.GMAPS.format(lat=c.lat, lng=c.lng) if c.has_location else "",
            "outside": _(
                "The point lies outside %(village)s: please check the coordinates.",
                village=c.desa.nama,
            )
            if outside
            else "",
            "labels": {"open": _("Open the cooperative's page"), "gmaps": _("Open in Google Maps")},
        }
    )


# ---------------------------------------------------------------- summaries


def _summary_context(flt: RegisterFilter) -> dict:
    table = queries.summary(flt)
    reg = regions()
    level_label = {"kecamatan": _("Kecamatan"), "desa": _("Village"), "rt": "RW / RT"}[table.level]
    crumbs = [(_("All kecamatan"), flt.args(kecamatan="", desa=""))]
    if flt.kecamatan and flt.kecamatan in reg.kecamatan:
        crumbs.append((reg.kecamatan[flt.kecamatan].nama, flt.args(desa="")))
    if flt.desa and flt.desa in reg.villages:
        crumbs.append((reg.villages[flt.desa].nama, flt.args()))
    return {"table": table, "level_label": level_label, "crumbs": crumbs}


@bp.route("/ringkasan")
@role_required(*ALL_ROLES)
def summary():
    flt = map_filter()
    ctx = _summary_context(flt)
    return render_template("clusters/summary.html", flt=flt, choices=filter_choices(), **ctx)


@bp.route("/ringkasan.xlsx")
@role_required(*ALL_ROLES)
def summary_xlsx():
    flt = map_filter()
    ctx = _summary_context(flt)
    title = " / ".join(str(c[0]) for c in ctx["crumbs"])
    data = exports.summary_xlsx(ctx["table"], str(ctx["level_label"]), title)
    return _download(data, "ringkasan-klaster.xlsx", XLSX)


# ---------------------------------------------------------------- exports

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _download(data: bytes, filename: str, mimetype: str) -> Response:
    resp = Response(data, mimetype=mimetype)
    resp.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return resp


@bp.route("/ekspor.<fmt>")
@role_required(*ALL_ROLES)
def export(fmt: str):
    if fmt not in ("geojson", "kml"):
        abort(404)
    flt = map_filter()
    rows, _skipped = exports.export_rows(flt)
    base = request.host_url.rstrip("/")
    if fmt == "geojson":
        return _download(exports.to_geojson(rows, base), "koperasi.geojson", "application/geo+json")
    title = exports.export_title(flt, local_today())
    return _download(
        exports.to_kml(rows, title, base), "koperasi.kml", "application/vnd.google-earth.kml+xml"
    )


# ---------------------------------------------------------------- taxonomy


@bp.route("/taksonomi", methods=["GET", "POST"])
@role_required(ADMIN)
def taxonomy():
    form = ClusterForm()
    if form.validate_on_submit():
        try:
            c = operations.create_cluster(
                form.code.data, form.name.data, form.color.data, current_user
            )
        except operations.ClusterError as e:
            db.session.rollback()
            getattr(form, e.field, form.name).errors.append(e.message)
        except PermissionDenied as e:
            _denied(e)
        else:
            db.session.commit()
            flash(_("Cluster %(name)s added.", name=c.name), "success")
            return redirect(url_for("clusters.taxonomy"))
    if request.method == "POST" and form.errors:
        flash(_("Nothing was saved: please correct the fields marked in red."), "danger")
    usage = dict(
        db.session.execute(
            select(Cooperative.cluster_id, func.count()).group_by(Cooperative.cluster_id)
        ).all()
    )
    return render_template(
        "clusters/taxonomy.html",
        form=form,
        clusters=queries.clusters(),
        usage=usage,
        empty=EmptyForm(),
    )


@bp.route("/taksonomi/<int:cluster_id>", methods=["GET", "POST"])
@role_required(ADMIN)
def edit_cluster(cluster_id: int):
    cluster = db.session.get(Cluster, cluster_id) or abort(404)
    form = ClusterForm(obj=cluster)
    if form.validate_on_submit():
        try:
            changes = operations.update_cluster(
                cluster, form.name.data, form.color.data, form.active.data, current_user
            )
        except operations.ClusterError as e:
            db.session.rollback()
            getattr(form, e.field, form.name).errors.append(e.message)
        except PermissionDenied as e:
            _denied(e)
        else:
            db.session.commit()
            flash(_("Saved.") if changes else _("Nothing changed."), "success")
            return redirect(url_for("clusters.taxonomy"))
    if request.method == "POST" and form.errors:
        flash(_("Nothing was saved: please correct the fields marked in red."), "danger")
    return render_template("clusters/cluster_form.html", form=form, cluster=cluster)


@bp.route("/taksonomi/<int:cluster_id>/hapus", methods=["POST"])
@role_required(ADMIN)
def delete_cluster(cluster_id: int):
    cluster = db.session.get(Cluster, cluster_id) or abort(404)
    if not EmptyForm().validate_on_submit():
        abort(400)
    name = cluster.name
    try:
        operations.delete_cluster(cluster, current_user)
    except operations.ClusterError as e:
        db.session.rollback()
        flash(e.message, "danger")
    except PermissionDenied as e:
        _denied(e)
    else:
        db.session.commit()
        flash(_("Cluster %(name)s deleted.", name=name), "success")
    return redirect(url_for("clusters.taxonomy"))


@bp.route("/taksonomi/<int:cluster_id>/geser/<direction>", methods=["POST"])
@role_required(ADMIN)
def move_cluster(cluster_id: int, direction: str):
    cluster = db.session.get(Cluster, cluster_id) or abort(404)
    if direction not in ("up", "down") or not EmptyForm().validate_on_submit():
        abort(400)
    try:
        operations.move_cluster(cluster, direction, current_user)
    except PermissionDenied as e:
        _denied(e)
    db.session.commit()
    return redirect(url_for("clusters.taxonomy"))


# ---------------------------------------------------------------- bulk assignment


@bp.route("/tetapkan", methods=["GET", "POST"])
@role_required(*operations.ASSIGNERS)
def assign():
    # The register's own default (no status = all statuses): this acts on the register list.
    flt = RegisterFilter.from_args(request.args)
    total = flt.count(db.session)
    form = AssignForm()
    active = [c for c in queries.clusters() if c.active]
    form.cluster.choices = [("", "—")] + [(str(c.id), c.name) for c in active]
    form.cluster.choices.append(("none", _("No cluster (clear)")))
    if form.validate_on_submit():
        raw = form.cluster.data or ""
        if raw == "none":
            target = None
        elif raw.isdigit():
            target = int(raw)
        else:
            form.cluster.errors.append(_("Choose the cluster to assign."))
            raw = None
        if raw is not None:
            try:
                n = operations.assign_cluster(flt, target, current_user)
            except operations.ClusterError as e:
                db.session.rollback()
                form.cluster.errors.append(e.message)
            except PermissionDenied as e:
                _denied(e)
            else:
                db.session.commit()
                flash(_("Cluster changed for %(n)s cooperative(s).", n=n), "success")
                return redirect(url_for("registry.index", **flt.args()))
    if request.method == "POST":
        flash(_("Nothing was saved: please correct the fields marked in red."), "danger")
    return render_template(
        "clusters/assign.html", form=form, flt=flt, total=total, choices=filter_choices()
    )


# ---------------------------------------------------------------- shortlist


def _shortlist_cluster() -> Cluster | None:
    cid = request.args.get("cluster", type=int)
    cluster = db.session.get(Cluster, cid) if cid else None
    if cluster is None:
        cluster = next((c for c in queries.clusters() if c.active), None)
    return cluster


@bp.route("/usulan")
@role_required(*operations.SHORTLISTERS)
def shortlist():
    cluster = _shortlist_cluster()
    rows, available = operations.ranked(cluster, local_today()) if cluster else ([], False)
    saved = (
        list(
            db.session.execute(
                select(Shortlist)
                .where(Shortlist.cluster_id == cluster.id)
                .order_by(Shortlist.id.desc())
                .limit(20)
            ).scalars()
        )
        if cluster
        else []
    )
    crit = operations.criteria()
    return render_template(
        "clusters/shortlist.html",
        cluster=cluster,
        clusters=queries.clusters(),
        rows=rows,
        facts_available=available,
        saved=saved,
        crit=crit,
        sl=sl,
        overrides=operations.active_overrides([r.candidate.id for r in rows]),
        form=OverrideForm(),
        empty=EmptyForm(),
    )


@bp.route("/usulan/keputusan", methods=["POST"])
@role_required(*operations.SHORTLISTERS)
def override():
    form = OverrideForm()
    coop = None
    if (form.cooperative_id.data or "").isdigit():
        coop = db.session.get(Cooperative, int(form.cooperative_id.data))
    if coop is None:
        abort(404)
    back = url_for("clusters.shortlist", cluster=coop.cluster_id or "")
    if not form.validate_on_submit():
        why = refusal_message(form, _("the form expired; please try again."))
        flash(_("Nothing was saved: %(why)s", why=why), "danger")
        return redirect(back)
    try:
        operations.set_override(coop, form.action.data, form.reason.data, current_user)
    except operations.ClusterError as e:
        db.session.rollback()
        flash(_("Nothing was saved: %(why)s", why=e.message), "danger")
    except PermissionDenied as e:
        _denied(e)
    else:
        db.session.commit()
        flash(_("Decision recorded for %(name)s.", name=coop.name), "success")
    return redirect(back)


@bp.route("/usulan/keputusan/<int:override_id>/cabut", methods=["POST"])
@role_required(*operations.SHORTLISTERS)
def lift(override_id: int):
    o = db.session.get(ShortlistOverride, override_id) or abort(404)
    back = url_for("clusters.shortlist", cluster=o.cooperative.cluster_id or "")
    if not EmptyForm().validate_on_submit():
        abort(400)
    try:
        operations.lift_override(o, current_user)
    except operations.ClusterError as e:
        db.session.rollback()
        flash(e.message, "danger")
    except PermissionDenied as e:
        _denied(e)
    else:
        db.session.commit()
        flash(_("Decision lifted."), "success")
    return redirect(back)


@bp.route("/usulan/simpan", methods=["POST"])
@role_required(*operations.SHORTLISTERS)
def save_shortlist():
    cluster = db.session.get(Cluster, request.args.get("cluster", 0, type=int)) or abort(404)
    if not EmptyForm().validate_on_submit():
        abort(400)
    try:
        snap = operations.save_shortlist(cluster, local_today(), current_user)
    except operations.ClusterError as e:
        db.session.rollback()
        flash(e.message, "danger")
        return redirect(url_for("clusters.shortlist", cluster=cluster.id))
    except PermissionDenied as e:
        _denied(e)
    db.session.commit()
    flash(_("Shortlist saved."), "success")
    return redirect(url_for("clusters.saved_shortlist", shortlist_id=snap.id))


@bp.route("/usulan/arsip/<int:shortlist_id>")
@role_required(*operations.SHORTLISTERS)
def saved_shortlist(shortlist_id: int):
    snap = db.session.get(Shortlist, shortlist_id) or abort(404)
    return render_template("clusters/saved.html", snap=snap, sl=sl)


@bp.route("/usulan/arsip/<int:shortlist_id>.xlsx")
@role_required(*operations.SHORTLISTERS)
def saved_xlsx(shortlist_id: int):
    snap = db.session.get(Shortlist, shortlist_id) or abort(404)
    return _download(exports.shortlist_xlsx(snap), f"usulan-modal-{snap.id}.xlsx", XLSX)


@bp.route("/usulan/arsip/<int:shortlist_id>.pdf")
@role_required(*operations.SHORTLISTERS)
def saved_pdf(shortlist_id: int):
    snap = db.session.get(Shortlist, shortlist_id) or abort(404)
    return _download(
        exports.shortlist_pdf(snap), f"lampiran-usulan-{snap.id}.pdf", "application/pdf"
    )


@bp.route("/pengaturan-usulan", methods=["GET", "POST"])
@role_required(ADMIN)
def criteria_settings():
    form = criteria_form_class()()
    current = operations.criteria()
    if request.method == "GET":
        for code, cfg in current.items():
            getattr(form, f"{code}_enabled").data = cfg["enabled"]
            getattr(form, f"{code}_required").data = cfg["required"]
            getattr(form, f"{code}_weight").data = cfg["weight"]
    elif form.validate_on_submit():
        values = {
            code: {
                "enabled": getattr(form, f"{code}_enabled").data,
                "required": getattr(form, f"{code}_required").data,
                "weight": getattr(form, f"{code}_weight").data or 0,
            }
            for code in sl.CRITERIA
        }
        try:
            operations.save_criteria(values, current_user)
        except operations.ClusterError as e:
            db.session.rollback()
            flash(_("Nothing was saved: %(why)s", why=e.message), "danger")
        except PermissionDenied as e:
            _denied(e)
        else:
            db.session.commit()
            flash(_("Criteria saved."), "success")
            return redirect(url_for("clusters.criteria_settings"))
    else:
        flash(_("Nothing was saved: please correct the fields marked in red."), "danger")
    return render_template("clusters/criteria.html", form=form, sl=sl)
