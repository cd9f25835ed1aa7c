"""Capital-support shortlist scoring: plain inputs and settings in, a ranked list with reasons out.

The criteria follow the spirit of the state revolving fund (LPDB-KUMKM): active, RAT held for the
last fiscal year, a valid legal entity, a real office, positive results, a health rating of at
least Cukup Sehat where one exists, and a known location. Each is a setting (enabled, required,
weight), because offices weigh them differently. Every candidate carries its per-criterion
outcome and the reason for its rank, so the list can be defended line by line.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any, Protocol

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from .. import rules

MET, NOT_MET, UNKNOWN, NOT_APPLICABLE = "met", "not_met", "unknown", "n/a"

CRITERIA = (
    "active",
    "rat",
    "legal_entity",
    "office_found",
    "shu_positive",
    "health",
    "coordinates",
)

CRITERION_LABELS = {
    "active": _l("Active status"),
    "rat": _l("RAT held for the last fiscal year"),
    "legal_entity": _l("Valid legal entity"),
    "office_found": _l("Office found at the last audit"),
    "shu_positive": _l("Positive SHU (when recorded)"),
    "health": _l("Health rating at least Cukup Sehat (when rated)"),
    "coordinates": _l("Coordinates known"),
}

DEFAULT_CRITERIA: dict[str, dict[str, Any]] = {
    "active": {"enabled": True, "required": True, "weight": 3},
    "rat": {"enabled": True, "required": True, "weight": 3},
    "legal_entity": {"enabled": True, "required": True, "weight": 2},
    "office_found": {"enabled": True, "required": False, "weight": 2},
    "shu_positive": {"enabled": True, "required": False, "weight": 1},
    "health": {"enabled": True, "required": True, "weight": 1},
    "coordinates": {"enabled": True, "required": False, "weight": 1},
}
MAX_WEIGHT = 10
GOOD_RATINGS = frozenset({"sehat", "cukup_sehat"})


class FactsLike(Protocol):
    """What the audits feature knows from a cooperative's latest audit (audits.facts.AuditFacts)."""

    audited_on: date | None
    office_found: bool | None
    shu_positive: bool | None
    health_rating: str | None
    rat_last_fiscal_year_held: bool | None


@dataclass(frozen=True)
class Candidate:
    id: int
    name: str
    status: str
    last_rat_year: int | None
    bh_number: str | None
    has_location: bool
    place: str = ""
    facts: FactsLike | None = None
    override: str | None = None  # "pin" | "exclude"
    override_reason: str = ""


@dataclass
class CriterionResult:
    code: str
    outcome: str
    points: int
    weight: int
    required: bool
    params: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "outcome": self.outcome,
            "points": self.points,
            "weight": self.weight,
            "required": self.required,
            "params": self.params,
        }


@dataclass
class Scored:
    candidate: Candidate
    results: list[CriterionResult]
    score: int
    max_score: int
    failed_required: list[str]
    rank: int = 0
    rank_reason: dict[str, Any] = field(default_factory=dict)

    @property
    def qualifies(self) -> bool:
        if self.candidate.override == "pin":
            return True
        if self.candidate.override == "exclude":
            return False
        return not self.failed_required

    @property
    def group(self) -> int:
        if self.candidate.override == "pin":
            return 0
        if self.candidate.override == "exclude":
            return 3
        return 1 if self.qualifies else 2


def normalize_criteria(value: Any) -> dict[str, dict[str, Any]]:
    """A stored setting made safe: every known criterion present, weights 0..10, flags bool."""
    out: dict[str, dict[str, Any]] = {}
    given = value if isinstance(value, dict) else {}
    for code in CRITERIA:
        base = dict(DEFAULT_CRITERIA[code])
        raw = given.get(code)
        if isinstance(raw, dict):
            for flag in ("enabled", "required"):
                if flag in raw:
                    base[flag] = bool(raw[flag])
            try:
                base["weight"] = max(0, min(MAX_WEIGHT, int(raw.get("weight", base["weight"]))))
            except (TypeError, ValueError):
                pass
        out[code] = base
    return out


def _evaluate(code: str, c: Candidate, rat_year: int) -> tuple[str, dict[str, Any]]:
    f = c.facts
    if code == "active":
        return (MET if c.status == "active" else NOT_MET), {"status": c.status}
    if code == "rat":
        params: dict[str, Any] = {"year": rat_year, "last": c.last_rat_year}
        if (c.last_rat_year is not None and c.last_rat_year >= rat_year) or (
            f is not None and f.rat_last_fiscal_year_held
        ):
            return MET, params
        return NOT_MET, params
    if code == "legal_entity":
        bh = (c.bh_number or "").strip()
        return (MET if bh else NOT_MET), {"bh": bh}
    if code == "office_found":
        if f is None or f.office_found is None:
            return UNKNOWN, {}
        on = f.audited_on.isoformat() if f.audited_on else ""
        return (MET if f.office_found else NOT_MET), {"date": on}
    if code == "shu_positive":
        if f is None or f.shu_positive is None:
            return NOT_APPLICABLE, {}
        return (MET if f.shu_positive else NOT_MET), {}
    if code == "health":
        if f is None or not f.health_rating:
            return NOT_APPLICABLE, {}
        rating = f.health_rating
        return (MET if rating in GOOD_RATINGS else NOT_MET), {"rating": rating}
    if code == "coordinates":
        return (MET if c.has_location else NOT_MET), {}
    raise ValueError(f"unknown criterion {code!r}")


