"""Sanction workflow pages: sign-off queue, proposals, objections, deadlines, diagram, settings.

Thin: parse a form, call one operation, commit once, redirect. Refusals (role, four-eyes,
guards, races) roll back and are shown as a message; nothing half-done is ever committed.
"""

from __future__ import annotations

from datetime import date

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user
from markupsafe import Markup
from sqlalchemy import select
from sqlalchemy.orm import load_only

from .. import MAX_ID, settings, workflow
from ..extensions import db
from ..models import Cooperative
from ..models.letters import Letter
from ..models.workflow import Objection, Proposal, SignJob
from ..permissions import ADMIN, ALL_ROLES, CLERK, HEAD, INSPECTOR, PermissionDenied, role_required
from ..timeutil import local_today, utcnow
from ..webforms import refusal_message
from . import deadlines as dl
from . import diagram
from . import operations as ops
from .forms import (
    BulkSignForm,
    DecideForm,
    ObjectionDecisionForm,
    ObjectionForm,
    ProposeForm,
    WithdrawForm,
    WorkflowSettingsForm,
)

bp = Blueprint("workflow", __name__, url_prefix="/alur")

# A running bulk sign-off that has not reported for this long is shown as possibly stalled.
STALLED_SECONDS = 30

REFUSALS = (PermissionDenied, ops.WorkflowError, workflow.IllegalMove)


def today() -> date:
    """Asia/Jakarta today; tests (TESTING only) may pass ?today=YYYY-MM-DD."""
    if current_app.testing:
        raw = request.values.get("today") if request else None
        if raw:
            try:
                return date.fromisoformat(raw)
            except ValueError:
                abort(400)
    return local_today()


def today_args() -> dict[str, str]:
    """Carry a test's ?today= into the forms of a page (TESTING only)."""
    if current_app.testing and request.values.get("today"):
        return {"today": today().isoformat()}
    return {}


def _message(err: Exception) -> str:
    return str(getattr(err, "message", err))


def _refused(err: Exception) -> None:
    db.session.rollback()
    flash(_message(err), "danger")


def _evidence_lines(text: str | None) -> list[dict]:
    return [
        {"type": "note", "id": None, "label": line.strip()}
        for line in (text or "").splitlines()
        if line.strip()
    ]


def _safe_next(default: str) -> str:
    # The shared check: "/\\evil.example" is a protocol-relative URL to browsers.
    from ..auth.views import safe_next

    return safe_next(request.form.get("next")) or default


# ---------------------------------------------------------------- sign-off queue


@bp.route("/persetujuan")
@role_required(ADMIN, HEAD, INSPECTOR, CLERK)
def queue():
    q = select(Proposal).where(Proposal.state == "pending").order_by(Proposal.proposed_at)
    if current_user.role in (INSPECTOR, CLERK):
        q = q.where(Proposal.proposed_by_id == current_user.id)
    pending = list(db.session.execute(q).unique().scalars())
    # Latest decision first: by the decision's date (what the page shows; a decision may be
    # entered later for an earlier day), then by when it was recorded, then by id.
    recent_q = (
        select(Proposal)
        .where(Proposal.state != "pending")
        .order_by(
            Proposal.decided_on.desc().nulls_last(),
            Proposal.decided_at.desc().nulls_last(),
            Proposal.id.desc(),
        )
        .limit(20)
    )
    if current_user.role in (INSPECTOR, CLERK):
        recent_q = recent_q.where(Proposal.proposed_by_id == current_user.id)
    recent = list(db.session.execute(recent_q).unique().scalars())
    sign_jobs = []
    if current_user.role in (HEAD, ADMIN):  # a head sees his own, an admin everyone's
        jobs_q = select(SignJob).order_by(SignJob.id.desc()).limit(5)
        if current_user.role == HEAD:
            jobs_q = jobs_q.where(SignJob.created_by_id == current_user.id)
        sign_jobs = list(db.session.execute(jobs_q).scalars())
    return render_template(
        "sanctions/queue.html",
        pending=pending,
        recent=recent,
        sign_jobs=sign_jobs,
        form=BulkSignForm(),
        decide=DecideForm(),
        move_for=workflow.move_for,
        today=today(),
    )


def _proposal(proposal_id: int) -> Proposal:
    proposal = db.session.get(Proposal, proposal_id)
    if proposal is None:
        abort(404)
    return proposal


@bp.route("/usulan/<int:proposal_id>/tandatangani", methods=["POST"])
@role_required(HEAD)
def sign(proposal_id: int):
    proposal = _proposal(proposal_id)
    if not BulkSignForm().validate_on_submit():
        flash(_("The form expired; please try again."), "danger")
        return redirect(url_for("workflow.queue"), 303)
    try:
        ops.sign(proposal, current_user, today=today())
    except REFUSALS as err:
        _refused(err)
        return redirect(_safe_next(url_for("workflow.queue")), 303)
    name = proposal.cooperative.name
    db.session.commit()
    flash(_("Signed: %(coop)s.", coop=name), "success")
    return redirect(_safe_next(url_for("workflow.queue")), 303)


