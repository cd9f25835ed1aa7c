"""Dormancy rules, verdicts and legal deadlines on their boundaries."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

import pytest

from coop_audit.rules import (
    Evidence,
    RuleSettings,
    add_months,
    assess,
    audit_due,
    deadline_state,
    fiscal_year_of,
    format_years,
    last_closed_fiscal_year,
    last_due_fiscal_year,
    no_receipt_overdue,
    objection_deadline,
    objection_decision_deadline,
    objection_window_over,
    rat_deadline,
    rat_due_fiscal_years,
    revocation_deadline,
)

D = date
TODAY = D(2026, 9, 1)  # due fiscal years: 2025, 2024, 2023
OLD = D(2005, 3, 1)
# A cooperative with no problem at all, audited recently: each test changes one thing.
ALIVE = Evidence(
    bh_date=OLD,
    rat_years_held=frozenset({2023, 2024, 2025}),
    last_rat_year=2025,
    last_business_evidence=D(2026, 6, 1),
    business_active_recent=True,
    office_found=True,
    board_reachable=True,
    books_present=True,
    board_complete=True,
    member_count=40,
    adart_exists=True,
    health_rating="sehat",
    audited_on=D(2026, 8, 20),
)
RAT_ONLY = Evidence(bh_date=OLD, audited_on=D(2026, 8, 20), business_active_recent=True)


def codes(v) -> set[str]:
    return {f.code for f in v.findings}


def test_alive_cooperative_is_healthy():
    v = assess(ALIVE, TODAY)
    assert v.kind == "healthy"
    assert v.findings == []
    assert v.summary == "healthy: no findings"


# ---------------------------------------------------------------- calendar


@pytest.mark.parametrize(
    ("d", "n", "expected"),
    [
        (D(2026, 1, 15), 2, D(2026, 3, 15)),
        (D(2026, 1, 31), 1, D(2026, 2, 28)),
        (D(2024, 1, 31), 1, D(2024, 2, 29)),
        (D(2025, 12, 31), 2, D(2026, 2, 28)),
        (D(2026, 8, 31), 4, D(2026, 12, 31)),
        (D(2026, 10, 31), 4, D(2027, 2, 28)),
        (D(2026, 3, 15), -3, D(2025, 12, 15)),
        (D(2026, 3, 31), -1, D(2026, 2, 28)),
        (D(2026, 5, 5), 0, D(2026, 5, 5)),
        (D(2026, 5, 5), 24, D(2028, 5, 5)),
    ],
)
def test_add_months_clamps_to_month_end(d, n, expected):
    assert add_months(d, n) == expected


@pytest.mark.parametrize(
    ("today", "end_month", "expected"),
    [
        (D(2026, 1, 1), 12, 2025),
        (D(2025, 12, 31), 12, 2024),  # FY 2025 ends today: not closed yet
        (D(2026, 6, 30), 6, 2025),
        (D(2026, 7, 1), 6, 2026),
    ],
)
def test_last_closed_fiscal_year(today, end_month, expected):
    s = RuleSettings(fiscal_year_end_month=end_month)
    assert last_closed_fiscal_year(today, s) == expected


@pytest.mark.parametrize(
    ("d", "end_month", "fy"),
    [(D(2026, 6, 30), 6, 2026), (D(2026, 7, 1), 6, 2027), (D(2026, 12, 31), 12, 2026)],
)
def test_fiscal_year_is_named_after_the_year_it_ends(d, end_month, fy):
    assert fiscal_year_of(d, RuleSettings(fiscal_year_end_month=end_month)) == fy


def test_rat_for_a_fiscal_year_is_due_by_end_of_june_next_year():
    assert rat_deadline(2025) == D(2026, 6, 30)
    assert rat_deadline(2025, RuleSettings(fiscal_year_end_month=6)) == D(2025, 12, 31)
    assert rat_deadline(2025, RuleSettings(rat_grace_months=0)) == D(2025, 12, 31)


@pytest.mark.parametrize(
    ("today", "grace", "expected"),
    [
        (D(2026, 6, 30), 6, [2024, 2023, 2022]),  # FY 2025's RAT may still be held today
        (D(2026, 7, 1), 6, [2025, 2024, 2023]),
        (D(2025, 12, 31), 0, [2024, 2023, 2022]),
        (D(2026, 1, 1), 0, [2025, 2024, 2023]),
    ],
)
def test_rat_due_fiscal_years_shift_on_the_day_after_the_deadline(today, grace, expected):
    s = RuleSettings(rat_grace_months=grace)
    assert rat_due_fiscal_years(today, s) == expected
    assert last_due_fiscal_year(today, s) == expected[0]


@pytest.mark.parametrize(
    ("years", "text"),
    [
        ([2021, 2022, 2023], "2021\u20132023"),
        ([2023], "2023"),
        ([2023, 2021], "2021, 2023"),
        ([2019, 2020, 2022, 2023, 2024], "2019\u20132020, 2022\u20132024"),
        ([], ""),
    ],
)
def test_format_years(years, text):
    assert format_years(years) == text


# ---------------------------------------------------------------- RAT


@pytest.mark.parametrize(
    ("last_rat", "kind", "code"),
    [
        (2025, "healthy", None),
        (2023, "needs_coaching", "rat_missed"),  # exactly three fiscal years back: not dormant
        (2022, "dormancy_evidence", "no_rat"),  # four back: three consecutive missed
        (2018, "dormancy_evidence", "no_rat"),
    ],
)
def test_rat_held_three_years_back_is_not_dormant_four_back_is(last_rat, kind, code):
    held = frozenset(y for y in (2023, 2024, 2025) if y <= last_rat)
    e = replace(ALIVE, rat_years_held=held, last_rat_year=last_rat)
    v = assess(e, TODAY)
    assert v.kind == kind
    if code:
        assert code in codes(v)


def test_register_last_rat_year_alone_is_rat_information():
    e = replace(ALIVE, rat_years_held=frozenset(), last_rat_year=2022, audited_on=None)
    v = assess(e, TODAY)
    assert v.kind == "dormancy_evidence"
    assert str(v.findings[0].text) == "No RAT for fiscal years 2023\u20132025"


def test_run_of_missed_rat_reaches_back_to_the_last_rat_held():
    e = replace(ALIVE, rat_years_held=frozenset(), last_rat_year=2018)
    assert str(assess(e, TODAY).findings[0].text) == "No RAT for fiscal years 2019\u20132025"


def test_audit_that_found_no_rat_and_no_register_year_reports_the_window_only():
    v = assess(RAT_ONLY, TODAY)
    assert str(v.findings[0].text) == "No RAT for fiscal years 2023\u20132025"


@pytest.mark.parametrize(
    ("today", "kind"),
    [
        (D(2026, 6, 30), "needs_coaching"),  # window 2022-2024: FY 2022 held
        (D(2026, 7, 1), "dormancy_evidence"),  # window 2023-2025: nothing held
    ],
)
def test_fiscal_years_not_calendar_windows(today, kind):
    # RAT for FY 2022 was held in calendar year 2023; what counts is the fiscal year.
    e = replace(ALIVE, rat_years_held=frozenset({2022}), last_rat_year=2022)
    assert assess(e, today).kind == kind


@pytest.mark.parametrize(
    ("today", "kind"),
    [(D(2025, 12, 31), "needs_coaching"), (D(2026, 1, 1), "dormancy_evidence")],
)
def test_without_grace_the_window_is_the_last_closed_fiscal_years(today, kind):
    s = RuleSettings(rat_grace_months=0)
    e = replace(ALIVE, rat_years_held=frozenset({2022}), last_rat_year=2022)
    assert assess(e, today, s).kind == kind


def test_rat_held_early_for_a_year_not_yet_due_cancels_the_run():
    e = replace(ALIVE, rat_years_held=frozenset({2025}), last_rat_year=None)
    v = assess(e, D(2026, 3, 1))  # due window 2022-2024, all missed, but FY 2025 already held
    assert v.kind == "needs_coaching"
    assert "no_rat" not in codes(v)


@pytest.mark.parametrize(
    ("missed_years", "threshold", "kind"),
    [
        ({2024}, 3, "needs_coaching"),
        ({2023, 2025}, 3, "needs_coaching"),
        ({2024, 2025}, 3, "needs_coaching"),
        ({2024, 2025}, 2, "dormancy_evidence"),  # offices using 2 years
        ({2023, 2024, 2025}, 3, "dormancy_evidence"),
    ],
)
def test_missed_rat_threshold_is_a_setting(missed_years, threshold, kind):
    held = frozenset({2022, 2023, 2024, 2025} - missed_years)
    e = replace(ALIVE, rat_years_held=held, last_rat_year=None)
    assert assess(e, TODAY, RuleSettings(rat_missing_years=threshold)).kind == kind


def test_one_missed_rat_names_the_year():
    e = replace(ALIVE, rat_years_held=frozenset({2023, 2025}), last_rat_year=2025)
    v = assess(e, TODAY)
    assert [str(f.text) for f in v.findings] == ["RAT not held for fiscal year 2024"]
    assert v.findings[0].legal_ground.startswith("Permenkop 9/2018")


@pytest.mark.parametrize(
    ("bh_date", "kind"),
    [
        (D(2023, 1, 1), "dormancy_evidence"),  # lived through FY 2023-2025 in full
        (D(2023, 1, 2), "needs_coaching"),  # FY 2023 not a full year: only 2 expected RATs
        (D(2025, 1, 1), "needs_coaching"),
    ],
)
def test_young_cooperative_is_not_blamed_for_years_before_it_existed(bh_date, kind):
    e = replace(RAT_ONLY, bh_date=bh_date)
    assert assess(e, TODAY).kind == kind


def test_cooperative_younger_than_its_first_rat_deadline_has_no_rat_finding():
    e = replace(RAT_ONLY, bh_date=D(2026, 2, 1))
    assert assess(e, TODAY).kind == "healthy"


# ---------------------------------------------------------------- business


@pytest.mark.parametrize(
    ("months_ago", "days_extra", "dormant"),
    [(23, 0, False), (24, -1, False), (24, 0, True), (30, 0, True)],
)
def test_young_cooperative_without_business_counts_from_deed_approval(
    months_ago, days_extra, dormant
):
    bh = add_months(TODAY, -months_ago) - timedelta(days=days_extra)
    e = replace(
        ALIVE,
        bh_date=bh,
        rat_years_held=frozenset(),
        last_rat_year=None,
        last_business_evidence=None,
        business_active_recent=False,
    )
    v = assess(e, TODAY)
    assert ("no_business" in codes(v)) is dormant
    assert (v.kind == "dormancy_evidence") is dormant
    if not dormant:
        assert "no_business_yet" in codes(v)
        assert v.kind == "needs_coaching"


def test_founded_23_months_ago_without_business_is_not_dormant():
    e = Evidence(
        bh_date=add_months(TODAY, -23),
        business_active_recent=False,
        office_found=True,
        board_reachable=True,
        member_count=20,
        audited_on=TODAY,
    )
    assert assess(e, TODAY).kind != "dormancy_evidence"


@pytest.mark.parametrize(("today", "dormant"), [(D(2024, 3, 9), False), (D(2024, 3, 10), True)])
def test_no_business_for_two_years_from_last_evidence(today, dormant):
    e = replace(
        ALIVE,
        rat_years_held=frozenset({2020, 2021, 2022, 2023}),
        last_rat_year=2023,
        last_business_evidence=D(2022, 3, 10),
        business_active_recent=None,
        audited_on=None,
    )
    v = assess(e, today)
    assert codes(v) == ({"no_business"} if dormant else set())
    if dormant:
        assert str(v.findings[0].text) == "No business evidence since 2022-03"
        assert v.findings[0].legal_ground.startswith("PP 17/1994 Pasal 3")


def test_recent_business_found_by_audit_outweighs_old_evidence():
    e = replace(ALIVE, last_business_evidence=D(2019, 1, 1), business_active_recent=True)
    assert "no_business" not in codes(assess(e, TODAY))


def test_old_deed_alone_says_nothing_about_business():
    e = replace(ALIVE, last_business_evidence=None, business_active_recent=None)
    assert assess(e, TODAY).kind == "healthy"


def test_audit_without_business_and_without_dates_is_dormancy_evidence():
    e = replace(ALIVE, bh_date=None, last_business_evidence=None, business_active_recent=False)
    v = assess(e, TODAY)
    assert v.kind == "dormancy_evidence"
    assert str(v.findings[0].text) == "No business activity found at the audit of 2026-08-20"


@pytest.mark.parametrize(("years", "dormant"), [(2, True), (3, False)])
def test_no_business_threshold_is_a_setting(years, dormant):
    e = replace(ALIVE, last_business_evidence=D(2024, 3, 1), business_active_recent=False)
    v = assess(e, TODAY, RuleSettings(no_business_years=years))
    assert (v.kind == "dormancy_evidence") is dormant


# ---------------------------------------------------------------- field, members, rating


@pytest.mark.parametrize(
    ("office", "board", "statement", "dormant"),
    [
        (False, False, False, True),
        (False, True, False, False),
        (True, False, False, False),
        (None, False, False, False),
        (None, None, False, False),
        (True, True, True, True),  # village head's statement alone
    ],
)
def test_not_found_in_the_field(office, board, statement, dormant):
    e = replace(ALIVE, office_found=office, board_reachable=board, village_head_statement=statement)
    v = assess(e, TODAY)
    assert (v.kind == "dormancy_evidence") is dormant
    if office is False and board is True:
        assert v.kind == "needs_coaching"


@pytest.mark.parametrize(
    ("bentuk", "members", "dormant"),
    [
        ("primer", 8, True),
        ("primer", 9, False),
        ("primer", 0, True),
        ("sekunder", 2, True),
        ("sekunder", 3, False),
        ("primer", None, False),
    ],
)
def test_members_below_legal_minimum(bentuk, members, dormant):
    e = replace(ALIVE, bentuk=bentuk, member_count=members)
    v = assess(e, TODAY)
    assert ("members_below_minimum" in codes(v)) is dormant
    assert (v.kind == "dormancy_evidence") is dormant


@pytest.mark.parametrize(
    ("rating", "kind"),
    [
        ("sehat", "healthy"),
        ("cukup_sehat", "healthy"),
        (None, "healthy"),
        ("dalam_pengawasan", "needs_coaching"),
        ("dalam_pengawasan_khusus", "needs_coaching"),
    ],
)
def test_weak_health_rating_needs_coaching(rating, kind):
    assert assess(replace(ALIVE, health_rating=rating), TODAY).kind == kind


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"board_complete": False}, "board_incomplete"),
        ({"books_present": False}, "books_missing"),
        ({"adart_exists": False}, "adart_missing"),
    ],
)
def test_organisation_gaps_need_coaching(change, code):
    v = assess(replace(ALIVE, **change), TODAY)
    assert v.kind == "needs_coaching"
    assert codes(v) == {code}


# ---------------------------------------------------------------- verdict


def test_no_audit_and_no_rat_info_is_insufficient_evidence():
    v = assess(Evidence(bh_date=OLD), TODAY)
    assert v.kind == "insufficient_evidence"
    assert v.summary == "insufficient evidence: never audited and no RAT recorded"


def test_dormancy_evidence_wins_over_insufficient_evidence():
    v = assess(Evidence(village_head_statement=True), TODAY)
    assert v.kind == "dormancy_evidence"


def test_summary_explains_a_dormant_cooperative_in_one_line():
    e = replace(
        ALIVE,
        rat_years_held=frozenset(),
        last_rat_year=2020,
        last_business_evidence=D(2022, 3, 10),
        business_active_recent=False,
        office_found=False,
        board_reachable=False,
        health_rating="dalam_pengawasan",
    )
    v = assess(e, D(2024, 9, 1))
    assert v.kind == "dormancy_evidence"
    assert v.summary == (
        "dormant: no RAT for fiscal years 2021\u20132023, no business evidence since 2022-03, "
        "office not found and board unreachable"
    )
    assert "health_rating" in codes(v)  # kept as a finding, not in the one-line reason
    assert v.legal_grounds[0].startswith("Permenkop 9/2018")
    assert all(f.legal_ground for f in v.findings)


def test_every_dormancy_finding_cites_a_legal_ground():
    e = Evidence(
        bh_date=OLD,
        last_rat_year=2010,
        last_business_evidence=D(2012, 1, 1),
        office_found=False,
        board_reachable=False,
        village_head_statement=True,
        member_count=3,
        audited_on=TODAY,
    )
    v = assess(e, TODAY)
    assert codes(v) == {
        "no_rat",
        "no_business",
        "not_found",
        "village_head_statement",
        "members_below_minimum",
    }
    assert all(f.dormancy and f.legal_ground for f in v.findings)
    assert v.label == "Dormancy evidence found"
    assert v.css == "text-bg-danger"


# ---------------------------------------------------------------- deadlines


@pytest.mark.parametrize(
    ("receipt", "deadline"),
    [
        (D(2026, 1, 15), D(2026, 3, 15)),
        (D(2025, 12, 31), D(2026, 2, 28)),
        (D(2027, 12, 31), D(2028, 2, 29)),
    ],
)
def test_objection_deadline_is_two_months_after_receipt(receipt, deadline):
    assert objection_deadline(receipt) == deadline
    assert objection_window_over(receipt, deadline) is False
    assert objection_window_over(receipt, deadline - timedelta(days=1)) is False
    assert objection_window_over(receipt, deadline + timedelta(days=1)) is True


@pytest.mark.parametrize(("months", "deadline"), [(2, D(2026, 3, 15)), (3, D(2026, 4, 15))])
def test_announcement_window_is_its_own_setting(months, deadline):
    s = RuleSettings(announcement_window_months=months)
    assert objection_deadline(D(2026, 1, 15), s, announced=True) == deadline
    assert objection_window_over(D(2026, 1, 15), deadline, s, announced=True) is False
    assert (
        objection_window_over(D(2026, 1, 15), deadline + timedelta(days=1), s, announced=True)
        is True
    )


@pytest.mark.parametrize(
    ("received", "deadline"),
    [(D(2026, 3, 10), D(2026, 4, 10)), (D(2026, 1, 31), D(2026, 2, 28))],
)
def test_objection_decision_within_one_month(received, deadline):
    assert objection_decision_deadline(received) == deadline


@pytest.mark.parametrize(
    ("receipt", "deadline"),
    [(D(2026, 1, 15), D(2026, 5, 15)), (D(2026, 10, 31), D(2027, 2, 28))],
)
def test_revocation_within_four_months_of_receipt(receipt, deadline):
    assert revocation_deadline(receipt) == deadline


@pytest.mark.parametrize(
    ("today", "overdue"),
    [(D(2026, 1, 14), False), (D(2026, 1, 15), False), (D(2026, 1, 16), True)],
)
def test_no_receipt_alert_after_fourteen_days(today, overdue):
    assert no_receipt_overdue(D(2026, 1, 1), today) is overdue


@pytest.mark.parametrize(
    ("today", "state"),
    [
        (D(2026, 3, 1), "open"),
        (D(2026, 3, 8), "due_soon"),
        (D(2026, 3, 15), "due_soon"),
        (D(2026, 3, 16), "overdue"),
    ],
)
def test_deadline_state_for_dashboards(today, state):
    assert deadline_state(D(2026, 3, 15), today) == state


@pytest.mark.parametrize(
    ("last", "status", "today", "verdict", "due"),
    [
        (None, "active", TODAY, None, True),
        (D(2025, 9, 1), "active", D(2026, 9, 1), None, False),
        (D(2025, 9, 1), "active", D(2026, 9, 2), None, True),
        (D(2026, 8, 1), "dormant", TODAY, "insufficient_evidence", True),
        (D(2026, 8, 1), "dormant", TODAY, "dormancy_evidence", False),
        (None, "license_revoked", TODAY, None, False),
    ],
)
def test_audit_due(last, status, today, verdict, due):
    assert audit_due(last, status, today, verdict_kind=verdict) is due


# ---------------------------------------------------------------- settings


def test_settings_defaults_match_the_law():
    s = RuleSettings()
    assert (s.rat_missing_years, s.no_business_years) == (3, 2)
    assert (s.objection_window_months, s.objection_decision_months) == (2, 1)
    assert (s.revocation_deadline_months, s.no_receipt_alert_days) == (4, 14)
    assert (s.audit_interval_months, s.fiscal_year_end_month) == (12, 12)
    assert s.min_members_primer == 9


@pytest.mark.parametrize(
    "bad",
    [
        {"fiscal_year_end_month": 13},
        {"fiscal_year_end_month": 0},
        {"rat_missing_years": 0},
        {"objection_window_months": -1},
        {"no_business_years": True},
    ],
)
def test_settings_refuse_nonsense(bad):
    with pytest.raises(ValueError):
        RuleSettings(**bad)


def test_settings_from_a_settings_table():
    s = RuleSettings.from_mapping(
        {"announcement_window_months": "3", "unrelated": "x", "rat_missing_years": ""}
    )
    assert s.announcement_window_months == 3
    assert s.rat_missing_years == 3
