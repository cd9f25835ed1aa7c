"""Audit operations: the only code that changes audits (drafts, files, submission, amendments).

Each operation checks the actor's role, changes rows, writes the history in the same transaction
and flushes; the view commits once. A submitted audit is never changed (see models/audits.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import func, select

from .. import history, rules
from ..extensions import db
from ..geo import regions
from ..models import Cooperative, User
from ..models.audits import Audit, AuditAmendment, AuditFile
from ..permissions import ADMIN, INSPECTOR, require
from ..timeutil import utcnow
from . import uploads
from .facts import evidence_from, rule_settings, submitted_audits, verdict_reasons
from .forms import RAT_PARTS, RAT_ROWS

RECORDERS = (ADMIN, INSPECTOR)


class AuditInvalid(Exception):
    """The audit cannot be saved or submitted as it is; `errors` maps field -> message."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors


class AuditLocked(Exception):
    """The audit was already submitted: it is append-only."""


@dataclass
class Submitted:
    audit: Audit
    verdict: rules.Verdict
    event: Any
    dormancy_event: Any = None
    proposal: Any = None
    notes: list[str] = field(default_factory=list)


def can_record(user: User | None) -> bool:
    return user is not None and user.role in RECORDERS


def _require_recorder(actor: User | None) -> None:
    require(can_record(actor), _("Only an inspector or an administrator records audits."))


def _require_draft(audit: Audit) -> None:
    if audit.state != "draft":
        raise AuditLocked(
            _(
                "This audit was submitted and can no longer be changed. Record a new audit "
                "or add an amendment with a reason."
            )
        )


def open_draft(coop_id: int, user: User) -> Audit | None:
    return db.session.execute(
        select(Audit)
        .where(
            Audit.cooperative_id == coop_id,
            Audit.state == "draft",
            Audit.created_by_id == user.id,
        )
        .order_by(Audit.id.desc())
    ).scalar()


def start_audit(coop: Cooperative, actor: User, *, today: date) -> Audit:
    """A new draft (or the actor's open draft for this cooperative), pre-filled for the visit."""
    _require_recorder(actor)
    existing = open_draft(coop.id, actor)
    if existing is not None:
        return existing
    s = rule_settings()
    last = rules.last_closed_fiscal_year(today, s)
    audit = Audit(
        cooperative_id=coop.id,
        state="draft",
        created_by_id=actor.id,
        visit_date=today,
        inspectors=actor.full_name + (f" (NIP {actor.nip})" if actor.nip else ""),
        rat=[{"fy": last - i} for i in range(RAT_ROWS)],
    )
    db.session.add(audit)
    db.session.flush()
    return audit


def _check_position(values: dict[str, Any], errors: dict[str, str], audit: Audit) -> None:
    lat = values.get("lat", audit.lat)
    lng = values.get("lng", audit.lng)
    if lat is not None and lng is not None and not regions().in_regency(lat, lng):
        errors["lat"] = _("This position is outside Kabupaten Karanganyar.")
        values.pop("lat", None)
        values.pop("lng", None)


def save_draft(audit: Audit, values: dict[str, Any], actor: User) -> dict[str, str]:
    """Store the given fields of a draft; returns errors for fields that were not stored.

    `values` uses model types; RAT rows come as `rat_<part>_<i>` keys.
    """
    _require_recorder(actor)
    _require_draft(audit)
    errors: dict[str, str] = {}
    values = dict(values)
    if "lat" in values or "lng" in values:
        _check_position(values, errors, audit)
    rat = [dict(r) for r in (audit.rat or [])]
    while len(rat) < RAT_ROWS:
        rat.append({})
    rat_changed = False
    for key in list(values):
        if key.startswith("rat_"):
            _, part, idx = key.split("_")
            value = values.pop(key)
            if part in RAT_PARTS and idx.isdigit() and int(idx) < RAT_ROWS:
                rat[int(idx)][part] = value.isoformat() if isinstance(value, date) else value
                rat_changed = True
    for key, value in values.items():
        if hasattr(Audit, key) and key not in _PROTECTED:
            setattr(audit, key, value)
    if rat_changed:
        audit.rat = rat
    audit.saved_at = utcnow()
    db.session.flush()
    return errors


_PROTECTED = {
    "id",
    "cooperative_id",
    "state",
    "created_by_id",
    "created_at",
    "submitted_by_id",
    "submitted_at",
    "verdict_kind",
    "verdict_summary",
    "verdict_codes",
    "files",
    "amendments",
    "cooperative",
}


