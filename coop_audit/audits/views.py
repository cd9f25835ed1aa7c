"""Audit pages: campaign list, the phone form with autosave, submission, evidence files, PDF."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from flask import (
    Blueprint,
    Flask,
    abort,
    current_app,
    flash,
    g,
    jsonify,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import func, inspect, or_, select
from sqlalchemy.orm import selectinload

from .. import rules
from ..extensions import db
from ..geo import regions
from ..labels import EVENT_LABELS
from ..models import Cooperative
from ..models.audits import Audit, AuditFile
from ..nav import COOP_BADGES, COOP_SECTIONS, register_dashboard_panel
from ..permissions import ADMIN, ALL_ROLES, HEAD, INSPECTOR, PermissionDenied, role_required
from ..timeutil import local_today
from . import operations, uploads
from .facts import rule_settings, verdict_line, verdict_reasons, verdicts_for
from .forms import (
    RAT_ROWS,
    TRI_FIELDS,
    AmendmentForm,
    AuditForm,
    fill_form,
    parse_fields,
)

log = logging.getLogger(__name__)

bp = Blueprint("audits", __name__, url_prefix="/audit")

RECORDERS = (ADMIN, INSPECTOR)
PLANNERS = (ADMIN, INSPECTOR, HEAD)


def init_app(app: Flask) -> None:
    from .. import settings

    app.register_blueprint(bp)
    # A global, not a context variable: imported macros (verdict_box) see globals only.
    app.add_template_global(verdict_reasons, "verdict_reasons")
    EVENT_LABELS.update(
        {"audit_submitted": _l("Audit submitted"), "audit_amended": _l("Audit amended")}
    )
    if "audits/_coop_section.html" not in COOP_SECTIONS:
        COOP_SECTIONS.append("audits/_coop_section.html")
    if verdict_badges not in COOP_BADGES:
        COOP_BADGES.append(verdict_badges)
    register_dashboard_panel("audits/_dashboard_panel.html")
    defaults = rules.RuleSettings()
    settings.register_defaults(
        {
            f"rules.{name}": getattr(defaults, name)
            for name in (
                "rat_missing_years",
                "no_business_years",
                "audit_interval_months",
                "rat_grace_months",
                "fiscal_year_end_month",
                "min_members_primer",
                "min_members_sekunder",
            )
        }
    )
    app.context_processor(
        lambda: {
            "audit_section": coop_section_context,
            "audit_campaign": campaign_progress,
            "verdict_kind_label": lambda k: rules.KIND_LABELS.get(k, k or ""),
            "verdict_kind_css": lambda k: rules.KIND_CSS.get(k, "text-bg-secondary"),
        }
    )


# ---------------------------------------------------------------- per-request helpers


def today():
    return local_today()


def settings_for_request() -> rules.RuleSettings:
    if "audit_rule_settings" not in g:
        g.audit_rule_settings = rule_settings()
    return g.audit_rule_settings


def verdict_badges(coop: Cooperative) -> list[dict[str, Any]]:
    """COOP_BADGES hook: the verdict beside the status. The first call on a page computes the
    verdicts of every cooperative already loaded in the session (one audit query), so a list
    of 50 rows costs one query, not 50."""
    cache: dict[int, rules.Verdict] = g.setdefault("audit_verdicts", {})
    if coop.id not in cache:
        batch = [coop]
        for obj in list(db.session.identity_map.values()):
            if isinstance(obj, Cooperative) and obj is not coop:
                state = inspect(obj)
                ident = state.identity[0] if state.identity else None
                if ident not in cache and not state.expired and "bh_date" not in state.unloaded:
                    batch.append(obj)
        cache.update(verdicts_for(batch, today(), settings_for_request()))
    v = cache[coop.id]
    title = verdict_line(v.label, v.summary)
    return [{"label": v.label, "css": v.css + " verdict-badge", "title": title}]


def coop_section_context(coop: Cooperative) -> dict[str, Any]:
    """Data for the section on a cooperative's page (current verdict, audit history)."""
    cache: dict[int, rules.Verdict] = g.setdefault("audit_verdicts", {})
    if coop.id not in cache:
        cache.update(verdicts_for([coop], today(), settings_for_request()))
    audits = (
        db.session.execute(
            select(Audit)
            .where(Audit.cooperative_id == coop.id)
            .options(selectinload(Audit.files), selectinload(Audit.amendments))
            .order_by(Audit.visit_date.desc().nulls_last(), Audit.id.desc())
        )
        .scalars()
        .all()
    )
    user_id = current_user.id if current_user.is_authenticated else None
    return {
        "verdict": cache[coop.id],
        "audits": [a for a in audits if a.state == "submitted"],
        "my_draft": next(
            (a for a in audits if a.state == "draft" and a.created_by_id == user_id), None
        ),
        "can_record": operations.can_record(current_user),
    }


