"""Letter pages: the outgoing-letter register, a letter, receipt, voiding, batch printing,
the upward proposal, the letter settings and the public verification page."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import func, select
from sqlalchemy.orm import defer

from ..extensions import db
from ..geo import regions
from ..models import Cooperative
from ..models.letters import BatchJob, Letter
from ..permissions import ADMIN, CLERK, HEAD, INSPECTOR, PermissionDenied, public, role_required
from ..timeutil import local_today
from ..webforms import refusal_message
from . import jobs
from . import operations as ops
from .forms import (
    BatchForm,
    LetterSettingsForm,
    LogoForm,
    ProposalForm,
    ReceiptCorrectionForm,
    ReceiptForm,
    ReissueForm,
    ShortCodeForm,
    VoidForm,
    lines_of,
)
from .labels import KIND_LABELS, METHOD_LABELS

bp = Blueprint("letters", __name__, url_prefix="/surat")
verify_bp = Blueprint("verify", __name__)

READERS = (ADMIN, HEAD, CLERK, INSPECTOR)
CLERKS = ops.CLERKS


def _letter(letter_id: int) -> Letter:
    return db.session.get(Letter, letter_id) or abort(404)


def _flash_error(e: Exception, form=None) -> None:
    db.session.rollback()
    message = getattr(e, "message", str(e))
    field = getattr(e, "field", None)
    if form is not None and field and hasattr(form, field):
        target = getattr(form, field)
        target.errors = [*target.errors, message]
        flash(
            _("Nothing was saved: %(field)s: %(msg)s", field=target.label.text, msg=message),
            "danger",
        )
    else:
        flash(_("Nothing was saved: %(msg)s", msg=message), "danger")


def _pdf_response(data: bytes, filename: str, sha256: str | None = None) -> Response:
    safe = re.sub(r"[^A-Za-z0-9._-]+", "-", filename).strip("-") or "surat"
    resp = Response(data, mimetype="application/pdf")
    resp.headers["Content-Disposition"] = f'inline; filename="{safe}.pdf"'
    if sha256:
        resp.headers["ETag"] = f'"{sha256}"'
    return resp


# --- register -----------------------------------------------------------------------------


@bp.route("/")
@role_required(*READERS)
def index():
    flt = ops.LetterFilter.from_args(request.args)
    page = max(1, request.args.get("page", 1, type=int) or 1)
    per_page = current_app.config["PAGE_SIZE"]
    total = db.session.execute(
        flt.select().with_only_columns(func.count(Letter.id)).order_by(None)
    ).scalar_one()
    last_page = max(1, -(-total // per_page))
    page = min(page, last_page)
    # The list shows no snapshot (settings and data as printed, a few KB of JSON a letter).
    rows = db.session.execute(
        flt.select().options(defer(Letter.snapshot)).limit(per_page).offset((page - 1) * per_page)
    )
    return render_template(
        "letters/web/index.html",
        flt=flt,
        rows=rows.scalars().all(),
        total=total,
        page=page,
        last_page=last_page,
        kinds=KIND_LABELS,
        kecamatan=list(regions().kecamatan.values()),
    )


@bp.route("/agenda.xlsx")
@role_required(*READERS)
def export():
    flt = ops.LetterFilter.from_args(request.args)
    data = ops.register_xlsx(db.session.execute(flt.select()).scalars())
    return Response(
        data,
        mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        headers={"Content-Disposition": 'attachment; filename="agenda-surat-keluar.xlsx"'},
    )


@bp.route("/<int:letter_id>")
@role_required(*READERS)
def detail(letter_id: int):
    return _detail_page(_letter(letter_id), ReceiptForm())


def _detail_page(
    letter: Letter,
    receipt_form: ReceiptForm,
    receipt_back: str = "",
    status: int = 200,
    correction_form: ReceiptCorrectionForm | None = None,
) -> tuple[str, int]:
    """A letter's page; `receipt_form` is empty, or a refused one keeping what was typed (the
    same for `correction_form`, the correction of a recorded receipt)."""
    closed = ops.correction_closed(letter) if letter.clock_start is not None else None
    page = render_template(
        "letters/web/detail.html",
        letter=letter,
        kinds=KIND_LABELS,
        methods=METHOD_LABELS,
        void_form=VoidForm(formdata=None),
        receipt_form=receipt_form,
        receipt_back=receipt_back,
        correction_form=correction_form or ReceiptCorrectionForm.of(letter, local_today()),
        correction_open=correction_form is not None,
        correction_closed=closed,
        reissue=_reissue_state(letter),
        reissue_form=ReissueForm(formdata=None),
        verify_link=url_for("verify.page", token=letter.token),
    )
    return page, status


def _reissue_state(letter: Letter) -> dict[str, Any] | None:
    """For a voided letter the head may issue again: the letter that replaced it once he did,
    else why he cannot (None: he can)."""
    if not letter.is_void or letter.kind not in ops.REISSUABLE or letter.cooperative_id is None:
        return None
    return {"replaced_by": ops.replacement_of(letter), "closed": ops.reissue_closed(letter)}


@bp.route("/<int:letter_id>/pdf")
@role_required(*READERS)
def download(letter_id: int):
    letter = _letter(letter_id)
    # Exactly the stored bytes: an issued letter is never rendered again.
    return _pdf_response(letter.pdf, letter.number, letter.sha256)


@bp.route("/<int:letter_id>/batal", methods=["POST"])
@role_required(*CLERKS)
def void(letter_id: int):
    letter = _letter(letter_id)
    form = VoidForm()
    if not form.validate_on_submit():
        flash(_("Nothing was saved: give the reason for voiding."), "danger")
        return redirect(url_for("letters.detail", letter_id=letter_id))
    try:
        ops.void_letter(letter, current_user, form.reason.data)
    except (ops.LetterError, PermissionDenied) as e:
        _flash_error(e)
    else:
        db.session.commit()
        flash(_("Letter %(number)s is now void.", number=letter.number), "success")
    return redirect(url_for("letters.detail", letter_id=letter_id))


@bp.route("/<int:letter_id>/tanda-terima", methods=["POST"])
@role_required(*CLERKS)
def receipt(letter_id: int):
    letter = _letter(letter_id)
    form = ReceiptForm(letter=letter, today=local_today())
    back = request.form.get("back") == "coop" and letter.cooperative_id
    closed = ops.receipt_closed(letter)  # the letter's state first: no field fixes that
    if closed is not None:
        return _receipt_refused(letter, form, ops.LetterError(closed))
    if not form.validate_on_submit():
        return _receipt_refused(letter, form)
    try:
        ops.record_receipt(letter, current_user, **_receipt_fields(form))
    except (ops.LetterError, PermissionDenied) as e:
        db.session.rollback()
        return _receipt_refused(letter, form, e)
    db.session.commit()
    flash(_("Receipt recorded for %(number)s.", number=letter.number), "success")
    if back:
        return redirect(url_for("registry.detail", coop_id=letter.cooperative_id))
    return redirect(url_for("letters.detail", letter_id=letter_id))


def _receipt_fields(form: ReceiptForm) -> dict[str, Any]:
    return {
        "method": form.method.data,
        "today": form.today,
        "received_on": form.received_on.data,
        "receiver": form.receiver.data or "",
        "announced_on": form.announced_on.data,
        "scan": form.scan_bytes,
    }


def _say_refused(form: ReceiptForm, refusal: ops.LetterError | PermissionDenied | None) -> None:
    """The refusal at its field of `form` (or in a message when it has none)."""
    field = getattr(refusal, "field", None)
    if refusal is not None and not (field and field in form):
        flash(_("Nothing was saved: %(msg)s", msg=refusal.message), "danger")
    else:
        if refusal is not None:
            form[field].errors = [*form[field].errors, refusal.message]
        flash(_("Nothing was saved: please correct the fields marked in red."), "danger")


def _receipt_refused(
    letter: Letter, form: ReceiptForm, refusal: ops.LetterError | PermissionDenied | None = None
) -> tuple[str, int]:
    """The letter page again, the receipt form keeping what was typed and each error at its
    field; it answers the cooperative page's form too, whose `back` it keeps for the retry."""
    _say_refused(form, refusal)
    return _detail_page(
        letter,
        form,
        receipt_back="coop" if request.form.get("back") == "coop" else "",
        status=403 if isinstance(refusal, PermissionDenied) else 422,
    )


