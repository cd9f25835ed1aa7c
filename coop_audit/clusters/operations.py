"""Cluster taxonomy, bulk cluster assignment, shortlist overrides and snapshots: the only writes.

Each operation checks the acting user's role, changes rows, writes the history row(s) in the same
transaction and flushes; the caller (view or CLI) commits once.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import func, select, update

from .. import history, settings
from ..extensions import db
from ..models import Cluster, Cooperative, User
from ..models.clusters import Shortlist, ShortlistEntry, ShortlistOverride
from ..permissions import ADMIN, CLERK, HEAD, INSPECTOR, require
from ..registry.query import RegisterFilter
from ..timeutil import utcnow
from . import shortlist as sl
from .queries import load_facts

TAXONOMY_EDITORS = (ADMIN,)
ASSIGNERS = (ADMIN, CLERK, INSPECTOR)
SHORTLISTERS = (ADMIN, HEAD, INSPECTOR)
CRITERIA_KEY = "shortlist.criteria"

_CODE = re.compile(r"^[a-z0-9][a-z0-9-]{0,39}$")
_COLOR = re.compile(r"^#[0-9a-fA-F]{6}$")


class ClusterError(Exception):
    """Bad input or a refused change; `field` names the form field it concerns."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


def _can(actor: User | None, roles: tuple[str, ...]) -> bool:
    return actor is None or actor.role in roles  # None: the CLI, run by the server's operator


# ---------------------------------------------------------------- taxonomy


def _check_cluster_values(name: str, color: str, cluster_id: int | None = None) -> tuple[str, str]:
    name = " ".join((name or "").split())
    color = (color or "").strip()
    if not name or len(name) > 120:
        raise ClusterError("name", _("The name is required (at most 120 characters)."))
    if not _COLOR.match(color):
        raise ClusterError("color", _("The colour must look like #1a2b3c."))
    clash = db.session.execute(
        select(Cluster.id).where(func.lower(Cluster.name) == name.lower())
    ).scalar_one_or_none()
    if clash is not None and clash != cluster_id:
        raise ClusterError("name", _("Another cluster already has this name."))
    return name, color.lower()


def create_cluster(code: str, name: str, color: str, actor: User | None) -> Cluster:
    require(_can(actor, TAXONOMY_EDITORS), _("Only an administrator may edit the clusters."))
    code = (code or "").strip().lower()
    if not _CODE.match(code):
        raise ClusterError(
            "code", _("The code uses lower-case letters, digits and '-' (at most 40).")
        )
    if db.session.execute(select(Cluster.id).where(Cluster.code == code)).first():
        raise ClusterError("code", _("Another cluster already has this code."))
    name, color = _check_cluster_values(name, color)
    last = db.session.execute(select(func.max(Cluster.sort_order))).scalar_one()
    cluster = Cluster(code=code, name=name, color=color, sort_order=(last or 0) + 1, active=True)
    db.session.add(cluster)
    db.session.flush()
    history.record(
        "cluster_taxonomy_changed",
        actor=actor,
        data={"action": "created", "code": code, "name": name, "color": color},
    )
    return cluster


def update_cluster(
    cluster: Cluster, name: str, color: str, active: bool, actor: User | None
) -> dict[str, Any]:
    require(_can(actor, TAXONOMY_EDITORS), _("Only an administrator may edit the clusters."))
    name, color = _check_cluster_values(name, color, cluster.id)
    changes = {}
    for attr, value in (("name", name), ("color", color), ("active", bool(active))):
        if getattr(cluster, attr) != value:
            changes[attr] = [getattr(cluster, attr), value]
            setattr(cluster, attr, value)
    if changes:
        db.session.flush()
        history.record(
            "cluster_taxonomy_changed",
            actor=actor,
            data={"action": "changed", "code": cluster.code, "changes": changes},
        )
    return changes


def move_cluster(cluster: Cluster, direction: str, actor: User | None) -> None:
    """Swap places with the neighbour above ("up") or below ("down") in the display order."""
    require(_can(actor, TAXONOMY_EDITORS), _("Only an administrator may edit the clusters."))
    ordered = list(
        db.session.execute(select(Cluster).order_by(Cluster.sort_order, Cluster.name)).scalars()
    )
    for i, c in enumerate(ordered):  # normalise 0..n-1 first: seeded orders may repeat
        c.sort_order = i
    i = ordered.index(cluster)
    j = i - 1 if direction == "up" else i + 1
    if 0 <= j < len(ordered):
        ordered[i].sort_order, ordered[j].sort_order = j, i
    db.session.flush()


