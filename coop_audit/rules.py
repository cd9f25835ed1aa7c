"""Pure policy: dormancy evidence, verdicts and legal deadlines; plain values and `today` in.

Conventions (thresholds live in `RuleSettings`; every rule takes `today: date`):

Fiscal years
    Fiscal year Y is named after the calendar year in which it *ends*; it ends on the last day of
    `fiscal_year_end_month` (default December, so FY Y = calendar year Y). FY Y is *closed* from
    the day after its end. Its RAT is held after it closes and is due within `rat_grace_months`
    (default 6: by 30 June of Y+1, as Permenkop 9/2018 and the office expect).

"No RAT for N consecutive fiscal years" (default N = 3)
    Only fiscal years whose RAT is *due* (end + grace < today) can count as missed; the last
    closed year is not held against a cooperative while its RAT may still lawfully be held. A
    fiscal year is *expected* only if the deed was approved (`bh_date`) on or before the day it
    began: a young cooperative is not blamed for years it did not live through in full. The
    finding is made when the N most recent due fiscal years are all expected and none has a
    RAT held. Example with defaults: on 2026-09-01 the due years are 2025, 2024, 2023; a
    cooperative whose last RAT was for FY 2023 ("three years back") is not dormant, one whose
    last RAT was for FY 2022 ("four years back") is: "no RAT for fiscal years 2023-2025". On
    2026-03-01 the due years are 2024, 2023, 2022 (FY 2025's RAT may still be held until 30
    June). A RAT already held for a closed-but-not-yet-due year cancels the finding.
    With `rat_grace_months=0` the window is simply the last N closed fiscal years.

    RAT information: `rat_years_held` (fiscal years an audit found a RAT held) joined with the
    register's `last_rat_year` (read as the *fiscal year* of the last RAT held). As soon as any
    RAT information exists (an audit, or a register year), a due, expected year without a held
    RAT counts as missed.

"No real business for M years" (default M = 2, PP 17/1994 Pasal 3)
    Counted from the last business evidence, or, without any, from the deed approval date: a
    cooperative founded 23 months ago without business is not dormant; at 24 months it is.
    Dormant when `today >= start + M years` and the latest audit did not find recent business.
    It needs positive information: a dated business evidence or an audit that found no business.

Not found in the field
    Office not found *and* board unreachable, or a village head's statement of inactivity.

Members below the legal minimum
    Primer: 9 persons (UU 25/1992 Pasal 6 as amended in 2020); sekunder: 3 cooperatives.

Verdict
    `dormancy_evidence` if any dormancy finding; else `insufficient_evidence` when there is no
    audit and no RAT information; else `needs_coaching` if any other finding (a missed RAT that
    is not yet a run of N, a weak health rating, missing books/board/AD-ART, a young cooperative
    without business yet); else `healthy`.

Deadlines (UU 25/1992 Pasal 47, counted from the warning's receipt date, or from the start of a
public announcement when the letter could not be delivered): a deadline date is the last day on
which the act is still on time; it is *over* when `today > deadline`. Months are added by the
calendar with an end-of-month clamp (31 Dec + 2 months = 28/29 Feb).
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass, field, fields
from datetime import date, timedelta
from typing import Any, Literal

from flask_babel import lazy_gettext as _l
from flask_babel import lazy_ngettext as _ln

# Legal grounds cited by findings (Indonesian, as printed in letters).
GROUND_RAT = "Permenkop 9/2018: RAT tidak diselenggarakan 3 tahun buku berturut-turut"
GROUND_RAT_COACHING = "Permenkop 9/2018: kewajiban menyelenggarakan RAT setiap tahun buku"
GROUND_BUSINESS = "PP 17/1994 Pasal 3: tidak melakukan kegiatan usaha 2 tahun berturut-turut"
GROUND_NOT_FOUND = "PP 17/1994 Pasal 3: kelangsungan hidup koperasi tidak dapat diharapkan"
GROUND_MEMBERS = "UU 25/1992 Pasal 6 sebagaimana diubah UU 6/2023: jumlah anggota minimum"
GROUND_ORGANISATION = "UU 25/1992 Pasal 21-38: perangkat organisasi koperasi"
GROUND_ADART = "UU 25/1992 Pasal 8: Anggaran Dasar koperasi"
GROUND_HEALTH = "Permenkop 9/2020: pengawasan dan penilaian kesehatan koperasi"

Kind = Literal["healthy", "needs_coaching", "dormancy_evidence", "insufficient_evidence"]
KINDS: tuple[Kind, ...] = (
    "healthy",
    "needs_coaching",
    "dormancy_evidence",
    "insufficient_evidence",
)
HEALTH_RATINGS = ("sehat", "cukup_sehat", "dalam_pengawasan", "dalam_pengawasan_khusus")
WEAK_RATINGS = frozenset({"dalam_pengawasan", "dalam_pengawasan_khusus"})

KIND_LABELS: dict[str, Any] = {
    "healthy": _l("Healthy"),
    "needs_coaching": _l("Needs coaching"),
    "dormancy_evidence": _l("Dormancy evidence found"),
    "insufficient_evidence": _l("Insufficient evidence"),
}
KIND_CSS: dict[str, str] = {
    "healthy": "text-bg-success",
    "needs_coaching": "text-bg-info",
    "dormancy_evidence": "text-bg-danger",
    "insufficient_evidence": "text-bg-light",
}
# The lowercase word that starts a one-line summary ("dormant: no RAT for ...").
_SUMMARY_PREFIX: dict[str, Any] = {
    "healthy": _l("healthy"),
    "needs_coaching": _l("needs coaching"),
    "dormancy_evidence": _l("dormant"),
    "insufficient_evidence": _l("insufficient evidence"),
}
_NO_FINDINGS = _l("no findings")
HEALTH_LABELS: dict[str, Any] = {
    "sehat": _l("Sound (Sehat)"),
    "cukup_sehat": _l("Fairly sound (Cukup Sehat)"),
    "dalam_pengawasan": _l("Under supervision (Dalam Pengawasan)"),
    "dalam_pengawasan_khusus": _l("Under special supervision (Dalam Pengawasan Khusus)"),
}


@dataclass(frozen=True)
class RuleSettings:
    """Thresholds and durations; offices differ, so each is a setting with the law's default."""

    rat_missing_years: int = 3
    no_business_years: int = 2
    objection_window_months: int = 2
    objection_decision_months: int = 1
    revocation_deadline_months: int = 4
    no_receipt_alert_days: int = 14
    announcement_window_months: int = 2  # some offices use 3
    audit_interval_months: int = 12
    fiscal_year_end_month: int = 12
    rat_grace_months: int = 6  # RAT for FY Y due by end of June Y+1
    min_members_primer: int = 9  # since 2020 (20 before)
    min_members_sekunder: int = 3

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise ValueError(f"{f.name} must be a non-negative integer, got {value!r}")
        if not 1 <= self.fiscal_year_end_month <= 12:
            raise ValueError("fiscal_year_end_month must be 1..12")
        if self.rat_missing_years < 1 or self.no_business_years < 1:
            raise ValueError("rat_missing_years and no_business_years must be at least 1")

    @classmethod
    def from_mapping(cls, values: dict[str, Any]) -> RuleSettings:
        """Build from a settings table (strings allowed); unknown keys are ignored."""
        names = {f.name for f in fields(cls)}
        return cls(**{k: int(v) for k, v in values.items() if k in names and v not in (None, "")})


