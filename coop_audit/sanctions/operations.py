"""Sanction workflow operations: the only code that changes a cooperative's status.

Each operation checks the role and the four-eyes rule, changes the status only through
`workflow.fire`, writes the history row in the same transaction, flushes and never commits.
Errors are `PermissionDenied` (who acts), `IllegalMove` (the transition table and its guards)
or `WorkflowError` (everything else: already decided, a proposal already waiting, ...); each
carries a user-facing `message`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm.exc import StaleDataError

from .. import MAX_ID, history, i18n, settings, workflow
from ..extensions import db
from ..models import Cooperative, HistoryEvent, User
from ..models.letters import Letter
from ..models.workflow import Objection, Proposal
from ..permissions import ADMIN, CLERK, HEAD, PermissionDenied, require
from ..rules import (
    RuleSettings,
    no_receipt_overdue,
    objection_deadline,
    objection_decision_deadline,
    revocation_deadline,
)
from ..timeutil import to_local, utcnow
from ..workflow import IllegalMove, Status

__all__ = [
    "OBJECTION_HOOKS",
    "SIGNOFF_HOOKS",
    "Clock",
    "IllegalMove",
    "Outcome",
    "PermissionDenied",
    "WorkflowError",
    "allowed_moves",
    "decide_objection",
    "file_objection",
    "pending_objection",
    "pending_proposal",
    "propose",
    "record_dormancy",
    "refuse",
    "rule_settings",
    "sign",
    "sign_many",
    "warning_clock",
    "withdraw",
]

# Durations as settings; the defaults are the law's (UU 25/1992 Pasal 47, domain primer 3).
SETTING_KEYS: dict[str, str] = {
    "objection_window_months": "rules.objection_window_months",
    "objection_decision_months": "rules.objection_decision_months",
    "revocation_deadline_months": "rules.revocation_deadline_months",
    "no_receipt_alert_days": "rules.no_receipt_alert_days",
    "announcement_window_months": "rules.announcement_window_months",
}
_RULE_DEFAULTS = RuleSettings()
settings.register_defaults({key: getattr(_RULE_DEFAULTS, f) for f, key in SETTING_KEYS.items()})

# Called inside sign() after the status move, in the same transaction: hook(proposal, signer,
# today). The letters feature issues the letter for the move here; if a hook raises, the whole
# sign-off rolls back. Hooks run before the move's history row is appended, because appending
# locks the history head until the commit and a hook's slow work (numbering and rendering a
# letter) must not hold every other writer up; a hook may return a callable, run after that
# row, for its own rows (the letter and its "letter issued" history).
Finish = Callable[[], object] | None
SIGNOFF_HOOKS: list[Callable[[Proposal, User, date], Finish]] = []
# Called when an objection is decided, the same way: hook(objection, head, today).
OBJECTION_HOOKS: list[Callable[[Objection, User, date], Finish]] = []


class WorkflowError(Exception):
    """A refused workflow action; `message` is user-facing and already translated."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


@dataclass
class Outcome:
    """One item of a bulk sign-off."""

    proposal_id: int
    ok: bool
    message: str
    cooperative_name: str = ""
    # Not signed by this bulk sign-off because it was signed before (nothing left to do).
    already_signed: bool = False


@dataclass(frozen=True)
class Clock:
    """The legal clock of a cooperative's latest warning; dates are Asia/Jakarta dates."""

    letter_id: int | None = None
    letter_number: str | None = None
    issued_on: date | None = None
    clock_start: date | None = None  # receipt date, else the announcement's start
    announced: bool = False
    objection_deadline: date | None = None
    objection_window_over: bool | None = None  # None: no proof of receipt yet
    revocation_deadline: date | None = None
    no_receipt_alert: bool = False  # issued more than N days ago and still no receipt
    pending_objection_id: int | None = None
    objection_decision_deadline: date | None = None
    objection_blocks: bool = False  # pending or accepted objection to this warning

    @property
    def started(self) -> bool:
        return self.clock_start is not None


# ---------------------------------------------------------------- helpers


def rule_settings() -> RuleSettings:
    """RuleSettings from the office settings (`rules.*` keys), defaults for the rest."""
    values: dict[str, Any] = {}
    for name in RuleSettings.__dataclass_fields__:
        try:
            values[name] = settings.get(f"rules.{name}")
        except KeyError:
            continue
    return RuleSettings.from_mapping(values)