@bp.route("/usulan/<int:proposal_id>/tolak", methods=["POST"])
@role_required(HEAD)
def refuse(proposal_id: int):
    proposal = _proposal(proposal_id)
    form = DecideForm()
    if not form.validate_on_submit():
        flash(refusal_message(form, _("The form expired; please try again.")), "danger")
        return redirect(url_for("workflow.queue"), 303)
    try:
        ops.refuse(proposal, current_user, reason=form.reason.data or "", today=today())
    except REFUSALS as err:
        _refused(err)
        return redirect(_safe_next(url_for("workflow.queue")), 303)
    db.session.commit()
    flash(_("Refused: %(coop)s.", coop=proposal.cooperative.name), "success")
    return redirect(_safe_next(url_for("workflow.queue")), 303)


@bp.route("/usulan/<int:proposal_id>/tarik", methods=["POST"])
@role_required(ADMIN, INSPECTOR, CLERK)
def withdraw(proposal_id: int):
    proposal = _proposal(proposal_id)
    form = WithdrawForm()
    if not form.validate_on_submit():
        flash(refusal_message(form, _("The form expired; please try again.")), "danger")
        return redirect(url_for("workflow.queue"), 303)
    try:
        ops.withdraw(proposal, current_user, reason=form.reason.data or "", today=today())
    except REFUSALS as err:
        _refused(err)
        return redirect(url_for("workflow.queue"), 303)
    db.session.commit()
    flash(_("Proposal withdrawn."), "success")
    return redirect(url_for("workflow.queue"), 303)


@bp.route("/persetujuan/massal", methods=["POST"])
@role_required(HEAD)
def bulk_sign():
    """The ticked proposals are signed by a job on the queue; its page shows the progress."""
    if not BulkSignForm().validate_on_submit():
        flash(_("The form expired; please try again."), "danger")
        return redirect(url_for("workflow.queue"), 303)
    raw_ids = request.form.getlist("proposal_id")
    bad = [raw for raw in raw_ids if not _is_id(raw)]
    if bad:
        flash(
            _(
                "Not a proposal number: %(values)s. Nothing was signed.",
                values=", ".join(repr(raw[:20]) for raw in bad[:5]),
            ),
            "danger",
        )
        return redirect(url_for("workflow.queue"), 303)
    ids = [int(raw) for raw in raw_ids]
    if not ids:
        flash(_("Tick at least one proposal to sign."), "warning")
        return redirect(url_for("workflow.queue"), 303)
    from ..letters import jobs

    job = jobs.create_sign_job(ids, current_user, today(), locale=str(get_locale()))
    db.session.commit()
    _hand_over(job)
    return redirect(url_for("workflow.sign_job", job_id=job.id, **today_args()), 303)


def _hand_over(job: SignJob) -> None:
    from ..letters import jobs

    if not jobs.enqueue(job):
        flash(
            _(
                "The bulk sign-off is saved, but the job queue cannot be reached right now; "
                "it starts by itself once the queue is back (the worker checks every minute)."
            ),
            "warning",
        )


def _is_id(raw: str) -> bool:
    # isdigit() alone lets "²" and Arabic-Indic digits through; an id fits the id column.
    return raw.isascii() and raw.isdigit() and 0 < int(raw) <= MAX_ID


def _sign_job(job_id: int) -> SignJob:
    job = db.session.get(SignJob, job_id)
    if job is None or (current_user.role != ADMIN and job.created_by_id != current_user.id):
        abort(404)
    return job


@bp.route("/persetujuan/massal/<int:job_id>")
@role_required(HEAD, ADMIN)
def sign_job(job_id: int):
    job = _sign_job(job_id)
    signed = [o for o in job.outcomes if o["ok"]]
    # The letters this job issued, by proposal (a proposal issues at most one).
    letters = {
        letter.proposal_id: letter
        for letter in db.session.execute(
            select(Letter)
            .options(load_only(Letter.id, Letter.number, Letter.proposal_id))
            .where(Letter.proposal_id.in_([o["proposal_id"] for o in signed]))
            .order_by(Letter.id)  # a letter issued again (after voiding) wins
        ).scalars()
    }
    return render_template(
        "sanctions/sign_job.html",
        job=job,
        form=BulkSignForm(),
        signed=signed,
        letters=letters,
        already=[o for o in job.outcomes if not o["ok"] and o.get("already_signed")],
        refused=[o for o in job.outcomes if not o["ok"] and not o.get("already_signed")],
    )