def delete_cluster(cluster: Cluster, actor: User | None) -> None:
    require(_can(actor, TAXONOMY_EDITORS), _("Only an administrator may edit the clusters."))
    used = db.session.execute(
        select(func.count()).select_from(Cooperative).where(Cooperative.cluster_id == cluster.id)
    ).scalar_one()
    if used:
        raise ClusterError(
            "cluster",
            _(
                "%(name)s is the cluster of %(n)s cooperative(s) and cannot be deleted; "
                "move them to another cluster first, or deactivate it.",
                name=cluster.name,
                n=used,
            ),
        )
    saved = db.session.execute(
        select(func.count()).select_from(Shortlist).where(Shortlist.cluster_id == cluster.id)
    ).scalar_one()
    if saved:
        raise ClusterError(
            "cluster",
            _(
                "%(name)s has saved shortlists and cannot be deleted; deactivate it instead.",
                name=cluster.name,
            ),
        )
    history.record(
        "cluster_taxonomy_changed",
        actor=actor,
        data={"action": "deleted", "code": cluster.code, "name": cluster.name},
    )
    db.session.delete(cluster)
    db.session.flush()


# ---------------------------------------------------------------- bulk assignment


def assign_cluster(flt: RegisterFilter, cluster_id: int | None, actor: User | None) -> int:
    """Give every cooperative of the filtered register list one cluster (None: clear it).

    One history row per cooperative whose cluster actually changes.
    """
    require(
        _can(actor, ASSIGNERS), _("Only an administrator, clerk or inspector may assign clusters.")
    )
    target = None
    if cluster_id is not None:
        target = db.session.get(Cluster, cluster_id)
        if target is None:
            raise ClusterError("cluster", _("Choose an existing cluster."))
        if not target.active:
            raise ClusterError("cluster", _("This cluster is deactivated; choose another one."))
    rows = db.session.execute(
        select(Cooperative.id, Cooperative.cluster_id).where(*flt.conditions())
    ).all()
    changed = [(r.id, r.cluster_id) for r in rows if r.cluster_id != cluster_id]
    if not changed:
        return 0
    ids = [cid for cid, _old in changed]
    now = utcnow()
    for start in range(0, len(ids), 900):  # SQLite limits bound parameters per statement
        chunk = ids[start : start + 900]
        db.session.execute(
            update(Cooperative)
            .where(Cooperative.id.in_(chunk))
            .values(cluster_id=cluster_id, version=Cooperative.version + 1, updated_at=now)
            .execution_options(synchronize_session=False)
        )
    names = {c.id: c.code for c in db.session.execute(select(Cluster)).scalars()}
    history.record_many(
        [
            {
                "cooperative_id": cid,
                "actor_id": actor.id if actor is not None else None,
                "kind": "cluster_assigned",
                "at": now,
                "data": {
                    "from": names.get(old) if old else None,
                    "to": target.code if target else None,
                    "filter": flt.args(),
                },
            }
            for cid, old in changed
        ]
    )
    db.session.expire_all()
    return len(changed)


# ---------------------------------------------------------------- shortlist


def criteria() -> dict[str, dict[str, Any]]:
    return sl.normalize_criteria(settings.get(CRITERIA_KEY))


def save_criteria(values: dict[str, dict[str, Any]], actor: User | None) -> None:
    require(_can(actor, (ADMIN,)), _("Only an administrator may change the criteria."))
    clean = sl.normalize_criteria(values)
    if not any(c["enabled"] for c in clean.values()):
        raise ClusterError("criteria", _("Enable at least one criterion."))
    settings.put(CRITERIA_KEY, clean, actor)


def active_overrides(coop_ids: list[int] | None = None) -> dict[int, ShortlistOverride]:
    q = select(ShortlistOverride).where(ShortlistOverride.lifted_at.is_(None))
    if coop_ids is not None:
        q = q.where(ShortlistOverride.cooperative_id.in_(coop_ids))
    return {o.cooperative_id: o for o in db.session.execute(q).scalars()}