@bp.route("/<int:letter_id>/terbitkan-ulang", methods=["POST"])
@role_required(HEAD)
def reissue(letter_id: int):
    """The head issues a voided letter again, with a new number (see `ops.reissue_letter`)."""
    letter = _letter(letter_id)
    if not ReissueForm().validate_on_submit():
        flash(_("The form expired; please try again."), "danger")
        return redirect(url_for("letters.detail", letter_id=letter_id))
    try:
        new = ops.reissue_letter(letter, current_user, today=local_today())
    except (ops.LetterError, PermissionDenied) as e:
        db.session.rollback()
        flash(_("Nothing was issued: %(msg)s", msg=e.message), "danger")
        return redirect(url_for("letters.detail", letter_id=letter_id))
    db.session.commit()
    flash(
        _("Issued again as %(number)s, replacing %(old)s.", number=new.number, old=letter.number),
        "success",
    )
    return redirect(url_for("letters.detail", letter_id=new.id))


@bp.route("/<int:letter_id>/tanda-terima/koreksi", methods=["POST"])
@role_required(*CLERKS)
def receipt_correction(letter_id: int):
    """Correct a recorded receipt (a mistyped date, name or method), with a reason."""
    letter = _letter(letter_id)
    form = ReceiptCorrectionForm(letter=letter, today=local_today())
    closed = ops.correction_closed(letter)
    if closed is not None:
        flash(_("Nothing was saved: %(msg)s", msg=closed), "danger")
        return _detail_page(letter, ReceiptForm(), status=409)
    refusal: ops.LetterError | PermissionDenied | None = None
    if form.validate_on_submit():
        try:
            ops.correct_receipt(
                letter, current_user, reason=form.reason.data or "", **_receipt_fields(form)
            )
        except (ops.LetterError, PermissionDenied) as e:
            db.session.rollback()
            refusal = e
        else:
            db.session.commit()
            flash(_("Receipt corrected for %(number)s.", number=letter.number), "success")
            return redirect(url_for("letters.detail", letter_id=letter_id))
    _say_refused(form, refusal)
    status = 403 if isinstance(refusal, PermissionDenied) else 422
    return _detail_page(letter, ReceiptForm(), status=status, correction_form=form)


