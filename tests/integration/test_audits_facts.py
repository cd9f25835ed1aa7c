"""latest_facts and verdicts_for: batch reads over submitted audits."""

from __future__ import annotations

from datetime import date

from sqlalchemy import event

from coop_audit.audits.facts import AuditFacts, latest_facts, verdict_for, verdicts_for
from coop_audit.extensions import db
from coop_audit.models.audits import Audit


def _audit(coop, visit, state="submitted", **kw):
    a = Audit(cooperative_id=coop.id, state=state, visit_date=visit, **kw)
    db.session.add(a)
    db.session.flush()
    return a


def test_latest_facts_takes_the_newest_submitted_audit_and_skips_drafts(make_coop):
    a, b, never = make_coop(), make_coop(), make_coop()
    _audit(a, date(2024, 5, 1), office_found=False, shu_amount=-5, health_rating="sehat")
    _audit(
        a,
        date(2025, 6, 1),
        office_found=True,
        shu_amount=1_000_000,
        health_rating="dalam_pengawasan",
        rat=[{"fy": 2023, "held": True}, {"fy": 2024, "held": False}],
    )
    _audit(a, date(2026, 1, 1), state="draft", office_found=False)
    _audit(b, date(2025, 1, 1), office_found=None, shu_amount=None, health_rating="bogus")
    db.session.commit()

    facts = latest_facts([a.id, b.id, never.id])

    assert set(facts) == {a.id, b.id}
    assert facts[a.id] == AuditFacts(
        audited_on=date(2025, 6, 1),
        office_found=True,
        shu_positive=True,
        health_rating="dalam_pengawasan",
        rat_last_fiscal_year_held=False,
    )
    assert facts[b.id] == AuditFacts(date(2025, 1, 1), None, None, None, None)
    assert latest_facts([]) == {}


def test_latest_facts_is_one_query(app, make_coop):
    coops = [make_coop() for _ in range(5)]
    for c in coops:
        _audit(c, date(2025, 1, 1), office_found=True)
    db.session.commit()
    ids = [c.id for c in coops]
    statements = []
    event.listen(db.engine, "before_cursor_execute", lambda *a: statements.append(a[2]))
    latest_facts(ids)
    assert len(statements) == 1


def test_verdicts_for_many_cooperatives_uses_one_query(app, make_coop):
    coops = [make_coop(last_rat_year=2019) for _ in range(6)]
    _audit(coops[0], date(2026, 2, 1), office_found=False, board_reachable=False)
    db.session.commit()
    statements = []
    event.listen(db.engine, "before_cursor_execute", lambda *a: statements.append(a[2]))
    verdicts = verdicts_for(coops, date(2026, 3, 1))
    audit_queries = [s for s in statements if "FROM audit" in s]
    assert len(audit_queries) == 1
    assert {v.kind for v in verdicts.values()} == {"dormancy_evidence"}
    codes = {f.code for f in verdicts[coops[0].id].findings}
    assert {"no_rat", "not_found"} <= codes


def test_verdict_for_a_never_audited_cooperative_without_rat_is_insufficient(make_coop):
    coop = make_coop(last_rat_year=None)
    assert verdict_for(coop, date(2026, 3, 1)).kind == "insufficient_evidence"


def test_a_rat_held_in_an_audit_counts_with_the_register_year(make_coop):
    coop = make_coop(last_rat_year=2021)
    _audit(
        coop,
        date(2026, 2, 1),
        office_found=True,
        board_reachable=True,
        business_active=True,
        rat=[{"fy": 2024, "held": True}],
    )
    db.session.commit()
    v = verdict_for(coop, date(2026, 3, 1))
    assert v.kind in ("healthy", "needs_coaching")
    assert not v.dormancy_findings