@bp.route("/persetujuan/massal/<int:job_id>/ulangi", methods=["POST"])
@role_required(HEAD)
def sign_job_retry(job_id: int):
    """A failed job is queued again; it signs only the proposals it has not reported on, with
    the day of this request as the decision date."""
    from ..letters import jobs

    job = _sign_job(job_id)
    if not BulkSignForm().validate_on_submit():
        flash(_("The form expired; please try again."), "danger")
    elif job.status != "failed":
        flash(_("Only a stopped bulk sign-off can be tried again."), "warning")
    else:
        jobs.retry_sign_job(job, today())
        db.session.commit()
        _hand_over(job)
    return redirect(url_for("workflow.sign_job", job_id=job.id, **today_args()), 303)


@bp.route("/persetujuan/massal/<int:job_id>/status")
@role_required(HEAD, ADMIN)
def sign_job_status(job_id: int):
    job = _sign_job(job_id)
    db.session.refresh(job)  # the worker writes it from another session
    return jsonify(
        id=job.id,
        status=job.status,
        progress=job.progress,
        total=job.total,
        percent=job.percent,
        signed=job.signed,
        error=job.error,
        # Not taken, or no progress reported, for a while: the worker may have stopped (the
        # worker's recover_stale_jobs hands the job on once it runs again).
        stalled=job.status in ("queued", "running")
        and job.heartbeat_at is not None
        and (utcnow() - job.heartbeat_at).total_seconds() > STALLED_SECONDS,
    )


# ---------------------------------------------------------------- proposing


def _coop(coop_id: int) -> Cooperative:
    coop = db.session.get(Cooperative, coop_id)
    if coop is None:
        abort(404)
    return coop


@bp.route("/koperasi/<int:coop_id>/usul/<trigger>", methods=["GET", "POST"])
@role_required(ADMIN, INSPECTOR, CLERK, HEAD)
def propose(coop_id: int, trigger: str):
    coop = _coop(coop_id)
    if trigger not in workflow.TRIGGERS:
        abort(404)
    if request.method == "GET" and not workflow.can_propose(current_user.role, trigger):
        abort(403)  # the form would only be refused when sent (the operation checks again)
    move = workflow.move_for(trigger)
    form = ProposeForm()
    if request.method == "GET" and not form.legal_ground.data:
        form.legal_ground.data = move.legal_ground
    the_day = today()
    clock = ops.warning_clock(coop, the_day)
    if form.validate_on_submit():
        evidence = _evidence_lines(form.evidence.data)
        try:
            if trigger == "record_dormancy":
                ops.record_dormancy(
                    coop,
                    current_user,
                    reason=form.reason.data,
                    legal_ground=form.legal_ground.data,
                    evidence=evidence,
                    today=the_day,
                )
                done = _("Dormancy recorded.")
            else:
                ops.propose(
                    coop,
                    trigger,
                    current_user,
                    reason=form.reason.data,
                    legal_ground=form.legal_ground.data,
                    evidence=evidence,
                    document=form.document.data or None,
                    today=the_day,
                )
                done = (
                    _("Proposal sent to the head for sign-off.")
                    if move.needs_signoff
                    else _("Done: %(move)s.", move=move.label)
                )
        except REFUSALS as err:
            db.session.rollback()
            field = getattr(err, "field", None) or getattr(err, "guard", None)
            target = getattr(form, field, None) if isinstance(field, str) else None
            if target is not None and hasattr(target, "errors"):
                target.errors = [*target.errors, _message(err)]
            flash(_message(err), "danger")
            return render_template(
                "sanctions/propose.html",
                coop=coop,
                move=move,
                form=form,
                clock=clock,
                today=the_day,
            ), 422
        db.session.commit()
        flash(done, "success")
        return redirect(url_for("registry.detail", coop_id=coop.id), 303)
    status = 422 if request.method == "POST" else 200
    return render_template(
        "sanctions/propose.html", coop=coop, move=move, form=form, clock=clock, today=the_day
    ), status


# ---------------------------------------------------------------- objections


@bp.route("/koperasi/<int:coop_id>/keberatan", methods=["GET", "POST"])
@role_required(ADMIN, HEAD, CLERK)
def objection_new(coop_id: int):
    coop = _coop(coop_id)
    form = ObjectionForm()
    the_day = today()
    if request.method == "GET" and form.received_on.data is None:
        form.received_on.data = the_day
    if form.validate_on_submit():
        try:
            ops.file_objection(
                coop,
                current_user,
                received_on=form.received_on.data,
                text=form.text.data,
                document=form.document.data or None,
                today=the_day,
            )
        except REFUSALS as err:
            db.session.rollback()
            field = getattr(err, "field", None)
            if field and hasattr(form, field):
                getattr(form, field).errors = [_message(err)]
            else:
                flash(_message(err), "danger")
            return render_template("sanctions/objection_new.html", coop=coop, form=form), 422
        db.session.commit()
        flash(_("Objection recorded; the head has to decide it."), "success")
        return redirect(url_for("registry.detail", coop_id=coop.id), 303)
    status = 422 if request.method == "POST" else 200
    return render_template("sanctions/objection_new.html", coop=coop, form=form), status