def campaign_progress() -> dict[str, Any]:
    """Audited within the interval / total, by kecamatan (revoked cooperatives left out)."""
    s = settings_for_request()
    since = rules.add_months(today(), -s.audit_interval_months)
    last = (
        select(Audit.cooperative_id, func.max(Audit.visit_date).label("last"))
        .where(Audit.state == "submitted")
        .group_by(Audit.cooperative_id)
        .subquery()
    )
    rows = db.session.execute(
        select(
            Cooperative.kecamatan_kode,
            func.count(Cooperative.id),
            func.count(last.c.last).filter(last.c.last >= since),
        )
        .outerjoin(last, last.c.cooperative_id == Cooperative.id)
        .where(Cooperative.status != "license_revoked")
        .group_by(Cooperative.kecamatan_kode)
    ).all()
    reg = regions()
    by_kec = {kode: (total, audited) for kode, total, audited in rows}
    out = []
    for k in reg.kecamatan.values():
        total, audited = by_kec.get(k.kode, (0, 0))
        out.append({"kode": k.kode, "nama": k.nama, "total": total, "audited": audited})
    total = sum(r["total"] for r in out)
    audited = sum(r["audited"] for r in out)
    return {"rows": out, "total": total, "audited": audited, "since": since}


# ---------------------------------------------------------------- campaign list


def due_select(kecamatan: str | None, desa: str | None):
    s = settings_for_request()
    cutoff = rules.add_months(today(), -s.audit_interval_months)
    last = (
        select(Audit.cooperative_id, func.max(Audit.visit_date).label("last"))
        .where(Audit.state == "submitted")
        .group_by(Audit.cooperative_id)
        .subquery()
    )
    q = (
        select(Cooperative, last.c.last)
        .outerjoin(last, last.c.cooperative_id == Cooperative.id)
        .where(
            Cooperative.status != "license_revoked",
            or_(last.c.last.is_(None), last.c.last < cutoff),
        )
    )
    if kecamatan:
        q = q.where(Cooperative.kecamatan_kode == kecamatan)
    if desa:
        q = q.where(Cooperative.desa_kode == desa)
    return q.order_by(
        Cooperative.kecamatan_kode,
        Cooperative.desa_kode,
        last.c.last.is_not(None),
        Cooperative.name,
    )


