"""Import pages (upload -> preview -> confirm, rejected rows download) and register exports."""

from __future__ import annotations

import io
from typing import Any

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from ..extensions import db
from ..models.imports import ImportBatch
from ..permissions import ADMIN, ALL_ROLES, CLERK, PermissionDenied, role_required
from ..registry.query import RegisterFilter
from ..registry.reader import ReadError, read_table
from ..timeutil import local_today, utcnow
from . import exports, storage
from . import messages as row_messages
from .forms import ConfirmForm, UploadForm
from .operations import OUTCOMES, ImportResult, import_register

bp = Blueprint("imports", __name__)

IMPORTERS = (ADMIN, CLERK)
DEFAULT_MAX_BYTES = 50 * 1024 * 1024
PER_PAGE = 100


def max_bytes() -> int:
    return int(current_app.config.get("IMPORT_MAX_BYTES", DEFAULT_MAX_BYTES))


def _mb(n: int) -> str:
    return f"{n / (1024 * 1024):.0f}"


def _too_large_message() -> str:
    return _(
        "The file is larger than %(mb)s MB: split the register into smaller files and import "
        "them one after the other.",
        mb=_mb(max_bytes()),
    )


def _recent() -> list[ImportBatch]:
    return list(
        db.session.execute(select(ImportBatch).order_by(ImportBatch.id.desc()).limit(10)).scalars()
    )


def _upload_page(form: UploadForm, error: str | None = None, status: int = 200):
    return (
        render_template(
            "imports/upload.html",
            form=form,
            error=error,
            recent=_recent(),
            max_mb=_mb(max_bytes()),
        ),
        status,
    )


@bp.errorhandler(413)
def too_large(_e):
    # The request body is over the app's MAX_CONTENT_LENGTH: do not touch the form data again.
    db.session.rollback()
    return _upload_page(UploadForm(formdata=None), _too_large_message(), 413)


@bp.route("/impor/", methods=["GET", "POST"])
@role_required(*IMPORTERS)
def upload():
    form = UploadForm()
    if not form.is_submitted():
        return _upload_page(form)
    if not form.validate():
        errors = [e for f in form for e in f.errors]
        return _upload_page(form, " ".join(str(e) for e in errors), 400)
    storage_file = form.file.data
    filename = (storage_file.filename or "register").replace("\\", "/").rsplit("/", 1)[-1][:200]
    try:
        data = storage_file.stream.read(max_bytes() + 1)
    finally:
        storage_file.close()  # the spooled temporary file of a large upload
    if len(data) > max_bytes():
        return _upload_page(form, _too_large_message(), 413)
    try:
        table = read_table(data, filename)
        result = import_register(table, current_user, today=local_today(), write=False)
    except ReadError as e:
        db.session.rollback()
        return _upload_page(form, e.message, 400)
    except PermissionDenied:
        db.session.rollback()
        abort(403)
    token = storage.new_token()
    try:
        stored, digest = storage.save_upload(token, data, table.format)
        batch = ImportBatch(
            token=token,
            filename=filename or "register",
            stored_name=stored,
            size=len(data),
            sha256=digest,
            state="previewed",
            detected=result.detected,
            summary=result.counts_summary(),
            uploaded_by_id=current_user.id,
        )
        db.session.add(batch)
        db.session.flush()
        storage.write_json(batch, storage.PLAN, storage.result_payload(result))
        db.session.commit()
    except Exception:
        db.session.rollback()
        storage.remove(token)
        raise
    return redirect(url_for(".preview", token=token))


def _batch(token: str, *, lock: bool = False) -> ImportBatch:
    query = select(ImportBatch).where(ImportBatch.token == token)
    if lock:
        query = query.with_for_update()
    batch = db.session.execute(query).scalar_one_or_none()
    if batch is None:
        abort(404)
    return batch