DEFAULTS = RuleSettings()


@dataclass(frozen=True)
class Evidence:
    """What is known about one cooperative, from the register and its latest audit."""

    bh_date: date | None = None  # approval date of the founding deed
    rat_years_held: frozenset[int] = frozenset()  # fiscal years with a RAT held (audits)
    last_rat_year: int | None = None  # register: fiscal year of the last RAT held
    last_business_evidence: date | None = None
    business_active_recent: bool | None = None  # latest audit: real business recently?
    office_found: bool | None = None
    board_reachable: bool | None = None
    books_present: bool | None = None
    board_complete: bool | None = None
    member_count: int | None = None
    bentuk: Literal["primer", "sekunder"] = "primer"
    adart_exists: bool | None = None
    village_head_statement: bool = False
    health_rating: str | None = None
    audited_on: date | None = None

    @property
    def has_rat_info(self) -> bool:
        return bool(self.rat_years_held) or self.last_rat_year is not None

    def rat_held(self) -> frozenset[int]:
        extra = {self.last_rat_year} if self.last_rat_year is not None else set()
        return frozenset(self.rat_years_held) | extra


@dataclass(frozen=True)
class Finding:
    code: str
    text: Any  # lazy, user-facing
    legal_ground: str
    dormancy: bool


@dataclass(frozen=True)
class Verdict:
    kind: Kind
    findings: list[Finding] = field(default_factory=list)

    @property
    def label(self) -> Any:
        return KIND_LABELS[self.kind]

    @property
    def css(self) -> str:
        return KIND_CSS[self.kind]

    @property
    def dormancy_findings(self) -> list[Finding]:
        return [f for f in self.findings if f.dormancy]

    @property
    def summary(self) -> str:
        """One line, in the active locale: "dormant: no RAT for fiscal years 2021-2023, ..."."""
        shown = self.dormancy_findings or self.findings
        if not shown:
            return f"{_SUMMARY_PREFIX[self.kind]}: {_NO_FINDINGS}"
        reasons = ", ".join(_lower_first(str(f.text)) for f in shown)
        return f"{_SUMMARY_PREFIX[self.kind]}: {reasons}"

    @property
    def legal_grounds(self) -> list[str]:
        seen: list[str] = []
        for f in self.dormancy_findings or self.findings:
            if f.legal_ground not in seen:
                seen.append(f.legal_ground)
        return seen


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:] if text else text


