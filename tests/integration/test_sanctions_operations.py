"""Sanction workflow operations on a real database: every state x move, guards, four-eyes."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from coop_audit import history
from coop_audit.extensions import db
from coop_audit.models import HistoryEvent
from coop_audit.models.workflow import Proposal
from coop_audit.permissions import PermissionDenied
from coop_audit.sanctions import operations as ops
from coop_audit.workflow import TRIGGERS, IllegalMove, Status, move_for
from tests.integration.sanctions_helpers import add_warning_letter

TODAY = date(2026, 6, 1)
RECEIVED = date(2026, 1, 10)  # objection window ends 2026-03-10, revocation due 2026-05-10
EVIDENCE = [{"type": "audit", "id": 1, "label": "Audit 2026-05-20"}]


@pytest.fixture(autouse=True)
def english(app):
    """Messages are asserted in English; the Indonesian catalogue is checked elsewhere."""
    from flask_babel import force_locale

    with app.test_request_context(), force_locale("en"):
        yield


def _perform(coop, trigger, users, today=TODAY):
    if trigger == "record_dormancy":
        return ops.record_dormancy(
            coop,
            users["inspector"],
            reason="Tidak ada RAT 3 tahun",
            legal_ground=None,
            evidence=EVIDENCE,
            today=today,
        )
    if trigger == "reinstate":
        return ops.propose(
            coop,
            "reinstate",
            users["head"],
            reason="Kekeliruan data terbukti",
            document="putusan.pdf",
            today=today,
        )
    proposer = users["clerk"] if trigger == "revoke" else users["inspector"]
    proposal = ops.propose(coop, trigger, proposer, reason="Alasan cukup", today=today)
    return ops.sign(proposal, users["head"], today=today)


@pytest.mark.parametrize("status", [s.value for s in Status])
@pytest.mark.parametrize("trigger", TRIGGERS)
def test_every_state_and_move_is_legal_or_refused_with_a_message(
    app, users, make_coop, status, trigger
):
    coop = make_coop(status=status)
    if status == "warned":
        add_warning_letter(coop, users["head"], issued_on=date(2026, 1, 2), receipt_date=RECEIVED)
        db.session.commit()
    legal = status in move_for(trigger).sources
    before = db.session.execute(select(func.count()).select_from(HistoryEvent)).scalar_one()
    if legal:
        _perform(coop, trigger, users)
        db.session.commit()
        db.session.refresh(coop)
        assert coop.status == move_for(trigger).dest
        assert coop.status_reason
        moved = [r for r in history.timeline(coop.id) if r.to_status][0]
        assert moved.to_status == move_for(trigger).dest
        assert moved.legal_ground
    else:
        with pytest.raises(IllegalMove) as err:
            _perform(coop, trigger, users)
        assert str(err.value.message)
        db.session.rollback()
        db.session.refresh(coop)
        assert coop.status == status
        after = db.session.execute(select(func.count()).select_from(HistoryEvent)).scalar_one()
        assert after == before


def test_propose_then_sign_writes_proposal_and_signoff_rows(app, users, make_coop):
    coop = make_coop(status="dormant")
    proposal = ops.propose(
        coop, "warn", users["inspector"], reason="Dorman", evidence=EVIDENCE, today=TODAY
    )
    ops.sign(proposal, users["head"], today=TODAY)
    db.session.commit()
    ours = {"signed", "proposed"}
    kinds = [(e.kind, e.actor_id) for e in history.timeline(coop.id) if e.kind in ours][:2]
    assert kinds == [("signed", users["head"].id), ("proposed", users["inspector"].id)]
    assert proposal.state == "signed"
    assert history.verify().ok


def test_head_cannot_sign_own_proposal(app, users, make_coop):
    # An admin's role cannot propose a warning; make a head the proposer through the model.
    coop = make_coop(status="dormant")
    proposal = ops.propose(coop, "warn", users["inspector"], reason="Dorman", today=TODAY)
    proposal.proposed_by_id = users["head"].id
    db.session.commit()
    with pytest.raises(PermissionDenied, match="own proposal"):
        ops.sign(proposal, users["head"], today=TODAY)
    db.session.rollback()
    ops.sign(proposal, users["head2"], today=TODAY)
    assert coop.status == "warned"


@pytest.mark.parametrize("role", ["inspector", "clerk", "admin", "viewer"])
def test_only_a_head_can_sign(app, users, make_coop, role):
    coop = make_coop(status="dormant")
    proposal = ops.propose(coop, "warn", users["inspector"], reason="Dorman", today=TODAY)
    db.session.commit()
    with pytest.raises(PermissionDenied, match="head"):
        ops.sign(proposal, users[role], today=TODAY)
    db.session.rollback()
    assert db.session.get(Proposal, proposal.id).state == "pending"


@pytest.mark.parametrize("role", ["clerk", "viewer", "head", "admin"])
def test_only_an_inspector_can_propose_a_warning(app, users, make_coop, role):
    coop = make_coop(status="dormant")
    with pytest.raises(PermissionDenied):
        ops.propose(coop, "warn", users[role], reason="Dorman", today=TODAY)


def test_second_signature_is_told_who_signed_and_when(app, users, make_coop):
    coop = make_coop(status="dormant")
    proposal = ops.propose(coop, "warn", users["inspector"], reason="Dorman", today=TODAY)
    ops.sign(proposal, users["head"], today=TODAY)
    db.session.commit()
    with pytest.raises(ops.WorkflowError, match="Already signed by Test Head"):
        ops.sign(proposal, users["head2"], today=TODAY)


def test_refusal_needs_a_reason_and_leaves_status(app, users, make_coop):
    coop = make_coop(status="dormant")
    proposal = ops.propose(coop, "warn", users["inspector"], reason="Dorman", today=TODAY)
    with pytest.raises(ops.WorkflowError):
        ops.refuse(proposal, users["head"], reason="  ", today=TODAY)
    ops.refuse(proposal, users["head"], reason="Bukti kurang", today=TODAY)
    db.session.commit()
    assert coop.status == "dormant"
    assert any(e.kind == "refused" for e in history.timeline(coop.id))


def test_every_move_needs_a_reason(app, users, make_coop):
    coop = make_coop(status="dormant")
    with pytest.raises(IllegalMove, match="reason"):
        ops.propose(coop, "warn", users["inspector"], reason=" ", today=TODAY)


def test_reinstatement_needs_a_document(app, users, make_coop):
    coop = make_coop(status="license_revoked")
    with pytest.raises(IllegalMove, match="document"):
        ops.propose(coop, "reinstate", users["head"], reason="Keliru", today=TODAY)


def test_one_pending_proposal_per_cooperative(app, users, make_coop):
    coop = make_coop(status="dormant")
    ops.propose(coop, "warn", users["inspector"], reason="Dorman", today=TODAY)
    with pytest.raises(ops.WorkflowError, match="already waiting"):
        ops.propose(coop, "reactivate", users["inspector"], reason="RAT", today=TODAY)


# ------------------------------------------------------------------ deadlines, exact days


def _warned(make_coop, users, **letter):
    coop = make_coop(status="warned")
    add_warning_letter(coop, users["head"], issued_on=date(2026, 1, 2), **letter)
    db.session.commit()
    return coop


@pytest.mark.parametrize(
    ("today", "allowed"),
    [(date(2026, 3, 10), False), (date(2026, 3, 11), True)],
)
def test_revocation_waits_for_the_objection_window(app, users, make_coop, today, allowed):
    coop = _warned(make_coop, users, receipt_date=RECEIVED)
    if allowed:
        ops.propose(coop, "revoke", users["clerk"], reason="Tidak ada keberatan", today=today)
    else:
        with pytest.raises(IllegalMove, match="still open"):
            ops.propose(coop, "revoke", users["clerk"], reason="Tidak ada keberatan", today=today)


def test_revocation_refused_without_proof_of_receipt(app, users, make_coop):
    coop = _warned(make_coop, users)
    with pytest.raises(IllegalMove, match="receipt"):
        ops.propose(coop, "revoke", users["clerk"], reason="x", today=TODAY)


def test_announcement_starts_the_clock_when_undeliverable(app, users, make_coop):
    coop = _warned(make_coop, users, announced_on=RECEIVED)
    clock = ops.warning_clock(coop, date(2026, 3, 11))
    assert clock.announced and clock.objection_window_over
    assert clock.objection_deadline == date(2026, 3, 10)


def test_signing_rechecks_the_guard_on_the_day(app, users, make_coop):
    coop = _warned(make_coop, users, receipt_date=RECEIVED)
    proposal = ops.propose(coop, "revoke", users["clerk"], reason="x", today=date(2026, 3, 11))
    ops.file_objection(
        coop,
        users["clerk"],
        received_on=date(2026, 3, 10),
        text="Kami masih aktif",
        document=None,
        today=date(2026, 3, 12),
    )
    with pytest.raises(IllegalMove, match="objection is pending"):
        ops.sign(proposal, users["head"], today=date(2026, 3, 12))


@pytest.mark.parametrize(
    ("received_on", "ok"), [(date(2026, 3, 10), True), (date(2026, 3, 11), False)]
)
def test_objection_must_arrive_within_the_window(app, users, make_coop, received_on, ok):
    coop = _warned(make_coop, users, receipt_date=RECEIVED)
    call = dict(received_on=received_on, text="Keberatan", document=None, today=date(2026, 4, 1))
    if ok:
        ops.file_objection(coop, users["clerk"], **call)
    else:
        with pytest.raises(ops.WorkflowError, match="closed on 10-03-2026"):
            ops.file_objection(coop, users["clerk"], **call)


@pytest.mark.parametrize(
    ("today", "alert"), [(date(2026, 1, 16), False), (date(2026, 1, 17), True)]
)
def test_no_receipt_alert_after_fourteen_days(app, users, make_coop, today, alert):
    coop = _warned(make_coop, users)
    assert ops.warning_clock(coop, today).no_receipt_alert is alert


def test_settings_change_the_window(app, users, make_coop):
    from coop_audit import settings

    settings.put("rules.objection_window_months", 3, users["admin"])
    coop = _warned(make_coop, users, receipt_date=RECEIVED)
    assert ops.warning_clock(coop, TODAY).objection_deadline == date(2026, 4, 10)


# ------------------------------------------------------------------ objections


def test_accepted_objection_returns_the_cooperative_to_active(app, users, make_coop):
    coop = _warned(make_coop, users, receipt_date=RECEIVED)
    objection = ops.file_objection(
        coop,
        users["clerk"],
        received_on=date(2026, 2, 1),
        text="RAT 2025 sudah dilaksanakan",
        document="notulen.pdf",
        today=date(2026, 2, 2),
    )
    ops.decide_objection(
        objection, users["head"], accepted=True, reasons="Notulen sah", today=date(2026, 2, 20)
    )
    db.session.commit()
    assert coop.status == "active"
    assert objection.state == "accepted" and objection.proposal_id
    ours = {"signed", "objection_decided", "objection_filed"}
    kinds = [e.kind for e in history.timeline(coop.id) if e.kind in ours][:3]
    assert kinds == ["signed", "objection_decided", "objection_filed"]


def test_only_the_head_decides_objections(app, users, make_coop):
    coop = _warned(make_coop, users, receipt_date=RECEIVED)
    objection = ops.file_objection(
        coop, users["clerk"], received_on=RECEIVED, text="x", document=None, today=RECEIVED
    )
    with pytest.raises(PermissionDenied):
        ops.decide_objection(objection, users["clerk"], accepted=False, reasons="x", today=TODAY)


def test_rejected_objection_then_revocation(app, users, make_coop):
    coop = _warned(make_coop, users, receipt_date=RECEIVED)
    objection = ops.file_objection(
        coop, users["clerk"], received_on=RECEIVED, text="x", document=None, today=RECEIVED
    )
    ops.decide_objection(
        objection, users["head"], accepted=False, reasons="Tidak berdasar", today=date(2026, 2, 1)
    )
    proposal = ops.propose(coop, "revoke", users["inspector"], reason="x", today=date(2026, 3, 11))
    ops.sign(proposal, users["head"], today=date(2026, 3, 11))
    assert coop.status == "license_revoked"


# ------------------------------------------------------------------ bulk and hooks


def test_bulk_sign_gives_each_item_its_own_outcome(app, users, make_coop):
    a, b, c = (make_coop(status="dormant") for _ in range(3))
    pa = ops.propose(a, "warn", users["inspector"], reason="x", today=TODAY)
    pb = ops.propose(b, "warn", users["inspector"], reason="x", today=TODAY)
    pc = ops.propose(c, "warn", users["inspector"], reason="x", today=TODAY)
    ops.refuse(pb, users["head2"], reason="Tidak", today=TODAY)
    db.session.commit()
    outcomes = ops.sign_many([pa.id, pb.id, pc.id, 9999], users["head"], today=TODAY)
    db.session.commit()
    assert [o.ok for o in outcomes] == [True, False, True, False]
    assert "Already refused" in outcomes[1].message
    assert {db.session.get(type(a), x.id).status for x in (a, c)} == {"warned"}
    assert db.session.get(type(b), b.id).status == "dormant"
    assert history.verify().ok


def test_failing_signoff_hook_rolls_back_only_that_item(app, users, make_coop):
    a, b = make_coop(status="dormant"), make_coop(status="dormant")
    pa = ops.propose(a, "warn", users["inspector"], reason="x", today=TODAY)
    pb = ops.propose(b, "warn", users["inspector"], reason="x", today=TODAY)
    db.session.commit()

    def hook(proposal, signer, today):
        if proposal.id == pa.id:
            raise ops.WorkflowError("letter could not be issued")

    ops.SIGNOFF_HOOKS.append(hook)
    try:
        outcomes = ops.sign_many([pa.id, pb.id], users["head"], today=TODAY)
    finally:
        ops.SIGNOFF_HOOKS.remove(hook)
    db.session.commit()
    assert [o.ok for o in outcomes] == [False, True]
    assert db.session.get(type(a), a.id).status == "dormant"
    assert db.session.get(Proposal, pa.id).state == "pending"
    assert db.session.get(type(b), b.id).status == "warned"
    assert history.verify().ok


def test_clerk_may_record_dormancy_only_from_an_import(app, users, make_coop):
    coop = make_coop(status="active")
    with pytest.raises(PermissionDenied):
        ops.record_dormancy(
            coop, users["clerk"], reason="x", legal_ground=None, evidence=EVIDENCE, today=TODAY
        )
    ops.record_dormancy(
        coop,
        users["clerk"],
        reason="Register: Tidak Aktif",
        legal_ground=None,
        evidence=[{"type": "import", "id": 3, "label": "Impor baris 12"}],
        today=TODAY,
    )
    assert coop.status == "dormant"