@bp.route("/<int:letter_id>/tanda-terima/scan")
@role_required(*READERS)
def scan(letter_id: int):
    letter = _letter(letter_id)
    path = ops.scan_path(letter) or abort(404)
    mime = {".pdf": "application/pdf", ".png": "image/png", ".jpg": "image/jpeg"}
    return send_file(path, mimetype=mime.get(path.suffix, "application/octet-stream"))


# --- draft preview ------------------------------------------------------------------------


@bp.route("/pratinjau/<int:proposal_id>")
@role_required(ADMIN, HEAD, CLERK, INSPECTOR)
def preview(proposal_id: int):
    """The letter a pending proposal would issue, watermarked DRAF; takes no number."""
    model = db.Model.registry._class_registry.get("Proposal")
    if model is None:
        abort(404)
    proposal = db.session.get(model, proposal_id) or abort(404)
    if getattr(proposal, "state", "pending") != "pending":
        abort(404)
    kind = ops.TRIGGER_KINDS.get(getattr(proposal, "trigger", "")) or abort(404)
    signer = current_user if current_user.role == HEAD else None
    pdf = ops.preview_letter(
        kind, proposal.cooperative, signer=signer, today=local_today(), proposal=proposal
    )
    return _pdf_response(pdf, f"DRAF-{kind}")


# --- batch printing -----------------------------------------------------------------------


def _batch_form() -> BatchForm:
    form = BatchForm(request.form if request.method == "POST" else None)
    form.kind.choices = [("", _("All kinds")), *((k, v) for k, v in KIND_LABELS.items())]
    form.kecamatan.choices = [("", _("All kecamatan"))] + [
        (k.kode, k.nama) for k in regions().kecamatan.values()
    ]
    return form