# ---------------------------------------------------------------- calendar helpers


def add_months(d: date, n: int) -> date:
    """`d` plus `n` calendar months (n may be negative), clamped to the month's last day."""
    index = d.year * 12 + (d.month - 1) + n
    year, month = divmod(index, 12)
    month += 1
    return date(year, month, min(d.day, calendar.monthrange(year, month)[1]))


def _month_end(year: int, month: int) -> date:
    return date(year, month, calendar.monthrange(year, month)[1])


def fiscal_year_end(year: int, s: RuleSettings = DEFAULTS) -> date:
    return _month_end(year, s.fiscal_year_end_month)


def fiscal_year_start(year: int, s: RuleSettings = DEFAULTS) -> date:
    return fiscal_year_end(year - 1, s) + timedelta(days=1)


def fiscal_year_of(d: date, s: RuleSettings = DEFAULTS) -> int:
    return d.year if d.month <= s.fiscal_year_end_month else d.year + 1


def last_closed_fiscal_year(today: date, s: RuleSettings = DEFAULTS) -> int:
    """The latest fiscal year whose last day is before `today`."""
    return fiscal_year_of(today, s) - 1


def rat_deadline(fiscal_year: int, s: RuleSettings = DEFAULTS) -> date:
    """Last day on which the RAT for `fiscal_year` is on time."""
    end = fiscal_year_end(fiscal_year, s)
    return _month_end(*_ym(add_months(end, s.rat_grace_months)))


def _ym(d: date) -> tuple[int, int]:
    return d.year, d.month


def last_due_fiscal_year(today: date, s: RuleSettings = DEFAULTS) -> int:
    """The latest fiscal year whose RAT deadline is before `today`."""
    year = last_closed_fiscal_year(today, s)
    while rat_deadline(year, s) >= today:
        year -= 1
    return year


def rat_due_fiscal_years(today: date, s: RuleSettings = DEFAULTS) -> list[int]:
    """The `rat_missing_years` most recent fiscal years whose RAT is due, newest first."""
    last = last_due_fiscal_year(today, s)
    return [last - i for i in range(s.rat_missing_years)]


def format_years(years: list[int] | set[int] | frozenset[int]) -> str:
    """2021, 2022, 2023 -> "2021\u20132023" (en dash); gaps are listed: "2021, 2023"."""
    ordered = sorted(set(years))
    parts: list[str] = []
    start = prev = None
    for y in ordered:
        if start is None:
            start = prev = y
        elif y == prev + 1:
            prev = y
        else:
            parts.append(_span(start, prev))
            start = prev = y
    if start is not None:
        parts.append(_span(start, prev))
    return ", ".join(parts)