def add_files(
    audit: Audit, prepared: list[uploads.Prepared], actor: User, upload_dir: str | Path
) -> tuple[list[AuditFile], list[Path]]:
    """Store checked files on a draft. Returns rows and written paths (the caller deletes the
    paths if the transaction is rolled back)."""
    _require_recorder(actor)
    _require_draft(audit)
    have = db.session.execute(
        select(func.count()).select_from(AuditFile).where(AuditFile.audit_id == audit.id)
    ).scalar_one()
    if have + len(prepared) > uploads.FILES_PER_AUDIT:
        # "files": the upload as a whole (the view shows it at the field that received them).
        raise AuditInvalid(
            {"files": _("At most %(n)d files per audit.", n=uploads.FILES_PER_AUDIT)}
        )
    rows: list[AuditFile] = []
    written: list[Path] = []
    try:
        for p in prepared:
            stored, thumb, paths = uploads.write(p, upload_dir)
            written += paths
            row = AuditFile(
                audit_id=audit.id,
                kind=p.kind,
                stored_name=stored,
                thumb_name=thumb,
                mime=p.mime,
                size=len(p.data),
                sha256=p.sha256,
                display_name=p.display_name,
                width=p.width,
                height=p.height,
                exif_lat=p.exif_lat,
                exif_lng=p.exif_lng,
                exif_taken_at=p.exif_taken_at,
                uploaded_by_id=actor.id,
            )
            db.session.add(row)
            rows.append(row)
        # GPS from a photo's EXIF when the inspector gave none and it lies in the regency.
        if audit.lat is None or audit.lng is None:
            for p in prepared:
                if p.exif_lat is not None and regions().in_regency(p.exif_lat, p.exif_lng):
                    audit.lat, audit.lng = p.exif_lat, p.exif_lng
                    break
        audit.saved_at = utcnow()
        db.session.flush()
    except Exception:
        uploads.remove(written)
        raise
    return rows, written


def delete_file(f: AuditFile, actor: User, upload_dir: str | Path) -> list[Path]:
    """Remove a file from a draft; returns the paths to delete after the commit."""
    _require_recorder(actor)
    _require_draft(f.audit)
    paths = [uploads.path_of(upload_dir, f.stored_name)]
    if f.thumb_name:
        paths.append(uploads.path_of(upload_dir, f.thumb_name))
    db.session.delete(f)
    db.session.flush()
    return paths


def required_errors(audit: Audit, today: date) -> dict[str, str]:
    errors: dict[str, str] = {}
    if audit.visit_date is None:
        errors["visit_date"] = _("Enter the visit date.")
    elif audit.visit_date > today:
        errors["visit_date"] = _("This date is in the future.")
    if not (audit.inspectors or "").strip():
        errors["inspectors"] = _("Name the inspectors present.")
    if audit.office_found is None:
        errors["office_found"] = _("Say whether the office was found.")
    if audit.board_reachable is None:
        errors["board_reachable"] = _("Say whether the board was reachable.")
    if audit.business_active is None:
        errors["business_active"] = _("Say whether there was real business activity.")
    if not (audit.findings or "").strip():
        errors["findings"] = _("Write the findings.")
    if (audit.lat is None) != (audit.lng is None):
        errors["lat"] = _("Enter both latitude and longitude, or neither.")
    elif audit.lat is not None and not regions().in_regency(audit.lat, audit.lng):
        errors["lat"] = _("This position is outside Kabupaten Karanganyar.")
    if audit.village_head_statement and audit.village_head_statement_date is None:
        errors["village_head_statement_date"] = _("Enter the date of the village head's statement.")
    return errors


def _evidence_item(audit: Audit) -> dict[str, Any]:
    return {
        "type": "audit",
        "audit_id": audit.id,
        "visit_date": audit.visit_date.isoformat() if audit.visit_date else None,
        "files": [{"id": f.id, "sha256": f.sha256, "kind": f.kind} for f in audit.files],
    }


def shows_life(audit: Audit, verdict: rules.Verdict) -> bool:
    """Evidence of life: no dormancy finding, office or board found, and business or a RAT."""
    if verdict.dormancy_findings:
        return False
    found = audit.office_found is True or audit.board_reachable is True
    return found and (audit.business_active is True or bool(audit.rat_years_held))