def score(c: Candidate, criteria: dict[str, dict[str, Any]], today: date) -> Scored:
    """One candidate's outcome per enabled criterion, its points and the required ones it fails."""
    criteria = normalize_criteria(criteria)
    rat_year = rules.last_due_fiscal_year(today)
    results: list[CriterionResult] = []
    failed: list[str] = []
    for code in CRITERIA:
        cfg = criteria[code]
        if not cfg["enabled"]:
            continue
        outcome, params = _evaluate(code, c, rat_year)
        weight = cfg["weight"]
        results.append(
            CriterionResult(
                code=code,
                outcome=outcome,
                points=weight if outcome == MET else 0,
                weight=weight,
                required=cfg["required"],
                params=params,
            )
        )
        if outcome == NOT_MET and cfg["required"]:
            failed.append(code)
    return Scored(
        candidate=c,
        results=results,
        score=sum(r.points for r in results),
        max_score=sum(r.weight for r in results),
        failed_required=failed,
    )


def rank(candidates: list[Candidate], criteria: Any, today: date) -> list[Scored]:
    """Order: pinned, then qualified by score, then not qualified, then excluded; ties by name.

    Each row gets a `rank_reason` that names the rule that placed it where it is.
    """
    scored = [score(c, criteria, today) for c in candidates]
    scored.sort(key=lambda s: (s.group, -s.score, s.candidate.name.lower(), s.candidate.id))
    prev: Scored | None = None
    for i, s in enumerate(scored, start=1):
        s.rank = i
        c = s.candidate
        if s.group == 0:
            s.rank_reason = {"code": "pinned", "reason": c.override_reason}
        elif s.group == 3:
            s.rank_reason = {"code": "excluded", "reason": c.override_reason}
        elif s.group == 2:
            s.rank_reason = {"code": "not_qualified", "failed": list(s.failed_required)}
        elif prev is None or prev.group != 1:
            s.rank_reason = {"code": "top", "score": s.score, "max": s.max_score}
        elif prev.score == s.score:
            s.rank_reason = {"code": "tie", "score": s.score, "max": s.max_score, "prev": i - 1}
        else:
            s.rank_reason = {
                "code": "lower",
                "score": s.score,
                "max": s.max_score,
                "prev": i - 1,
                "prev_score": prev.score,
            }
        prev = s
    return scored


# ---------------------------------------------------------------- texts (active locale)

_HEALTH = {
    "sehat": "Sehat",
    "cukup_sehat": "Cukup Sehat",
    "dalam_pengawasan": "Dalam Pengawasan",
    "dalam_pengawasan_khusus": "Dalam Pengawasan Khusus",
}


def criterion_label(code: str) -> str:
    return str(CRITERION_LABELS.get(code, code))


def result_text(r: dict[str, Any] | CriterionResult) -> str:
    """Why a criterion is met or not, as one short sentence."""
    d = r.as_dict() if isinstance(r, CriterionResult) else r
    code, outcome, p = d["code"], d["outcome"], d.get("params") or {}
    met = outcome == MET
    if code == "active":
        from ..labels import STATUS_LABELS

        label = str(STATUS_LABELS.get(p.get("status"), p.get("status")))
        return _("status is %(status)s", status=label)
    if code == "rat":
        if met:
            return _("RAT held for fiscal year %(year)s", year=p["year"])
        if p.get("last"):
            return _(
                "no RAT recorded for fiscal year %(year)s (last: %(last)s)",
                year=p["year"],
                last=p["last"],
            )
        return _("no RAT recorded for fiscal year %(year)s", year=p["year"])
    if code == "legal_entity":
        return (
            _("legal entity %(bh)s", bh=p["bh"])
            if met
            else _("no legal-entity (BH) number recorded")
        )
    if code == "office_found":
        if outcome == UNKNOWN:
            return _("no audit recorded yet")
        if met:
            return _("office found at the audit of %(date)s", date=p.get("date", ""))
        return _("office not found at the audit of %(date)s", date=p.get("date", ""))
    if code == "shu_positive":
        if outcome == NOT_APPLICABLE:
            return _("SHU not recorded")
        return (
            _("positive SHU at the last audit") if met else _("SHU not positive at the last audit")
        )
    if code == "health":
        if outcome == NOT_APPLICABLE:
            return _("not rated (only counts when rated)")
        rating = _HEALTH.get(p.get("rating", ""), p.get("rating", ""))
        if met:
            return _("health rating %(rating)s", rating=rating)
        return _("health rating %(rating)s is below Cukup Sehat", rating=rating)
    if code == "coordinates":
        return _("coordinates known") if met else _("no coordinates in the register")
    return code


def rank_reason_text(rr: dict[str, Any]) -> str:
    code = rr.get("code")
    if code == "pinned":
        return _("Pinned by the office: %(reason)s", reason=rr.get("reason", ""))
    if code == "excluded":
        return _("Excluded by the office: %(reason)s", reason=rr.get("reason", ""))
    if code == "not_qualified":
        failed = ", ".join(criterion_label(c) for c in rr.get("failed", []))
        return _("Not qualified: fails %(criteria)s", criteria=failed)
    if code == "top":
        return _("Highest score among qualified: %(score)s of %(max)s", **_pts(rr))
    if code == "tie":
        return _(
            "%(score)s of %(max)s, same as #%(prev)s; equal scores are ordered by name",
            **_pts(rr),
            prev=rr["prev"],
        )
    if code == "lower":
        return _(
            "%(score)s of %(max)s, fewer points than #%(prev)s (%(prev_score)s)",
            **_pts(rr),
            prev=rr["prev"],
            prev_score=rr["prev_score"],
        )
    return ""


def _pts(rr: dict[str, Any]) -> dict[str, Any]:
    return {"score": rr.get("score", 0), "max": rr.get("max", 0)}