def _lock_coop(coop: Cooperative) -> Cooperative:
    """Re-read the cooperative under a row lock (PostgreSQL) so racing writers queue up."""
    db.session.execute(
        select(Cooperative.id).where(Cooperative.id == coop.id).with_for_update()
    ).scalar_one()
    fresh = db.session.get(Cooperative, coop.id, populate_existing=True)
    assert fresh is not None  # nosec B101 - type narrowing; the row is locked above
    return fresh


def _lock_proposal(proposal: Proposal) -> Proposal:
    db.session.execute(
        select(Proposal.id).where(Proposal.id == proposal.id).with_for_update()
    ).scalar_one()
    fresh = db.session.get(Proposal, proposal.id, populate_existing=True)
    assert fresh is not None  # nosec B101 - type narrowing; the row is locked above
    return fresh


def _when(user: User | None, at: Any) -> dict[str, str]:
    name = user.full_name if user is not None else _("the system")
    when = i18n.tanggal(to_local(at)) if at is not None else "?"  # "5 Desember 2026 04:56"
    return {"name": name, "at": when}


def _clean(text: str | None) -> str:
    return (text or "").strip()


def _guard_context(coop: Cooperative, today: date) -> dict[str, Any]:
    clock = warning_clock(coop, today)
    return {
        "objection_window_over": clock.objection_window_over,
        "objection_blocks": clock.objection_blocks,
    }


def _move(
    coop: Cooperative,
    trigger: str,
    *,
    reason: str,
    today: date,
    document: str | None = None,
) -> tuple[str, str]:
    """Fire `trigger` on `coop` (guards see the clock); returns (from, to)."""
    before = coop.status
    ctx = {"reason": reason, "document": document}
    if trigger == "revoke":
        ctx.update(_guard_context(coop, today))
    workflow.fire(coop, trigger, **ctx)
    coop.status_reason = reason
    coop.status_changed_at = utcnow()
    try:
        db.session.flush()
    except StaleDataError as err:
        raise WorkflowError(
            _("This cooperative was changed by someone else meanwhile; reload and try again.")
        ) from err
    return before, coop.status


def pending_proposal(coop_id: int) -> Proposal | None:
    return db.session.execute(
        select(Proposal)
        .where(Proposal.cooperative_id == coop_id, Proposal.state == "pending")
        .order_by(Proposal.id.desc())
        .limit(1)
    ).scalar_one_or_none()


def pending_objection(coop_id: int) -> Objection | None:
    return db.session.execute(
        select(Objection)
        .where(Objection.cooperative_id == coop_id, Objection.state == "pending")
        .order_by(Objection.id.desc())
        .limit(1)
    ).scalar_one_or_none()


def allowed_moves(coop: Cooperative, user: User) -> list[workflow.Move]:
    """Moves this user may propose (or perform) from the cooperative's current status."""
    return [
        workflow.move_for(t)
        for t in workflow.allowed_triggers(coop.status)
        if workflow.can_propose(user.role, t)
    ]


# ---------------------------------------------------------------- clocks


def latest_warning(coop_id: int) -> Letter | None:
    """The newest warning letter, if it is valid. A voided newest warning stops the clock
    until the head issues it again: an older warning (of an earlier cycle) does not stand in."""
    newest = db.session.execute(
        select(Letter)
        .where(Letter.cooperative_id == coop_id, Letter.kind == "warning")
        .order_by(Letter.issued_on.desc(), Letter.id.desc())
        .limit(1)
    ).scalar_one_or_none()
    return None if newest is None or newest.is_void else newest