def submit_audit(
    audit: Audit, actor: User, *, today: date, field_errors: dict[str, str] | None = None
) -> Submitted:
    """Submit a draft: it becomes append-only, its verdict is computed and recorded, and the
    workflow follows (active -> dormant on dormancy evidence; evidence of life on a dormant or
    warned cooperative -> a reactivation proposal for the head).

    `field_errors` are the entries that could not be read or stored: the refusal lists them
    together with every required answer still missing, so one answer shows all there is to fix.
    """
    from ..sanctions import operations as sanctions
    from ..workflow import IllegalMove, can_propose

    _require_recorder(actor)
    _require_draft(audit)
    # An entry that did not parse kept the stored value; its own message is the one that counts.
    errors = {**required_errors(audit, today), **(field_errors or {})}
    if errors:
        raise AuditInvalid(errors)
    coop = audit.cooperative
    s = rule_settings()
    others = [a for a in submitted_audits([coop.id])[coop.id] if a.id != audit.id]
    audits = sorted([audit, *others], key=lambda a: (a.visit_date, a.id), reverse=True)
    verdict = rules.assess(evidence_from(coop, audits), today, s)
    with force_locale("id"):  # recorded text is the office's language
        summary = verdict.summary
        texts = [str(f.text) for f in verdict.findings]
    grounds = "; ".join(verdict.legal_grounds)
    # Everything is set before the one flush: after it, the audit is append-only.
    audit.state = "submitted"
    audit.submitted_by_id = actor.id
    audit.submitted_at = utcnow()
    audit.verdict_kind = verdict.kind
    audit.verdict_summary = summary
    audit.verdict_codes = [f.code for f in verdict.findings]
    db.session.flush()
    event = history.record(
        "audit_submitted",
        cooperative_id=coop.id,
        actor=actor,
        reason=summary,
        legal_ground=grounds or None,
        evidence=[_evidence_item(audit)],
        data={
            "audit_id": audit.id,
            "verdict": verdict.kind,
            "findings": [f.code for f in verdict.findings],
            "finding_texts": texts,
            "today": today.isoformat(),
        },
    )
    result = Submitted(audit=audit, verdict=verdict, event=event)

    if verdict.kind == "dormancy_evidence" and coop.status == "active":
        if can_propose(actor.role, "record_dormancy"):
            # The status box shows this beside the verdict badge: the reasons, not the kind.
            reasons = verdict_reasons(summary)
            result.dormancy_event = sanctions.record_dormancy(
                coop,
                actor,
                reason=reasons[:1].upper() + reasons[1:],
                legal_ground=grounds or None,
                evidence=[_evidence_item(audit)],
                today=today,
            )
        else:
            result.notes.append(_("Dormancy evidence found: an inspector must record dormancy."))
    elif coop.status in ("dormant", "warned") and shows_life(audit, verdict):
        if not can_propose(actor.role, "reactivate"):
            result.notes.append(
                _("Evidence of life found: an inspector must propose the reactivation.")
            )
        elif sanctions.pending_proposal(coop.id) is not None:
            result.notes.append(
                _("Evidence of life found, but a proposal is already waiting for sign-off.")
            )
        else:
            with force_locale("id"):
                reason = _(
                    "Audit of %(date)s found the cooperative alive: %(summary)s",
                    date=audit.visit_date.isoformat(),
                    summary=verdict_reasons(summary),
                )
            try:
                result.proposal = sanctions.propose(
                    coop,
                    "reactivate",
                    actor,
                    reason=reason,
                    today=today,
                    evidence=[_evidence_item(audit)],
                )
            except (IllegalMove, sanctions.WorkflowError) as e:
                result.notes.append(str(getattr(e, "message", None) or e))
    return result


def amend_audit(audit: Audit, actor: User, *, reason: str, note: str) -> AuditAmendment:
    """Add a correction note to a submitted audit; the audit itself stays as submitted."""
    _require_recorder(actor)
    errors = {}
    if audit.state != "submitted":
        errors["reason"] = _("A draft can still be edited; amendments are for submitted audits.")
    if not (reason or "").strip():
        errors["reason"] = _("Give the reason for the amendment.")
    if not (note or "").strip():
        errors["note"] = _("Write the correction.")
    if errors:
        raise AuditInvalid(errors)
    amendment = AuditAmendment(
        audit_id=audit.id, actor_id=actor.id, reason=reason.strip(), note=note.strip()
    )
    db.session.add(amendment)
    db.session.flush()
    history.record(
        "audit_amended",
        cooperative_id=audit.cooperative_id,
        actor=actor,
        reason=reason.strip(),
        data={"audit_id": audit.id, "amendment_id": amendment.id, "note": note.strip()},
    )
    return amendment


def discard_draft(audit: Audit, actor: User, upload_dir: str | Path) -> list[Path]:
    """Delete a draft and its files (returns paths to delete after commit)."""
    _require_recorder(actor)
    _require_draft(audit)
    paths: list[Path] = []
    for f in list(audit.files):
        paths += delete_file(f, actor, upload_dir)
    db.session.delete(audit)
    db.session.flush()
    return paths
