"""Read-only facts from submitted audits, for other features and for the verdict.

`latest_facts(ids)` -> the latest submitted audit's key facts per cooperative (one query);
`verdict_for(coop, today)` / `verdicts_for(coops, today)` -> rules.Verdict built from the
register fields plus the submitted audits (batch: one query for any number of cooperatives).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from functools import cache
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import lazyload

from .. import rules
from ..extensions import db
from ..models.audits import Audit

HEALTH_RATINGS = rules.HEALTH_RATINGS


@dataclass(frozen=True)
class AuditFacts:
    """Key facts of a cooperative's latest submitted audit."""

    audited_on: date | None
    office_found: bool | None
    shu_positive: bool | None
    # 'sehat', 'cukup_sehat', 'dalam_pengawasan', 'dalam_pengawasan_khusus' or None
    health_rating: str | None
    # Was a RAT held for the most recent fiscal year the audit checked?
    rat_last_fiscal_year_held: bool | None


def _latest_submitted_subquery(coop_ids: list[int]):
    ranked = (
        select(
            Audit.id.label("audit_id"),
            func.row_number()
            .over(
                partition_by=Audit.cooperative_id,
                order_by=(Audit.visit_date.desc(), Audit.id.desc()),
            )
            .label("rn"),
        )
        .where(Audit.state == "submitted", Audit.cooperative_id.in_(coop_ids))
        .subquery()
    )
    return select(ranked.c.audit_id).where(ranked.c.rn == 1)


def _last_rat_held(rat: Any) -> bool | None:
    rows = [r for r in rat or [] if r.get("fy")]
    if not rows:
        return None
    newest = max(rows, key=lambda r: int(r["fy"]))
    held = newest.get("held")
    return None if held is None else bool(held)


def facts_of(a: Audit) -> AuditFacts:
    return AuditFacts(
        audited_on=a.visit_date,
        office_found=a.office_found,
        shu_positive=None if a.shu_amount is None else a.shu_amount > 0,
        health_rating=a.health_rating if a.health_rating in HEALTH_RATINGS else None,
        rat_last_fiscal_year_held=_last_rat_held(a.rat),
    )


def latest_facts(coop_ids: list[int]) -> dict[int, AuditFacts]:
    """The latest submitted audit per cooperative (one query); ids never audited are absent."""
    ids = sorted({int(i) for i in coop_ids})
    if not ids:
        return {}
    out: dict[int, AuditFacts] = {}
    for chunk_start in range(0, len(ids), 5000):  # keep the IN list within driver limits
        chunk = ids[chunk_start : chunk_start + 5000]
        rows = db.session.execute(
            select(
                Audit.cooperative_id,
                Audit.visit_date,
                Audit.office_found,
                Audit.shu_amount,
                Audit.health_rating,
                Audit.rat,
            ).where(Audit.id.in_(_latest_submitted_subquery(chunk)))
        ).all()
        for coop_id, visit, office, shu, rating, rat in rows:
            out[coop_id] = AuditFacts(
                audited_on=visit,
                office_found=office,
                shu_positive=None if shu is None else shu > 0,
                health_rating=rating if rating in HEALTH_RATINGS else None,
                rat_last_fiscal_year_held=_last_rat_held(rat),
            )
    return out


# ---------------------------------------------------------------- verdicts


def rule_settings() -> rules.RuleSettings:
    """The office's thresholds: a "rules" dict setting and/or "rules.<name>" keys, if registered.

    Settings nobody registered fall back to the law's defaults (rules.DEFAULTS).
    """
    from dataclasses import fields

    from .. import settings

    values: dict[str, Any] = {}
    try:
        values.update(settings.get("rules") or {})
    except (KeyError, TypeError, ValueError):
        pass
    for f in fields(rules.RuleSettings):
        try:
            values[f.name] = settings.get(f"rules.{f.name}")
        except KeyError:
            continue
    try:
        return rules.RuleSettings.from_mapping(values)
    except (TypeError, ValueError):
        return rules.DEFAULTS