def warning_clock(coop: Cooperative, today: date, s: RuleSettings | None = None) -> Clock:
    """The clock of the latest non-void warning letter, and the objection that may block it."""
    s = s or rule_settings()
    letter = latest_warning(coop.id)
    objections = list(
        db.session.execute(
            select(Objection)
            .where(Objection.cooperative_id == coop.id)
            .order_by(Objection.id.desc())
        ).scalars()
    )
    if letter is not None:
        # Only objections against this warning's decision count: against this letter, or a
        # voided letter of the same proposal it was issued again for (an objection against an
        # older warning was about an older decision).
        same_decision = {letter.id}
        if letter.proposal_id is not None:
            same_decision.update(
                db.session.execute(
                    select(Letter.id).where(
                        Letter.proposal_id == letter.proposal_id, Letter.kind == "warning"
                    )
                ).scalars()
            )
        objections = [o for o in objections if o.letter_id is None or o.letter_id in same_decision]
    pending = next((o for o in objections if o.state == "pending"), None)
    blocks = pending is not None or any(o.state == "accepted" for o in objections)
    decision_deadline = (
        objection_decision_deadline(pending.received_on, s) if pending is not None else None
    )
    if letter is None:
        return Clock(
            pending_objection_id=pending.id if pending else None,
            objection_decision_deadline=decision_deadline,
            objection_blocks=blocks,
        )
    start = letter.clock_start
    announced = letter.receipt_date is None and letter.announced_on is not None
    if start is None:
        return Clock(
            letter_id=letter.id,
            letter_number=letter.number,
            issued_on=letter.issued_on,
            no_receipt_alert=no_receipt_overdue(letter.issued_on, today, s),
            pending_objection_id=pending.id if pending else None,
            objection_decision_deadline=decision_deadline,
            objection_blocks=blocks,
        )
    deadline = objection_deadline(start, s, announced=announced)
    return Clock(
        letter_id=letter.id,
        letter_number=letter.number,
        issued_on=letter.issued_on,
        clock_start=start,
        announced=announced,
        objection_deadline=deadline,
        objection_window_over=today > deadline,
        revocation_deadline=revocation_deadline(start, s),
        pending_objection_id=pending.id if pending else None,
        objection_decision_deadline=decision_deadline,
        objection_blocks=blocks,
    )


# ---------------------------------------------------------------- moves


def record_dormancy(
    coop: Cooperative,
    actor: User,
    *,
    reason: str,
    legal_ground: str | None,
    evidence: list[dict],
    today: date,
) -> HistoryEvent:
    """active -> dormant on recorded evidence (an audit or a register import); no sign-off.

    Inspectors and admins record it; a clerk may too when every evidence item is an import
    (the register row said "Tidak Aktif"), acting as the importing user.
    """
    require(actor is not None, _("Log in to record dormancy."))
    by_import = bool(evidence) and all(e.get("type") == "import" for e in evidence)
    require(
        workflow.can_propose(actor.role, "record_dormancy") or (by_import and actor.role == CLERK),
        _("Only an inspector records dormancy (from an audit or an import)."),
    )
    if not evidence:
        raise WorkflowError(_("Dormancy needs evidence (an audit or an import)."), "evidence")
    coop = _lock_coop(coop)
    ground = legal_ground or workflow.move_for("record_dormancy").legal_ground
    before, after = _move(coop, "record_dormancy", reason=_clean(reason), today=today)
    return history.record(
        "dormancy_recorded",
        cooperative_id=coop.id,
        actor=actor,
        from_status=before,
        to_status=after,
        trigger="record_dormancy",
        reason=_clean(reason),
        legal_ground=ground,
        evidence=evidence,
        data={"today": today.isoformat()},
    )


def propose(
    coop: Cooperative,
    trigger: str,
    actor: User,
    *,
    reason: str,
    today: date,
    evidence: list[dict] | None = None,
    legal_ground: str | None = None,
    document: str | None = None,
    by_sweep: bool = False,
) -> Proposal:
    """Propose a move for a head's sign-off; a move without sign-off (reinstate) is performed.

    The proposal is checked against the table and its guards now (so a hopeless proposal is
    refused at once) and again when it is signed.
    """
    try:
        move = workflow.move_for(trigger)
    except KeyError:
        raise IllegalMove(trigger, coop.status, reason=_("unknown move.")) from None
    if trigger == "record_dormancy":
        raise IllegalMove(
            trigger,
            coop.status,
            reason=_("dormancy is recorded from an audit or an import, not proposed."),
        )
    require(
        actor is not None and workflow.can_propose(actor.role, trigger),
        _("Your role cannot propose “%(move)s”.", move=move.label),
    )
    coop = _lock_coop(coop)
    reason = _clean(reason)
    ctx: dict[str, Any] = {"reason": reason, "document": document}
    if trigger == "revoke":
        ctx.update(_guard_context(coop, today))
    refused = workflow.refusal(coop.status, trigger, **ctx)
    if refused is not None:
        raise refused
    waiting = pending_proposal(coop.id)
    if waiting is not None:
        raise WorkflowError(
            _(
                "A proposal (“%(move)s”, no. %(id)d) is already waiting for sign-off for "
                "this cooperative.",
                move=workflow.move_for(waiting.trigger).label,
                id=waiting.id,
            )
        )
    ground = _clean(legal_ground) or move.legal_ground
    proposal = Proposal(
        cooperative_id=coop.id,
        trigger=trigger,
        from_status=coop.status,
        to_status=move.dest,
        state="pending",
        reason=reason,
        legal_ground=ground,
        evidence=list(evidence or []),
        document=document,
        proposed_by_id=actor.id,
        proposed_on=today,
        proposed_at=utcnow(),
        by_sweep=by_sweep,
    )
    db.session.add(proposal)
    db.session.flush()
    history.record(
        "proposed",
        cooperative_id=coop.id,
        actor=actor,
        from_status=coop.status,
        to_status=move.dest,
        trigger=trigger,
        reason=reason,
        legal_ground=ground,
        evidence=proposal.evidence,
        data={"proposal_id": proposal.id, "document": document, "by_sweep": by_sweep},
    )
    if not move.needs_signoff:
        # Reinstatement: the head acts alone (with reason and document); record it as signed.
        _prepare_apply(proposal, coop, actor, today)()
    return proposal