@bp.route("/keberatan/<int:objection_id>", methods=["GET", "POST"])
@role_required(ADMIN, HEAD, CLERK, INSPECTOR)
def objection(objection_id: int):
    obj = db.session.get(Objection, objection_id)
    if obj is None:
        abort(404)
    form = ObjectionDecisionForm()
    the_day = today()
    if request.method == "POST":
        if current_user.role != HEAD:
            abort(403)
        if form.validate_on_submit():
            try:
                ops.decide_objection(
                    obj,
                    current_user,
                    accepted=form.decision.data == "accept",
                    reasons=form.reasons.data,
                    today=the_day,
                )
            except REFUSALS as err:
                _refused(err)
                return redirect(url_for("workflow.objection", objection_id=objection_id), 303)
            db.session.commit()
            flash(_("Objection decided."), "success")
            return redirect(url_for("registry.detail", coop_id=obj.cooperative_id), 303)
    return render_template(
        "sanctions/objection.html",
        obj=obj,
        form=form,
        due=ops.objection_due(obj),
        today=the_day,
    ), (422 if request.method == "POST" else 200)


# ---------------------------------------------------------------- deadlines, diagram


@bp.route("/tenggat")
@role_required(*ALL_ROLES)
def deadlines():
    the_day = today()
    board = dl.board(the_day)
    return render_template(
        "sanctions/deadlines.html",
        board=board,
        reminders=dl.open_reminders(board),
        reminder_text=dl.reminder_text,
        today=the_day,
    )


@bp.route("/diagram")
@role_required(*ALL_ROLES)
def diagram_page():
    current = request.args.get("status")
    if current not in {s.value for s in workflow.Status}:
        current = None
    return render_template(
        "sanctions/diagram.html",
        # Built from the code's own table; every label escaped in diagram.svg.
        svg=Markup(diagram.svg(current)),  # noqa: S704 # nosec B704
        moves=workflow.MOVES,
        mermaid=workflow.mermaid(current),
        current=current,
    )


# ---------------------------------------------------------------- settings


@bp.route("/pengaturan", methods=["GET", "POST"])
@role_required(ADMIN)
def settings_page():
    form = WorkflowSettingsForm()
    if request.method == "GET":
        for name, key in ops.SETTING_KEYS.items():
            getattr(form, name).data = settings.get(key)
    if form.validate_on_submit():
        changed = 0
        for name, key in ops.SETTING_KEYS.items():
            value = getattr(form, name).data
            if settings.get(key) != value:
                settings.put(key, value, current_user)
                changed += 1
        db.session.commit()
        flash(_("Settings saved (%(n)d changed).", n=changed), "success")
        return redirect(url_for("workflow.settings_page"), 303)
    return render_template("sanctions/settings.html", form=form), (
        422 if request.method == "POST" else 200
    )


# ---------------------------------------------------------------- panels for other pages


def coop_panel(coop: Cooperative) -> dict:
    """What the cooperative page shows about the workflow (used by the section template)."""
    the_day = today()
    pending = list(
        db.session.execute(
            select(Proposal)
            .where(Proposal.cooperative_id == coop.id, Proposal.state == "pending")
            .order_by(Proposal.id)
        )
        .unique()
        .scalars()
    )
    objections = list(
        db.session.execute(
            select(Objection)
            .where(Objection.cooperative_id == coop.id)
            .order_by(Objection.id.desc())
            .limit(5)
        )
        .unique()
        .scalars()
    )
    user = current_user
    moves = ops.allowed_moves(coop, user) if user.is_authenticated else []
    return {
        "today": the_day,
        "moves": moves,
        "pending": pending,
        "objections": objections,
        "clock": ops.warning_clock(coop, the_day),
        "svg": Markup(diagram.svg(coop.status)),  # noqa: S704 # nosec B704 - escaped, from MOVES
        "can_object": user.is_authenticated
        and user.role in (ADMIN, HEAD, CLERK)
        and coop.status == "warned"
        and not any(o.is_pending for o in objections),
        "form": BulkSignForm(),
        "decide": DecideForm(),
        "move_for": workflow.move_for,
    }


def dashboard_counts() -> dict:
    from sqlalchemy import func

    counts = dl.board(today()).counts()
    counts["pending"] = db.session.execute(
        select(func.count()).select_from(Proposal).where(Proposal.state == "pending")
    ).scalar_one()
    return counts