EN_DASH = "\u2013"


def _span(a: int, b: int) -> str:
    return str(a) if a == b else f"{a}{EN_DASH}{b}"


# ---------------------------------------------------------------- findings


def _rat_findings(e: Evidence, today: date, s: RuleSettings) -> list[Finding]:
    if not (e.has_rat_info or e.audited_on is not None):
        return []
    held = e.rat_held()
    window = rat_due_fiscal_years(today, s)

    def expected(fy: int) -> bool:
        return e.bh_date is None or e.bh_date <= fiscal_year_start(fy, s)

    window = [fy for fy in window if expected(fy)]
    missed = [fy for fy in window if fy not in held]
    # A RAT already held for a closed year whose RAT is not yet due is a sign of life.
    held_since = any(fy > window[0] for fy in held) if window else False
    if len(window) == s.rat_missing_years and len(missed) == len(window) and not held_since:
        # Extend the run back to the last RAT known to be held, when the register says so.
        run = list(missed)
        if held:
            before = [fy for fy in held if fy < run[-1]]
            if before:
                run = list(range(max(before) + 1, run[0] + 1))
        return [
            Finding(
                "no_rat",
                _ln(
                    "No RAT for fiscal year %(years)s",
                    "No RAT for fiscal years %(years)s",
                    len(run),
                    years=format_years(run),
                ),
                GROUND_RAT,
                True,
            )
        ]
    if missed:
        return [
            Finding(
                "rat_missed",
                _ln(
                    "RAT not held for fiscal year %(years)s",
                    "RAT not held for fiscal years %(years)s",
                    len(missed),
                    years=format_years(missed),
                ),
                GROUND_RAT_COACHING,
                False,
            )
        ]
    return []


def _business_findings(e: Evidence, today: date, s: RuleSettings) -> list[Finding]:
    if e.business_active_recent is True:
        return []
    if e.last_business_evidence is None and e.business_active_recent is not False:
        return []  # nothing says the business stopped
    starts = [d for d in (e.last_business_evidence, e.bh_date) if d is not None]
    if not starts:
        # An audit found no business but nothing dates it: the audit checklist covers the
        # last M years, so the audit itself is the evidence.
        text = (
            _l("No business activity found at the audit of %(date)s", date=e.audited_on.isoformat())
            if e.audited_on is not None
            else _l("No business activity found at the audit")
        )
        return [Finding("no_business", text, GROUND_BUSINESS, True)]
    start = max(starts)
    if today >= add_months(start, 12 * s.no_business_years):
        if e.last_business_evidence is not None and start == e.last_business_evidence:
            text = _l(
                "No business evidence since %(month)s",
                month=e.last_business_evidence.isoformat()[:7],
            )
        else:
            text = _ln(
                "No business activity in the %(num)d year since the deed was approved",
                "No business activity in the %(num)d years since the deed was approved",
                s.no_business_years,
            )
        return [Finding("no_business", text, GROUND_BUSINESS, True)]
    if e.business_active_recent is False:
        return [
            Finding(
                "no_business_yet",
                _l("No business activity yet (deed approved %(date)s)", date=start.isoformat()),
                GROUND_BUSINESS,
                False,
            )
        ]
    return []


def _field_findings(e: Evidence) -> list[Finding]:
    out: list[Finding] = []
    if e.office_found is False and e.board_reachable is False:
        out.append(
            Finding(
                "not_found",
                _l("Office not found and board unreachable"),
                GROUND_NOT_FOUND,
                True,
            )
        )
    if e.village_head_statement:
        out.append(
            Finding(
                "village_head_statement",
                _l("Village head's statement of inactivity"),
                GROUND_NOT_FOUND,
                True,
            )
        )
    return out