def _prepare_apply(
    proposal: Proposal,
    coop: Cooperative,
    signer: User,
    today: date,
    *,
    run_hooks: bool = True,
    extra: dict[str, Any] | None = None,
) -> Callable[[], None]:
    """The move and the proposal's state now, and the hooks' own work (a letter is numbered
    and rendered); returns the step that appends the history row and the hooks' rows.

    Kept apart so that a bulk sign-off prepares every proposal before its first history row:
    appending locks the history head until the commit.
    """
    before, after = _move(
        coop, proposal.trigger, reason=proposal.reason, today=today, document=proposal.document
    )
    proposal.state = "signed"
    proposal.decided_by_id = signer.id
    proposal.decided_on = today
    proposal.decided_at = utcnow()
    db.session.flush()
    finish = [hook(proposal, signer, today) for hook in SIGNOFF_HOOKS] if run_hooks else []

    def record() -> None:
        history.record(
            "signed",
            cooperative_id=coop.id,
            actor=signer,
            from_status=before,
            to_status=after,
            trigger=proposal.trigger,
            reason=proposal.reason,
            legal_ground=proposal.legal_ground,
            evidence=proposal.evidence,
            data={
                "proposal_id": proposal.id,
                "proposed_by_id": proposal.proposed_by_id,
                "document": proposal.document,
                **(extra or {}),
            },
        )
        _finish(finish)

    return record


def _finish(finishers: list[Finish]) -> None:
    for step in finishers:
        if step is not None:
            step()


def _already_decided(proposal: Proposal) -> WorkflowError:
    who = _when(proposal.decided_by, proposal.decided_at)
    messages = {
        "signed": _("Already signed by %(name)s at %(at)s.", **who),
        "refused": _("Already refused by %(name)s at %(at)s.", **who),
        "withdrawn": _("This proposal was withdrawn by %(name)s at %(at)s.", **who),
        "superseded": _("This proposal was closed by %(name)s at %(at)s.", **who),
    }
    return WorkflowError(messages.get(proposal.state, _("This proposal is no longer pending.")))


def _check_signer(proposal: Proposal, signer: User | None) -> None:
    require(signer is not None, _("Log in to sign."))
    if not signer.enabled:  # e.g. disabled by the admin after asking for a bulk sign-off
        raise PermissionDenied(
            _("The account of %(name)s is disabled: it cannot sign.", name=signer.full_name)
        )
    refusal = workflow.signoff_refusal(
        proposal.trigger, signer.role, signer.id, proposal.proposed_by_id
    )
    if refusal is not None:
        raise PermissionDenied(str(refusal))


def sign(proposal: Proposal, signer: User, *, today: date) -> Proposal:
    """The head signs: the move happens now (guards re-checked), letters are issued by hooks."""
    _prepare_sign(proposal, signer, today)()
    return proposal


def _prepare_sign(proposal: Proposal, signer: User, today: date) -> Callable[[], None]:
    _check_signer(proposal, signer)
    proposal = _lock_proposal(proposal)
    if not proposal.is_pending:
        raise _already_decided(proposal)
    coop = _lock_coop(proposal.cooperative)
    return _prepare_apply(proposal, coop, signer, today)


