"""Capital-support scoring: every rank has a stated reason; criteria settings change the list."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from coop_audit.clusters import shortlist as sl

TODAY = date(2026, 12, 3)  # last fiscal year whose RAT is due: 2025


@dataclass(frozen=True)
class Facts:
    audited_on: date | None = date(2026, 5, 1)
    office_found: bool | None = True
    shu_positive: bool | None = True
    health_rating: str | None = None
    rat_last_fiscal_year_held: bool | None = None


def cand(i: int, name: str, **kw) -> sl.Candidate:
    base = {
        "status": "active",
        "last_rat_year": 2025,
        "bh_number": f"{i}/BH/XIV/2010",
        "has_location": True,
    }
    base.update(kw)
    return sl.Candidate(id=i, name=name, **base)


def by_name(rows: list[sl.Scored]) -> dict[str, sl.Scored]:
    return {r.candidate.name: r for r in rows}


def test_rat_criterion_uses_the_last_fiscal_year_whose_rat_is_due():
    s = sl.score(cand(1, "A", last_rat_year=2024), sl.DEFAULT_CRITERIA, TODAY)
    rat = next(r for r in s.results if r.code == "rat")
    assert rat.outcome == sl.NOT_MET
    assert rat.params == {"year": 2025, "last": 2024}
    assert s.failed_required == ["rat"]
    assert "2025" in sl.result_text(rat) and "2024" in sl.result_text(rat)


def test_audit_fact_of_a_held_rat_counts_when_the_register_lags():
    s = sl.score(
        cand(1, "A", last_rat_year=2023, facts=Facts(rat_last_fiscal_year_held=True)),
        sl.DEFAULT_CRITERIA,
        TODAY,
    )
    assert "rat" not in s.failed_required


def test_every_candidate_gets_a_rank_reason_that_names_its_rule():
    rows = sl.rank(
        [
            cand(1, "Beta", facts=Facts()),
            cand(2, "Alfa", facts=Facts()),  # same score as Beta: ordered by name
            cand(3, "Gamma"),  # no audit: office unknown -> fewer points, still qualifies
            cand(4, "Delta", status="dormant"),  # fails a required criterion
            cand(5, "Epsilon", override="exclude", override_reason="double funding"),
            cand(6, "Zeta", status="dormant", override="pin", override_reason="pilot village"),
        ],
        sl.DEFAULT_CRITERIA,
        TODAY,
    )
    order = [r.candidate.name for r in rows]
    assert order == ["Zeta", "Alfa", "Beta", "Gamma", "Delta", "Epsilon"]
    assert [r.rank for r in rows] == [1, 2, 3, 4, 5, 6]
    codes = [r.rank_reason["code"] for r in rows]
    assert codes == ["pinned", "top", "tie", "lower", "not_qualified", "excluded"]
    assert all(sl.rank_reason_text(r.rank_reason) for r in rows)
    r = by_name(rows)
    assert r["Beta"].rank_reason["prev"] == 2
    assert r["Gamma"].rank_reason["prev_score"] == r["Beta"].score > r["Gamma"].score
    assert r["Delta"].rank_reason["failed"] == ["active"]
    assert "pilot village" in sl.rank_reason_text(r["Zeta"].rank_reason)
    assert [x.qualifies for x in rows] == [True, True, True, True, False, False]


def test_unknown_audit_facts_do_not_disqualify_but_a_weak_health_rating_does():
    rows = by_name(
        sl.rank(
            [
                cand(1, "Unaudited"),
                cand(2, "Weak", facts=Facts(health_rating="dalam_pengawasan")),
                cand(3, "Sound", facts=Facts(health_rating="cukup_sehat")),
            ],
            sl.DEFAULT_CRITERIA,
            TODAY,
        )
    )
    assert rows["Unaudited"].qualifies
    office = next(x for x in rows["Unaudited"].results if x.code == "office_found")
    assert office.outcome == sl.UNKNOWN and office.points == 0
    assert not rows["Weak"].qualifies and rows["Weak"].failed_required == ["health"]
    assert rows["Sound"].qualifies


def test_changing_a_criterion_setting_changes_the_list():
    people = [
        cand(1, "Located", facts=Facts()),
        cand(2, "Unlocated", has_location=False, facts=Facts()),
        cand(3, "NoBH", bh_number=None, facts=Facts()),
    ]
    default = by_name(sl.rank(people, sl.DEFAULT_CRITERIA, TODAY))
    assert default["Unlocated"].qualifies and not default["NoBH"].qualifies

    stricter = sl.normalize_criteria(
        {"coordinates": {"required": True}, "legal_entity": {"enabled": False}}
    )
    changed = sl.rank(people, stricter, TODAY)
    result = by_name(changed)
    assert not result["Unlocated"].qualifies
    assert result["NoBH"].qualifies
    assert all(x.code != "legal_entity" for x in result["NoBH"].results)
    assert [x.candidate.name for x in changed][-1] == "Unlocated"


def test_weights_change_the_order():
    a = cand(1, "Alfa", has_location=False, facts=Facts())
    b = cand(2, "Beta", facts=Facts(office_found=False))
    first = sl.rank([a, b], sl.DEFAULT_CRITERIA, TODAY)[0].candidate.name
    heavy_coords = sl.normalize_criteria({"coordinates": {"weight": 5}})
    assert first == "Alfa"  # office (2) outweighs coordinates (1)
    assert sl.rank([a, b], heavy_coords, TODAY)[0].candidate.name == "Beta"


def test_stored_criteria_are_normalised():
    clean = sl.normalize_criteria({"rat": {"weight": "99"}, "active": "junk", "nope": {}})
    assert set(clean) == set(sl.CRITERIA)
    assert clean["rat"]["weight"] == sl.MAX_WEIGHT
    assert clean["active"] == sl.DEFAULT_CRITERIA["active"]
    assert sl.normalize_criteria(None) == sl.DEFAULT_CRITERIA