def _member_findings(e: Evidence, s: RuleSettings) -> list[Finding]:
    if e.member_count is None:
        return []
    minimum = s.min_members_sekunder if e.bentuk == "sekunder" else s.min_members_primer
    if e.member_count >= minimum:
        return []
    return [
        Finding(
            "members_below_minimum",
            _l(
                "Members below the legal minimum (%(count)d of %(minimum)d)",
                count=e.member_count,
                minimum=minimum,
            ),
            GROUND_MEMBERS,
            True,
        )
    ]


def _coaching_findings(e: Evidence) -> list[Finding]:
    out: list[Finding] = []
    if e.health_rating in WEAK_RATINGS:
        out.append(
            Finding(
                "health_rating",
                _l("Health rating: %(rating)s", rating=HEALTH_LABELS[e.health_rating]),
                GROUND_HEALTH,
                False,
            )
        )
    if e.board_complete is False:
        out.append(Finding("board_incomplete", _l("Board incomplete"), GROUND_ORGANISATION, False))
    if e.books_present is False:
        out.append(Finding("books_missing", _l("Books not present"), GROUND_ORGANISATION, False))
    if e.adart_exists is False:
        out.append(Finding("adart_missing", _l("No AD/ART"), GROUND_ADART, False))
    # Office not found but board reachable (or the reverse) is not dormancy on its own.
    if (e.office_found is False) != (e.board_reachable is False):
        text = (
            _l("Office not found at the address")
            if e.office_found is False
            else _l("Board unreachable")
        )
        out.append(Finding("partly_found", text, GROUND_ORGANISATION, False))
    return out


def assess(e: Evidence, today: date, s: RuleSettings = DEFAULTS) -> Verdict:
    """The verdict on one cooperative's evidence, with every finding and its legal ground."""
    findings = [
        *_rat_findings(e, today, s),
        *_business_findings(e, today, s),
        *_field_findings(e),
        *_member_findings(e, s),
        *_coaching_findings(e),
    ]
    if any(f.dormancy for f in findings):
        kind: Kind = "dormancy_evidence"
    elif e.audited_on is None and not e.has_rat_info:
        kind = "insufficient_evidence"
        findings.append(Finding("no_evidence", _l("Never audited and no RAT recorded"), "", False))
    elif findings:
        kind = "needs_coaching"
    else:
        kind = "healthy"
    return Verdict(kind, findings)


# ---------------------------------------------------------------- deadlines


def objection_deadline(
    receipt_date: date, s: RuleSettings = DEFAULTS, *, announced: bool = False
) -> date:
    """Last day to object; `receipt_date` is the announcement's start when `announced`."""
    months = s.announcement_window_months if announced else s.objection_window_months
    return add_months(receipt_date, months)


def objection_window_over(
    receipt_date: date, today: date, s: RuleSettings = DEFAULTS, *, announced: bool = False
) -> bool:
    return today > objection_deadline(receipt_date, s, announced=announced)


def objection_decision_deadline(objection_received: date, s: RuleSettings = DEFAULTS) -> date:
    return add_months(objection_received, s.objection_decision_months)


def revocation_deadline(receipt_date: date, s: RuleSettings = DEFAULTS) -> date:
    return add_months(receipt_date, s.revocation_deadline_months)


def no_receipt_overdue(issued_on: date, today: date, s: RuleSettings = DEFAULTS) -> bool:
    """A warning with no proof of receipt more than `no_receipt_alert_days` after issue."""
    return today > issued_on + timedelta(days=s.no_receipt_alert_days)


def deadline_state(
    deadline: date, today: date, soon_days: int = 7
) -> Literal["overdue", "due_soon", "open"]:
    """For dashboards: past the deadline, within `soon_days` of it (inclusive), or open."""
    if today > deadline:
        return "overdue"
    if (deadline - today).days <= soon_days:
        return "due_soon"
    return "open"


def audit_due(
    last_audit: date | None,
    status: str,
    today: date,
    s: RuleSettings = DEFAULTS,
    *,
    verdict_kind: str | None = None,
) -> bool:
    """Never audited, last audit more than `audit_interval_months` ago, or evidence pending.

    A revoked licence is out of the campaign: no audit is due.
    """
    if str(status) == "license_revoked":
        return False
    if last_audit is None or verdict_kind == "insufficient_evidence":
        return True
    return today > add_months(last_audit, s.audit_interval_months)