def candidates(cluster: Cluster) -> tuple[list[sl.Candidate], bool]:
    """Every cooperative of the cluster, as plain inputs for the scoring."""
    coops = list(
        db.session.execute(
            select(Cooperative)
            .where(Cooperative.cluster_id == cluster.id)
            .order_by(Cooperative.name_key)
        )
        .unique()
        .scalars()
    )
    ids = [c.id for c in coops]
    facts, available = load_facts(ids)
    overrides = active_overrides(ids)
    out = []
    for c in coops:
        o = overrides.get(c.id)
        out.append(
            sl.Candidate(
                id=c.id,
                name=c.name,
                status=c.status,
                last_rat_year=c.last_rat_year,
                bh_number=c.bh_number,
                has_location=c.has_location,
                place=f"{c.desa.nama}, {c.kecamatan.nama}",
                facts=facts.get(c.id),
                override=o.action if o else None,
                override_reason=o.reason if o else "",
            )
        )
    return out, available


def ranked(cluster: Cluster, today: date) -> tuple[list[sl.Scored], bool]:
    cands, available = candidates(cluster)
    return sl.rank(cands, criteria(), today), available


def set_override(coop: Cooperative, action: str, reason: str, actor: User | None):
    require(
        _can(actor, SHORTLISTERS),
        _("Only an administrator, the head or an inspector may pin or exclude."),
    )
    if action not in ("pin", "exclude"):
        raise ClusterError("action", _("Choose pin or exclude."))
    reason = " ".join((reason or "").split())
    if len(reason) < 5:
        raise ClusterError("reason", _("Give a reason (at least 5 characters)."))
    now = utcnow()
    for old in active_overrides([coop.id]).values():
        old.lifted_at, old.lifted_by_id = now, actor.id if actor else None
    o = ShortlistOverride(
        cooperative_id=coop.id,
        action=action,
        reason=reason[:1000],
        created_by_id=actor.id if actor else None,
        created_at=now,
    )
    db.session.add(o)
    db.session.flush()
    history.record(
        "shortlist_pinned" if action == "pin" else "shortlist_excluded",
        cooperative_id=coop.id,
        actor=actor,
        reason=o.reason,
        data={"cluster": coop.cluster.code if coop.cluster else None},
    )
    return o


def lift_override(override: ShortlistOverride, actor: User | None) -> None:
    require(
        _can(actor, SHORTLISTERS),
        _("Only an administrator, the head or an inspector may pin or exclude."),
    )
    if override.lifted_at is not None:
        raise ClusterError("override", _("This decision was already lifted."))
    override.lifted_at = utcnow()
    override.lifted_by_id = actor.id if actor else None
    db.session.flush()
    history.record(
        "shortlist_override_lifted",
        cooperative_id=override.cooperative_id,
        actor=actor,
        data={"action": override.action, "reason": override.reason},
    )


def save_shortlist(cluster: Cluster, today: date, actor: User | None) -> Shortlist:
    """Freeze today's ranking for the cluster as a dated snapshot."""
    require(
        _can(actor, SHORTLISTERS),
        _("Only an administrator, the head or an inspector may save a shortlist."),
    )
    rows, available = ranked(cluster, today)
    if not rows:
        raise ClusterError("cluster", _("This cluster has no cooperatives to list."))
    crit = criteria()
    snap = Shortlist(
        cluster_id=cluster.id,
        taken_on=today,
        title=cluster.name,
        criteria=crit,
        facts_available=available,
        created_by_id=actor.id if actor else None,
    )
    db.session.add(snap)
    db.session.flush()
    for s in rows:
        c = s.candidate
        db.session.add(
            ShortlistEntry(
                shortlist_id=snap.id,
                cooperative_id=c.id,
                rank=s.rank,
                qualifies=s.qualifies,
                score=s.score,
                max_score=s.max_score,
                override=c.override,
                name=c.name,
                place=c.place,
                bh_number=c.bh_number,
                rank_reason=s.rank_reason,
                breakdown=[r.as_dict() for r in s.results],
            )
        )
    db.session.flush()
    history.record(
        "shortlist_saved",
        actor=actor,
        data={
            "shortlist_id": snap.id,
            "cluster": cluster.code,
            "taken_on": today.isoformat(),
            "qualified": sum(1 for s in rows if s.qualifies),
            "candidates": len(rows),
        },
    )
    return snap
