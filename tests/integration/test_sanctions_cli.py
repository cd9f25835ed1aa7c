"""`flask workflow ...` and `flask history verify` on a real database."""

from __future__ import annotations

import json
from datetime import date

from sqlalchemy import func, select, text

from coop_audit.extensions import db
from coop_audit.models import Cooperative, HistoryEvent
from coop_audit.models.workflow import Proposal, Reminder
from coop_audit.sanctions import operations as ops
from tests.integration.sanctions_helpers import add_warning_letter

TODAY = date(2026, 6, 1)


def _pending_warning(make_coop, users):
    coop = make_coop(status="dormant")
    p = ops.propose(coop, "warn", users["inspector"], reason="Dorman", today=TODAY)
    db.session.commit()
    return coop, p


def test_clerk_cannot_sign_on_the_command_line(runner, users, make_coop):
    coop, p = _pending_warning(make_coop, users)
    result = runner.invoke(args=["workflow", "sign", str(p.id), "--as", "clerk"])
    assert result.exit_code == 1
    assert "Kepala Dinas" in result.output or "head" in result.output
    assert db.session.get(Cooperative, coop.id).status == "dormant"


def test_proposer_cannot_sign_on_the_command_line(runner, users, make_coop):
    coop, p = _pending_warning(make_coop, users)
    p.proposed_by_id = users["head"].id
    db.session.commit()
    result = runner.invoke(args=["workflow", "sign", str(p.id), "--as", "head"])
    assert result.exit_code == 1
    assert "sendiri" in result.output


def test_head_signs_on_the_command_line(runner, users, make_coop):
    coop, p = _pending_warning(make_coop, users)
    result = runner.invoke(
        args=["workflow", "sign", str(p.id), "--as", "head", "--today", "2026-06-02"]
    )
    assert result.exit_code == 0, result.output
    db.session.expire_all()
    assert db.session.get(Cooperative, coop.id).status == "warned"


def test_sign_with_bad_input_says_which(runner, users):
    assert (
        "--today"
        in runner.invoke(
            args=["workflow", "sign", "1", "--as", "head", "--today", "kemarin"]
        ).output
    )
    assert "nobody" in runner.invoke(args=["workflow", "sign", "1", "--as", "nobody"]).output
    assert runner.invoke(args=["workflow", "sign", "999", "--as", "head"]).exit_code == 1


def test_sweep_is_idempotent_and_never_signs(runner, users, make_coop):
    ready = make_coop(status="warned", name="Koperasi Siap Cabut")
    add_warning_letter(
        ready, users["head"], issued_on=date(2026, 1, 2), receipt_date=date(2026, 1, 10)
    )
    silent = make_coop(status="warned", name="Koperasi Tanpa Tanda Terima")
    add_warning_letter(silent, users["head"], issued_on=date(2026, 5, 1))
    db.session.commit()
    first = runner.invoke(args=["workflow", "sweep", "--today", "2026-06-01", "--json"])
    assert first.exit_code == 0, first.output
    out = json.loads(first.output)
    assert len(out["proposals_new"]) == 1 and out["reminders_new"] >= 2
    second = json.loads(
        runner.invoke(args=["workflow", "sweep", "--today", "2026-06-01", "--json"]).output
    )
    assert second["reminders_new"] == 0 and second["proposals_new"] == []
    db.session.expire_all()
    assert db.session.get(Cooperative, ready.id).status == "warned"
    proposal = db.session.execute(select(Proposal)).scalar_one()
    assert proposal.state == "pending" and proposal.by_sweep
    keys = db.session.execute(select(Reminder.key)).scalars().all()
    assert len(keys) == len(set(keys)) == out["reminders_new"]


def test_diagram_prints_mermaid_source(runner):
    result = runner.invoke(args=["workflow", "diagram", "--current", "warned"])
    assert result.exit_code == 0
    assert result.output.startswith("stateDiagram-v2")
    assert "warned --> license_revoked" in result.output
    assert "class warned current" in result.output


def test_history_verify_after_seed_then_names_a_tampered_row(app, runner):
    from coop_audit.demo import seed

    seed(60, 15, 7, today=date(2026, 6, 1))
    db.session.commit()
    assert db.session.execute(select(func.count()).select_from(Cooperative)).scalar_one() == 60
    moved = db.session.execute(
        select(HistoryEvent.id).where(HistoryEvent.kind == "signed").order_by(HistoryEvent.id)
    ).scalars()
    target = next(iter(moved))
    ok = runner.invoke(args=["history", "verify"])
    assert ok.exit_code == 0, ok.output
    db.session.execute(
        text("UPDATE history_event SET reason = 'diubah diam-diam' WHERE id = :id"), {"id": target}
    )
    db.session.commit()
    bad = runner.invoke(args=["history", "verify"])
    assert bad.exit_code != 0
    assert f"history row {target} " in bad.output