@bp.route("/impor/<token>")
@role_required(*IMPORTERS)
def preview(token: str):
    batch = _batch(token)
    payload = storage.read_results(batch)
    results: list[dict[str, Any]] = payload.get("results", [])
    outcome = request.args.get("outcome", "")
    if outcome == "problems":
        shown = [r for r in results if r["outcome"] in ("rejected", "duplicate") or r["messages"]]
    elif outcome in OUTCOMES:
        shown = [r for r in results if r["outcome"] == outcome]
    else:
        outcome = ""
        shown = results
    page = max(request.args.get("page", 1, type=int) or 1, 1)
    last_page = max((len(shown) + PER_PAGE - 1) // PER_PAGE, 1)
    page = min(page, last_page)
    return render_template(
        "imports/preview.html",
        batch=batch,
        summary=payload.get("summary") or batch.summary or {},
        rows=shown[(page - 1) * PER_PAGE : page * PER_PAGE],
        shown_count=len(shown),
        page=page,
        last_page=last_page,
        outcome=outcome,
        outcomes=OUTCOMES,
        form=ConfirmForm(),
        columns=(batch.detected or {}).get("columns") or {},
        show_message=row_messages.display,
    )


@bp.route("/impor/<token>/terapkan", methods=["POST"])
@role_required(*IMPORTERS)
def apply(token: str):
    form = ConfirmForm()
    if not form.validate_on_submit():
        flash(_("The form expired; please confirm again."), "warning")
        return redirect(url_for(".preview", token=token))
    batch = _batch(token, lock=True)
    if batch.state == "applied":
        db.session.rollback()
        flash(_("This file has already been imported."), "info")
        return redirect(url_for(".preview", token=token))
    try:
        table = read_table(storage.read_upload(batch), batch.filename)
        result = import_register(
            table,
            current_user,
            today=local_today(),
            write=True,
            strict=bool(form.strict.data),
            batch=batch.token,
        )
    except (ReadError, OSError) as e:
        db.session.rollback()
        flash(getattr(e, "message", None) or _("The stored file could not be read."), "danger")
        return redirect(url_for(".preview", token=token))
    except PermissionDenied:
        db.session.rollback()
        abort(403)
    if result.blocked:
        db.session.rollback()
        flash(
            _(
                "Nothing was imported: %(n)s rows were rejected and you chose strict. Fix the "
                "rejected rows (download them below) or import without strict.",
                n=result.rejected,
            ),
            "danger",
        )
        return redirect(url_for(".preview", token=token, outcome="rejected"))
    batch.state = "applied"
    batch.strict = bool(form.strict.data)
    batch.summary = result.counts_summary()
    batch.applied_by_id = current_user.id
    batch.applied_at = utcnow()
    db.session.commit()
    _write_result(batch, result)
    c = result.counts
    flash(
        _(
            "Imported: %(created)s new, %(updated)s updated, %(unchanged)s unchanged, "
            "%(rejected)s rejected, %(duplicate)s duplicates.",
            **c,
        ),
        "success" if not c["rejected"] else "warning",
    )
    return redirect(url_for(".preview", token=token))


def _write_result(batch: ImportBatch, result: ImportResult) -> None:
    try:
        storage.write_json(batch, storage.RESULT, storage.result_payload(result))
    except OSError:  # the database holds the counts; the row list is a convenience
        current_app.logger.exception("could not store the import result of %s", batch.token)


@bp.route("/impor/<token>/ditolak.xlsx")
@role_required(*IMPORTERS)
def rejected(token: str):
    batch = _batch(token)
    payload = storage.read_results(batch)
    columns = (batch.detected or {}).get("columns") or {}
    messages = {
        r["row"]: "; ".join(row_messages.as_line(m, columns) for m in r["messages"])
        for r in payload.get("results", [])
        if r["outcome"] == "rejected"
    }
    try:
        table = read_table(storage.read_upload(batch), batch.filename)
        fh = io.BytesIO()
        exports.write_rejected_xlsx(table, messages, fh)
    except (ReadError, OSError):
        flash(_("The stored file could not be read."), "danger")
        return redirect(url_for(".preview", token=token))
    fh.seek(0)
    stem = batch.filename.rsplit(".", 1)[0] or "register"
    return send_file(
        fh,
        mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        as_attachment=True,
        download_name=f"{stem}-ditolak.xlsx",
    )


def _export(ext: str):
    flt = RegisterFilter.from_args(request.args)
    fh = io.BytesIO()
    if ext == "xlsx":
        exports.write_xlsx(flt, fh)
        mimetype = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    else:
        exports.write_csv(flt, fh)
        mimetype = "text/csv"  # Werkzeug adds "; charset=utf-8" to text types
    fh.seek(0)
    return send_file(
        fh,
        mimetype=mimetype,
        as_attachment=True,
        download_name=exports.export_filename(flt, ext, local_today()),
    )


@bp.route("/ekspor/register.xlsx")
@role_required(*ALL_ROLES)
def export_xlsx():
    return _export("xlsx")


@bp.route("/ekspor/register.csv")
@role_required(*ALL_ROLES)
def export_csv():
    return _export("csv")