@bp.route("/cetak", methods=["GET", "POST"])
@role_required(*CLERKS)
def batch():
    form = _batch_form()
    if request.method == "GET":
        form.kind.data = request.args.get("kind", "")
        form.kecamatan.data = request.args.get("kecamatan", "")
        form.unsent.data = request.args.get("unsent", "1") == "1"
    flt = ops.LetterFilter(
        kind=form.kind.data or "",
        kecamatan=form.kecamatan.data or "",
        unsent=bool(form.unsent.data),
    )
    if request.method == "POST":
        if not form.validate():
            flash(_("Nothing was started: please correct the fields marked in red."), "danger")
        elif request.form.get("action") != "count":  # "Count again" only recounts the selection
            try:
                job = ops.create_batch_job(flt, current_user, mark_sent=not form.copies.data)
            except (ops.LetterError, PermissionDenied) as e:
                _flash_error(e, form)
            else:
                db.session.commit()
                if not jobs.enqueue(job):
                    flash(
                        _(
                            "The print run is saved, but the job queue cannot be reached right "
                            "now; it starts by itself once the queue is back (the worker checks "
                            "every minute)."
                        ),
                        "warning",
                    )
                return redirect(url_for("letters.batch_job", job_id=job.id))
    count = len(ops.batch_letters(flt))
    recent = db.session.execute(select(BatchJob).order_by(BatchJob.id.desc()).limit(10)).scalars()
    return render_template(
        "letters/web/batch.html", form=form, count=count, recent=list(recent), kinds=KIND_LABELS
    )


def _job(job_id: int) -> BatchJob:
    return db.session.get(BatchJob, job_id) or abort(404)


@bp.route("/cetak/<int:job_id>")
@role_required(*CLERKS)
def batch_job(job_id: int):
    return render_template("letters/web/batch_job.html", job=_job(job_id))


@bp.route("/cetak/<int:job_id>/status")
@role_required(*CLERKS)
def batch_status(job_id: int):
    job = _job(job_id)
    db.session.refresh(job)  # the worker writes it from another session
    return jsonify(
        id=job.id,
        status=job.status,
        progress=job.progress,
        total=job.total,
        percent=job.percent,
        error=job.error,
        download=url_for("letters.batch_download", job_id=job.id) if job.status == "done" else None,
    )


@bp.route("/cetak/<int:job_id>/unduh")
@role_required(*CLERKS)
def batch_download(job_id: int):
    job = _job(job_id)
    if job.status != "done" or not job.result_path:
        abort(404)
    return send_file(
        job.result_path,
        mimetype="application/pdf",
        download_name=f"cetak-surat-{job.id}.pdf",
        as_attachment=False,
    )


# --- the upward proposal ------------------------------------------------------------------


@bp.route("/usulan", methods=["GET", "POST"])
@role_required(HEAD)
def proposal():
    form = ProposalForm()
    pairs = ops.revoked_for_proposal()
    if request.method == "GET":
        from .. import settings as office_settings

        form.addressee.data = "\n".join(office_settings.get("letters.proposal_addressee"))
    if form.validate_on_submit():
        chosen = [int(v) for v in request.form.getlist("coop_id") if v.isdigit()]
        try:
            letter = ops.issue_proposal(
                signer=current_user,
                today=local_today(),
                coop_ids=chosen,
                addressee_lines=lines_of(form.addressee.data),
                reason=(form.reason.data or "").strip(),
            )
        except (ops.LetterError, PermissionDenied) as e:
            _flash_error(e, form)
        else:
            db.session.commit()
            flash(_("Letter %(number)s was issued.", number=letter.number), "success")
            return redirect(url_for("letters.detail", letter_id=letter.id))
    return render_template("letters/web/proposal.html", form=form, pairs=pairs)


# --- settings -----------------------------------------------------------------------------