@bp.route("/jadwal")
@role_required(*PLANNERS)
def due():
    reg = regions()
    kecamatan = request.args.get("kecamatan") or None
    desa = request.args.get("desa") or None
    if kecamatan not in reg.kecamatan:
        kecamatan = None
    if desa not in reg.villages or (kecamatan and not desa.startswith(kecamatan + ".")):
        desa = None
    q = due_select(kecamatan, desa)
    total = db.session.execute(select(func.count()).select_from(q.subquery())).scalar_one()
    per_page = current_app.config.get("PAGE_SIZE", 50)
    last_page = max(1, -(-total // per_page))
    page = min(max(1, request.args.get("page", 1, type=int) or 1), last_page)
    rows = db.session.execute(q.limit(per_page).offset((page - 1) * per_page)).unique().all()
    villages = list(reg.villages.values())
    return render_template(
        "audits/due.html",
        rows=rows,
        total=total,
        page=page,
        last_page=last_page,
        kecamatan=kecamatan,
        desa=desa,
        kecamatan_list=list(reg.kecamatan.values()),
        villages=villages,
        today=today(),
        interval=settings_for_request().audit_interval_months,
        progress=campaign_progress(),
    )


# ---------------------------------------------------------------- recording


def _audit_or_404(audit_id: int) -> Audit:
    return db.session.get(Audit, audit_id) or abort(404)


@bp.route("/baru/<int:coop_id>", methods=["POST"])
@role_required(*RECORDERS)
def new(coop_id: int):
    coop = db.session.get(Cooperative, coop_id) or abort(404)
    try:
        audit = operations.start_audit(coop, current_user, today=today())
    except PermissionDenied:
        db.session.rollback()
        abort(403)
    db.session.commit()
    return redirect(url_for("audits.edit", audit_id=audit.id))


def _form(audit: Audit | None = None, **kw: Any) -> AuditForm:
    form = AuditForm(**kw)
    form.today = today()
    return form


def _locked_response(audit: Audit):
    flash(
        _(
            "This audit was submitted and can no longer be changed. Record a new audit "
            "or add an amendment with a reason."
        ),
        "warning",
    )
    return redirect(url_for("audits.show", audit_id=audit.id))


UPLOAD_FIELDS = ("photos", "documents")


def _field_errors(form: AuditForm, errors: dict[str, str], uploaded: tuple[str, ...] = ()) -> None:
    """Show each message once, at its field. A field that did not parse already shows its own
    message; "files" (the upload as a whole) goes to the first upload field that received files."""
    for name, message in errors.items():
        if name == "files":
            target = form[uploaded[0] if uploaded else "photos"]
        else:
            target = form._fields.get(name) or form.findings
        shown = [str(e) for e in target.errors or []]
        if str(message) not in shown:
            target.errors = [*shown, str(message)]


def _incoming_files() -> list[tuple[str, str, bytes, int]]:
    """(form field, client file name, bytes, real size) of each file sent."""
    out = []
    for field in UPLOAD_FIELDS:
        for storage in request.files.getlist(field):
            if storage is None or (not storage.filename and not storage.content_length):
                continue
            try:
                data, size = uploads.read_upload(storage.stream)
            finally:
                storage.close()
            if not storage.filename and not data:
                continue
            out.append((field, storage.filename or "", data, size))
    return out


@bp.route("/<int:audit_id>/ubah", methods=["GET", "POST"])
@role_required(*RECORDERS)
def edit(audit_id: int):
    audit = _audit_or_404(audit_id)
    if audit.state != "draft":
        if request.method == "POST":
            return _locked_response(audit), 409
        return _locked_response(audit)
    form = _form()
    if request.method == "GET":
        fill_form(form, audit)
        return _render_form(form, audit)

    action = request.form.get("action", "save")
    values, errors = parse_fields(form)
    # Check every file in memory first: one bad file refuses the whole post, nothing is stored.
    # Each refusal is shown at the field that received the file.
    incoming = _incoming_files()
    uploaded = tuple(f for f in UPLOAD_FIELDS if any(field == f for field, *_rest in incoming))
    refused: dict[str, list[str]] = {}
    prepared: list[uploads.Prepared] = []
    for field, name, data, size in incoming:
        try:
            prepared.append(uploads.prepare(data, name, size=size))
        except uploads.UploadRefused as e:
            refused.setdefault(field, []).append(e.message)
    if refused:
        for field, messages in refused.items():
            form[field].errors = messages
        flash(_("Nothing was saved: a file was refused (see below)."), "danger")
        return _render_form(form, audit), 400

    written: list[Path] = []
    try:
        errors.update(operations.save_draft(audit, values, current_user))
        if prepared:
            _rows, written = operations.add_files(
                audit, prepared, current_user, current_app.config["UPLOAD_DIR"]
            )
        if action == "submit":
            result = operations.submit_audit(
                audit, current_user, today=today(), field_errors=errors
            )
        db.session.commit()
    except operations.AuditInvalid as e:
        db.session.rollback()
        uploads.remove(written)
        if action == "submit":
            flash(_("Not submitted: please complete the fields marked in red."), "danger")
        else:
            flash(_("Nothing was saved: please correct the fields marked in red."), "danger")
        _field_errors(form, e.errors, uploaded)
        return _render_form(form, _audit_or_404(audit_id)), 400
    except operations.AuditLocked:
        db.session.rollback()
        uploads.remove(written)
        return _locked_response(audit), 409
    except PermissionDenied:
        db.session.rollback()
        uploads.remove(written)
        abort(403)
    except OSError:
        # Disk full or unwritable upload folder: refuse the post, keep nothing of it.
        db.session.rollback()
        uploads.remove(written)
        log.exception("storing an audit upload failed")
        message = _(
            "The files could not be stored on the server (the disk may be full). "
            "Nothing was saved; please tell the administrator."
        )
        _field_errors(form, {"files": message}, uploaded)
        flash(_("Nothing was saved: the server could not store the files."), "danger")
        return _render_form(form, _audit_or_404(audit_id)), 507
    except Exception:
        db.session.rollback()
        uploads.remove(written)
        raise

    if action == "submit":
        flash(
            _(
                "Audit submitted. Verdict: %(verdict)s.",
                verdict=verdict_line(result.verdict.label, result.verdict.summary),
            ),
            "success",
        )
        if result.dormancy_event is not None:
            flash(_("The cooperative is now recorded as dormant."), "warning")
        if result.proposal is not None:
            flash(_("A reactivation was proposed to the head of office for sign-off."), "info")
        for note in result.notes:
            flash(note, "info")
        return redirect(url_for("registry.detail", coop_id=audit.cooperative_id))
    if errors:
        flash(_("Saved, except the fields marked in red."), "warning")
        _field_errors(form, errors)
        return _render_form(form, audit), 400
    if prepared:
        flash(_("%(n)d file(s) added.", n=len(prepared)), "success")
    else:
        flash(_("Draft saved."), "success")
    return redirect(url_for("audits.edit", audit_id=audit.id))


def _render_form(form: AuditForm, audit: Audit):
    coop = audit.cooperative
    return render_template(
        "audits/form.html",
        form=form,
        audit=audit,
        coop=coop,
        rat_rows=range(RAT_ROWS),
        tri_fields=TRI_FIELDS,
        max_photo_mb=uploads.PHOTO_MAX_BYTES // (1024 * 1024),
        max_pdf_mb=uploads.PDF_MAX_BYTES // (1024 * 1024),
    )


@bp.route("/<int:audit_id>/draf", methods=["POST"])
@role_required(*RECORDERS)
def autosave(audit_id: int):
    """JSON autosave: the page posts its fields (not files) every few seconds and on change."""
    audit = _audit_or_404(audit_id)
    if audit.state != "draft":
        return jsonify(
            ok=False,
            locked=True,
            message=_("This audit was submitted and can no longer be changed."),
        ), 409
    form = _form(meta={"csrf": False})  # the CSRF token is checked globally (X-CSRFToken)
    values, errors = parse_fields(form)
    try:
        errors.update(operations.save_draft(audit, values, current_user))
        db.session.commit()
    except PermissionDenied:
        db.session.rollback()
        abort(403)
    return jsonify(
        ok=True,
        saved=sorted(k for k in values if k not in errors),
        errors={k: str(v) for k, v in errors.items()},
        saved_at=audit.saved_at.isoformat(),
    )


@bp.route("/berkas/<int:file_id>/hapus", methods=["POST"])
@role_required(*RECORDERS)
def delete_file(file_id: int):
    f = db.session.get(AuditFile, file_id) or abort(404)
    audit_id = f.audit_id
    try:
        paths = operations.delete_file(f, current_user, current_app.config["UPLOAD_DIR"])
        db.session.commit()
    except operations.AuditLocked:
        db.session.rollback()
        return _locked_response(_audit_or_404(audit_id)), 409
    uploads.remove(paths)
    flash(_("File removed."), "success")
    return redirect(url_for("audits.edit", audit_id=audit_id))


@bp.route("/<int:audit_id>/buang", methods=["POST"])
@role_required(*RECORDERS)
def discard(audit_id: int):
    audit = _audit_or_404(audit_id)
    coop_id = audit.cooperative_id
    try:
        paths = operations.discard_draft(audit, current_user, current_app.config["UPLOAD_DIR"])
        db.session.commit()
    except operations.AuditLocked:
        db.session.rollback()
        return _locked_response(audit), 409
    uploads.remove(paths)
    flash(_("Draft discarded."), "success")
    return redirect(url_for("registry.detail", coop_id=coop_id))


# ---------------------------------------------------------------- reading


@bp.route("/<int:audit_id>")
@role_required(*ALL_ROLES)
def show(audit_id: int):
    audit = _audit_or_404(audit_id)
    if audit.state == "draft" and operations.can_record(current_user):
        return redirect(url_for("audits.edit", audit_id=audit.id))
    if audit.state == "draft":
        abort(404)
    return render_template(
        "audits/show.html",
        audit=audit,
        coop=audit.cooperative,
        amend_form=AmendmentForm(),
        can_record=operations.can_record(current_user),
        health_labels=rules.HEALTH_LABELS,
    )


@bp.route("/<int:audit_id>/amandemen", methods=["POST"])
@role_required(*RECORDERS)
def amend(audit_id: int):
    audit = _audit_or_404(audit_id)
    form = AmendmentForm()
    if form.validate_on_submit():
        try:
            operations.amend_audit(
                audit, current_user, reason=form.reason.data or "", note=form.note.data or ""
            )
            db.session.commit()
            flash(_("Amendment recorded."), "success")
            return redirect(url_for("audits.show", audit_id=audit.id))
        except operations.AuditInvalid as e:
            db.session.rollback()
            for name, message in e.errors.items():
                getattr(form, name).errors = [message]
    flash(_("Amendment not recorded: please correct the fields marked in red."), "danger")
    return render_template(
        "audits/show.html",
        audit=audit,
        coop=audit.cooperative,
        amend_form=form,
        can_record=True,
        health_labels=rules.HEALTH_LABELS,
    ), 400


@bp.route("/berkas/<int:file_id>")
@role_required(*ALL_ROLES)
def file(file_id: int):
    """Evidence files, to logged-in users only; paths come from the database, never the URL."""
    return _send(file_id, thumbnail=False)


@bp.route("/berkas/<int:file_id>/kecil")
@role_required(*ALL_ROLES)
def thumb(file_id: int):
    return _send(file_id, thumbnail=True)


def _send(file_id: int, *, thumbnail: bool):
    f = db.session.get(AuditFile, file_id) or abort(404)
    if f.audit.state == "draft" and not operations.can_record(current_user):
        abort(404)
    name = f.thumb_name if thumbnail else f.stored_name
    if not name:
        abort(404)
    try:
        path = uploads.path_of(current_app.config["UPLOAD_DIR"], name)
    except FileNotFoundError:
        abort(404)
    if not path.is_file():
        abort(404)
    resp = send_file(
        path,
        mimetype="image/jpeg" if thumbnail else f.mime,
        download_name=f.display_name,
        as_attachment=request.args.get("unduh") == "1",
        max_age=0,
        etag=f.sha256,
    )
    resp.headers["Cache-Control"] = "private, no-store"
    resp.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return resp


@bp.route("/<int:audit_id>/berita-acara.pdf")
@role_required(*ALL_ROLES)  # whoever may read the audit page may read its berita acara
def report_pdf(audit_id: int):
    from .report import render_report

    audit = _audit_or_404(audit_id)
    if audit.state != "submitted":
        abort(404)
    pdf = render_report(audit, current_app.config["UPLOAD_DIR"])
    resp = current_app.response_class(pdf, mimetype="application/pdf")
    resp.headers["Content-Disposition"] = f'inline; filename="berita-acara-audit-{audit.id}.pdf"'
    return resp