def refuse(proposal: Proposal, signer: User, *, reason: str, today: date) -> Proposal:
    """The head refuses a proposal; the refusal needs a reason."""
    _check_signer(proposal, signer)
    return _close(
        proposal, signer, "refused", reason, today, _("A refusal needs a reason."), moves=True
    )


def withdraw(proposal: Proposal, actor: User, *, reason: str, today: date) -> Proposal:
    """The proposer (or an admin) takes back a pending proposal."""
    require(
        actor is not None and (actor.id == proposal.proposed_by_id or actor.role == ADMIN),
        _("Only the proposer can withdraw a proposal."),
    )
    return _close(proposal, actor, "withdrawn", reason, today, _("Withdrawing needs a reason."))


def _close(
    proposal: Proposal,
    actor: User,
    state: str,
    reason: str,
    today: date,
    reason_missing: str,
    *,
    moves: bool = False,
) -> Proposal:
    """End a pending proposal without a move (refused or withdrawn), with its history row."""
    reason = _clean(reason)
    if not reason:
        raise WorkflowError(reason_missing, "reason")
    proposal = _lock_proposal(proposal)
    if not proposal.is_pending:
        raise _already_decided(proposal)
    proposal.state = state
    proposal.decided_by_id = actor.id
    proposal.decided_on = today
    proposal.decided_at = utcnow()
    proposal.refusal_reason = reason
    db.session.flush()
    history.record(
        state,
        cooperative_id=proposal.cooperative_id,
        actor=actor,
        from_status=proposal.from_status if moves else None,
        to_status=proposal.to_status if moves else None,
        trigger=proposal.trigger,
        reason=reason,
        legal_ground=proposal.legal_ground if moves else None,
        data={"proposal_id": proposal.id, "proposed_by_id": proposal.proposed_by_id}
        if moves
        else {"proposal_id": proposal.id},
    )
    return proposal


def sign_many(proposal_ids: Iterable[int], signer: User, *, today: date) -> list[Outcome]:
    """Sign several proposals in the caller's transaction.

    Each proposal is checked and moved in its own savepoint, so one refusal undoes only itself.
    All are prepared before any is recorded: the history rows, which lock the history head
    until the commit, come after the slow part, and the letters of a bulk sign-off run inside
    `letters.operations.rendering_batch` render together, in parallel, at the first record.
    """
    proposal_ids = list(proposal_ids)
    # All of them locked first, in id order: two heads signing overlapping selections wait
    # for each other here, before either holds a letter-number counter the other needs
    # (locked one by one in the order ticked, they deadlocked on PostgreSQL).
    db.session.execute(
        select(Proposal.id)
        .where(Proposal.id.in_(sorted({pid for pid in proposal_ids if 0 < pid <= MAX_ID})))
        .order_by(Proposal.id)
        .with_for_update()
    ).all()
    outcomes: list[Outcome] = []
    records: list[Callable[[], None]] = []
    for pid in proposal_ids:
        proposal = db.session.get(Proposal, pid) if 0 < pid <= MAX_ID else None
        if proposal is None:
            outcomes.append(Outcome(pid, False, _("Proposal no. %(id)d does not exist.", id=pid)))
            continue
        name = proposal.cooperative.name
        savepoint = db.session.begin_nested()
        try:
            record = _prepare_sign(proposal, signer, today)
            savepoint.commit()
        except (PermissionDenied, WorkflowError, IllegalMove) as err:
            savepoint.rollback()
            already = proposal.state == "signed"
            outcomes.append(Outcome(pid, False, str(err.message), name, already_signed=already))
            continue
        records.append(record)
        outcomes.append(Outcome(pid, True, _("Signed."), name))
    for record in records:
        record()
    return outcomes


# ---------------------------------------------------------------- objections