@bp.route("/pengaturan", methods=["GET", "POST"])
@role_required(ADMIN)
def settings_page():
    form = LetterSettingsForm()
    current = ops.current_settings()
    if request.method == "GET":
        form.fill(current)
    if form.validate_on_submit():
        try:
            changed = ops.save_settings(form.values(), current_user)
        except (ops.LetterError, PermissionDenied) as e:
            _flash_error(e, form)
        else:
            db.session.commit()
            if changed:
                flash(_("Saved: %(n)d setting(s) changed.", n=len(changed)), "success")
            else:
                flash(_("Nothing changed."), "info")
            return redirect(url_for("letters.settings_page"))
    elif request.method == "POST":
        flash(_("Nothing was saved: please correct the fields marked in red."), "danger")
    return render_template(
        "letters/web/settings.html", form=form, logo_form=LogoForm(), has_logo=bool(current["logo"])
    )


@bp.route("/pengaturan/logo", methods=["POST"])
@role_required(ADMIN)
def settings_logo():
    form = LogoForm()
    if not form.validate_on_submit():
        expired = _("Nothing was saved: the form expired, please try again.")
        flash(refusal_message(form, expired), "danger")
        return redirect(url_for("letters.settings_page"))
    upload = form.logo.data
    try:
        if form.remove.data:
            ops.save_logo(None, current_user)
        elif upload and upload.filename:
            ops.save_logo(upload.read(ops.LOGO_MAX_BYTES + 1), current_user)
        else:
            raise ops.LetterError(_("Choose a PNG or JPEG file."), "logo")
    except (ops.LetterError, PermissionDenied) as e:
        _flash_error(e)
    else:
        db.session.commit()
        flash(_("The logo was saved."), "success")
    return redirect(url_for("letters.settings_page"))


@bp.route("/pengaturan/contoh.pdf")
@role_required(ADMIN)
def settings_sample():
    """A DRAF letter with today's settings, to check the letterhead and signature."""
    coop = db.session.execute(select(Cooperative).limit(1)).scalar_one_or_none()
    if coop is None:
        flash(_("Add a cooperative to the register first."), "warning")
        return redirect(url_for("letters.settings_page"))
    pdf = ops.preview_letter(
        "warning",
        coop,
        signer=None,
        today=local_today(),
        extras={"grounds": [_("Example ground")]},
    )
    return _pdf_response(pdf, "DRAF-contoh")


# --- public verification ------------------------------------------------------------------


def _limit() -> None:
    limiter = current_app.extensions["letters.verify_limiter"]
    limiter.check(request.remote_addr or "-")


def _result(letter: Letter):
    return render_template(
        "letters/web/verify.html",
        letter=letter,
        kinds=KIND_LABELS,
        form=ShortCodeForm(formdata=None),
        coop_name=letter.cooperative.name if letter.cooperative else None,
        signer_name=(letter.snapshot or {}).get("settings", {}).get("signer_name")
        or letter.signer.full_name,
    )


@verify_bp.route("/verify/<token>")
@public
def page(token: str):
    _limit()
    letter = None
    if len(token) <= 64:
        letter = db.session.execute(
            select(Letter).where(Letter.token == token)
        ).scalar_one_or_none()
    if letter is None:
        # Said to whoever holds the paper: this address names no letter of the office.
        return render_template(
            "letters/web/verify.html",
            letter=None,
            not_found=True,
            form=ShortCodeForm(formdata=None),
            kinds=KIND_LABELS,
        ), 404
    return _result(letter)


@verify_bp.route("/verify")
@public
def lookup():
    _limit()
    form = ShortCodeForm(request.args)
    letter = None
    if request.args.get("code") is not None:
        code = ops.normalize_short_code(form.code.data or "")
        if code:
            letter = db.session.execute(
                select(Letter).where(Letter.short_code == code)
            ).scalar_one_or_none()
        if letter is None:
            form.code.errors = [_("No letter has this code. Check it and type it again.")]
        else:
            return _result(letter)
    return render_template("letters/web/verify.html", letter=None, form=form, kinds=KIND_LABELS)


def coop_letters(coop: Cooperative) -> list[Letter]:
    return list(
        db.session.execute(
            select(Letter)
            .where(Letter.cooperative_id == coop.id)
            .order_by(Letter.issued_on.desc(), Letter.id.desc())
        ).scalars()
    )


def today() -> date:
    return local_today()