def evidence_from(coop: Any, audits: list[Audit]) -> rules.Evidence:
    """Register fields + submitted audits (newest first) -> rules.Evidence."""
    latest = audits[0] if audits else None
    rat_held: set[int] = set()
    business_dates: list[date] = []
    statement = False
    for a in audits:
        rat_held |= a.rat_years_held
        statement = statement or bool(a.village_head_statement and a is latest)
        if a.business_active:
            business_dates.append(a.business_last_date or a.visit_date)
        elif a.business_last_date is not None:
            business_dates.append(a.business_last_date)
    member_count = coop.member_count
    if latest is not None and latest.member_count is not None:
        member_count = latest.member_count
    return rules.Evidence(
        bh_date=coop.bh_date,
        rat_years_held=frozenset(rat_held),
        last_rat_year=coop.last_rat_year,
        last_business_evidence=max((d for d in business_dates if d), default=None),
        business_active_recent=latest.business_active if latest is not None else None,
        office_found=latest.office_found if latest is not None else None,
        board_reachable=latest.board_reachable if latest is not None else None,
        books_present=latest.books_present if latest is not None else None,
        board_complete=latest.board_complete if latest is not None else None,
        member_count=member_count,
        bentuk="sekunder" if coop.bentuk == "sekunder" else "primer",
        adart_exists=latest.adart_exists if latest is not None else None,
        village_head_statement=statement,
        health_rating=latest.health_rating if latest is not None else None,
        audited_on=latest.visit_date if latest is not None else None,
    )


def submitted_audits(coop_ids: Iterable[int]) -> dict[int, list[Audit]]:
    """All submitted audits of these cooperatives, newest first (one query per 5000 ids)."""
    ids = sorted({int(i) for i in coop_ids})
    out: dict[int, list[Audit]] = {i: [] for i in ids}
    for start in range(0, len(ids), 5000):
        chunk = ids[start : start + 5000]
        rows = db.session.execute(
            select(Audit)
            .options(lazyload(Audit.cooperative))
            .where(Audit.state == "submitted", Audit.cooperative_id.in_(chunk))
            .order_by(Audit.cooperative_id, Audit.visit_date.desc(), Audit.id.desc())
        ).scalars()
        for a in rows:
            out[a.cooperative_id].append(a)
    return out


def verdicts_for(
    coops: Iterable[Any], today: date, s: rules.RuleSettings | None = None
) -> dict[int, rules.Verdict]:
    """Verdicts for many cooperatives with one audit query (no query per cooperative)."""
    coops = list(coops)
    s = s or rule_settings()
    audits = submitted_audits(c.id for c in coops)
    return {c.id: rules.assess(evidence_from(c, audits.get(c.id, [])), today, s) for c in coops}


def verdict_for(coop: Any, today: date, s: rules.RuleSettings | None = None) -> rules.Verdict:
    return verdicts_for([coop], today, s)[coop.id]


# ---------------------------------------------------------------- verdict wording


@cache
def _summary_prefixes() -> frozenset[str]:
    """The "<kind>:" words rules.Verdict.summary starts with, in every UI language (stored
    summaries are Indonesian; a live one follows the user's language). Computed once per
    process: switching locales reloads catalogs, and a register page asks for 50 badges."""
    from flask_babel import force_locale

    prefixes: set[str] = set()
    for locale in ("id", "en"):
        with force_locale(locale):
            prefixes.update(str(p) for p in getattr(rules, "_SUMMARY_PREFIX", {}).values())
    return frozenset(prefixes)


def verdict_reasons(summary: str | None) -> str:
    """A verdict summary without its leading kind word, to follow the kind's badge.

    "tidak aktif: tidak menyelenggarakan RAT ..." next to the badge "Ditemukan bukti tidak
    aktif" read "... tidak aktif tidak aktif: ..."; the badge already says the kind.
    """
    text = (summary or "").strip()
    head, sep, rest = text.partition(": ")
    if sep and head.strip() in _summary_prefixes():
        return rest.strip()
    return text


def verdict_line(label: Any, summary: str | None) -> str:
    """The verdict as one line: "Dormancy evidence found: no RAT for fiscal years ..."."""
    reasons = verdict_reasons(summary)
    return f"{label}: {reasons}" if reasons else str(label)