def file_objection(
    coop: Cooperative,
    actor: User,
    *,
    received_on: date,
    text: str,
    document: str | None,
    today: date,
) -> Objection:
    """Record a cooperative's objection to its warning (clerk, head or admin)."""
    require(
        actor is not None and actor.role in (CLERK, HEAD, ADMIN),
        _("Only a clerk, the head or an admin records an objection."),
    )
    text = _clean(text)
    if not text:
        raise WorkflowError(_("Enter the text (or a summary) of the objection."), "text")
    if received_on > today:
        raise WorkflowError(_("The date received cannot be in the future."), "received_on")
    coop = _lock_coop(coop)
    if coop.status != Status.WARNED.value:
        raise WorkflowError(_("Only a warned cooperative can object (this one has no warning)."))
    if pending_objection(coop.id) is not None:
        raise WorkflowError(_("An objection is already waiting for a decision."))
    clock = warning_clock(coop, today)
    if clock.issued_on is not None and received_on < clock.issued_on:
        raise WorkflowError(
            _("The objection cannot be received before the warning was issued."), "received_on"
        )
    if clock.objection_deadline is not None and received_on > clock.objection_deadline:
        raise WorkflowError(
            _(
                "The objection window closed on %(date)s; a late objection cannot be recorded.",
                date=clock.objection_deadline.strftime("%d-%m-%Y"),
            ),
            "received_on",
        )
    objection = Objection(
        cooperative_id=coop.id,
        letter_id=clock.letter_id,
        received_on=received_on,
        text=text,
        document=document,
        state="pending",
        filed_by_id=actor.id,
        filed_at=utcnow(),
    )
    db.session.add(objection)
    db.session.flush()
    history.record(
        "objection_filed",
        cooperative_id=coop.id,
        actor=actor,
        from_status=coop.status,
        reason=text,
        evidence=[{"type": "objection", "id": objection.id, "label": document or ""}],
        data={
            "objection_id": objection.id,
            "received_on": received_on.isoformat(),
            "letter_id": clock.letter_id,
            "document": document,
        },
    )
    return objection


def decide_objection(
    objection: Objection, head: User, *, accepted: bool, reasons: str, today: date
) -> Objection:
    """The head decides an objection. Accepting it returns the cooperative to active at once
    (the head's decision on the objection is the sign-off; another person recorded it)."""
    require(
        head is not None and head.role == HEAD, _("Only the head of office decides objections.")
    )
    reasons = _clean(reasons)
    if not reasons:
        raise WorkflowError(_("A decision on an objection needs its reasons."), "reasons")
    db.session.execute(
        select(Objection.id).where(Objection.id == objection.id).with_for_update()
    ).scalar_one()
    objection = db.session.get(Objection, objection.id, populate_existing=True)
    assert objection is not None  # nosec B101 - type narrowing; locked above
    if not objection.is_pending:
        who = _when(objection.decided_by, None)
        raise WorkflowError(_("This objection was already decided by %(name)s.", name=who["name"]))
    coop = _lock_coop(objection.cooperative)
    objection.state = "accepted" if accepted else "rejected"
    objection.decided_by_id = head.id
    objection.decided_on = today
    objection.decision_reasons = reasons
    db.session.flush()
    finish = [hook(objection, head, today) for hook in OBJECTION_HOOKS]
    history.record(
        "objection_decided",
        cooperative_id=coop.id,
        actor=head,
        from_status=coop.status,
        reason=reasons,
        data={"objection_id": objection.id, "accepted": accepted},
    )
    if accepted and coop.status in workflow.move_for("reactivate").sources:
        # Close whatever was waiting (a revocation proposal would now be wrong).
        for waiting in db.session.execute(
            select(Proposal).where(Proposal.cooperative_id == coop.id, Proposal.state == "pending")
        ).scalars():
            waiting.state = "superseded"
            waiting.decided_by_id = head.id
            waiting.decided_on = today
            waiting.decided_at = utcnow()
            waiting.refusal_reason = _("Objection accepted")
        move = workflow.move_for("reactivate")
        proposal = Proposal(
            cooperative_id=coop.id,
            trigger="reactivate",
            from_status=coop.status,
            to_status=move.dest,
            state="pending",
            reason=_("Objection accepted: %(reasons)s", reasons=reasons),
            legal_ground=move.legal_ground,
            evidence=[{"type": "objection", "id": objection.id, "label": _("Objection")}],
            proposed_by_id=objection.filed_by_id,
            proposed_on=today,
            proposed_at=utcnow(),
        )
        db.session.add(proposal)
        db.session.flush()
        objection.proposal_id = proposal.id
        # The head's decision on the objection is the sign-off; its letter is the objection
        # decision (OBJECTION_HOOKS below), not a separate reactivation letter.
        _prepare_apply(
            proposal, coop, head, today, run_hooks=False, extra={"objection_id": objection.id}
        )()
    _finish(finish)
    return objection


def objection_due(objection: Objection, s: RuleSettings | None = None) -> date:
    return objection_decision_deadline(objection.received_on, s or rule_settings())
