"""Read-side queries for the map, the summaries and the shortlist, all through RegisterFilter.

The map's data endpoint must answer quickly at national scale (200,000 cooperatives): below a
zoom level, or when the visible area holds too many points, it aggregates in SQL by kecamatan or
village and sends one marker per area with its cluster mix; points are sent only when there are
few enough of them (in the visible box).
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select

from .. import register_cache
from ..extensions import db
from ..geo import regions
from ..models import STATUSES, Cluster, Cooperative
from ..registry.query import RegisterFilter

POINT_LIMIT = 2500  # most points the endpoint sends in one answer
VILLAGE_ZOOM = 12  # from this zoom on, aggregates are per village (below: per kecamatan)
STATUS_INDEX = {s: i for i, s in enumerate(STATUSES)}

_outside_cache: dict[tuple[str, float, float], bool] = {}


def outside_village(desa_kode: str, lat: float, lng: float) -> bool:
    """True when the point lies outside the village the register names (memoised)."""
    key = (desa_kode, lat, lng)
    hit = _outside_cache.get(key)
    if hit is None:
        village = regions().villages.get(desa_kode)
        hit = village is not None and not village.contains(lat, lng)
        if len(_outside_cache) > 500_000:
            _outside_cache.clear()
        _outside_cache[key] = hit
    return hit


def clusters() -> list[Cluster]:
    return list(
        db.session.execute(select(Cluster).order_by(Cluster.sort_order, Cluster.name)).scalars()
    )


def parse_bbox(text: str | None) -> tuple[float, float, float, float] | None:
    """ "west,south,east,north" -> floats; anything malformed means "no box"."""
    if not text:
        return None
    try:
        w, s, e, n = (float(x) for x in text.split(",")[:4])
    except ValueError:
        return None
    if not (-180 <= w <= e <= 180 and -90 <= s <= n <= 90):
        return None
    return w, s, e, n


def counts(flt: RegisterFilter) -> tuple[int, int]:
    """(all cooperatives matching the filter, those with coordinates) in one scan."""
    rows = groups(flt)
    return sum(g[2] for g in rows), sum(g[3] for g in rows)


def groups(flt: RegisterFilter) -> list[tuple[str, int | None, int, int]]:
    """(village, cluster, cooperatives, located) for the filter: one grouped scan of the whole
    register (21-55 ms on PostgreSQL at 200,000), so it is cached per register version."""
    return register_cache.cached(("map_groups", flt.condition_key()), lambda: _grouped_scan(flt))


def _grouped_scan(flt: RegisterFilter) -> list[tuple[str, int | None, int, int]]:
    rows = db.session.execute(
        select(
            Cooperative.desa_kode,
            Cooperative.cluster_id,
            func.count(),
            func.count(Cooperative.lat),
        )
        .where(*flt.conditions())
        .group_by(Cooperative.desa_kode, Cooperative.cluster_id)
    ).all()
    return [tuple(r) for r in rows]


def map_data(flt: RegisterFilter, zoom: int, bbox: tuple[float, float, float, float] | None):
    """Compact JSON for the map: points when few enough, else per-area aggregates.

    One grouped scan (by village and cluster) yields the totals and both aggregate levels;
    points are read only when few enough of them will be sent.
    """
    grouped = groups(flt)
    total = sum(g[2] for g in grouped)
    located = sum(g[3] for g in grouped)
    base = [*flt.conditions(), Cooperative.lat.is_not(None), Cooperative.lng.is_not(None)]
    boxed = list(base)
    if bbox is not None:
        w, s, e, n = bbox
        boxed += [Cooperative.lat.between(s, n), Cooperative.lng.between(w, e)]
    out: dict[str, Any] = {"total": total, "located": located, "without": total - located}
    in_view = located
    if located > POINT_LIMIT and bbox is not None and zoom >= VILLAGE_ZOOM:
        in_view = db.session.execute(
            select(func.count()).select_from(Cooperative).where(*boxed)
        ).scalar_one()
    if in_view <= POINT_LIMIT:
        rows = db.session.execute(
            select(
                Cooperative.id,
                Cooperative.lat,
                Cooperative.lng,
                Cooperative.cluster_id,
                Cooperative.status,
                Cooperative.desa_kode,
            ).where(*(boxed if located > POINT_LIMIT else base))
        ).all()
        out["mode"] = "points"
        out["clipped"] = located > POINT_LIMIT
        # [id, lat, lng, cluster id (0 = none), status index, 1 if outside its village]
        out["p"] = [
            [
                r.id,
                round(r.lat, 6),
                round(r.lng, 6),
                r.cluster_id or 0,
                STATUS_INDEX.get(r.status, 0),
                1 if outside_village(r.desa_kode, r.lat, r.lng) else 0,
            ]
            for r in rows
        ]
        return out
    level = "desa" if zoom >= VILLAGE_ZOOM else "kecamatan"
    reg = regions()
    areas = reg.villages if level == "desa" else reg.kecamatan
    agg: dict[str, dict[str, Any]] = {}
    for desa_kode, cluster_id, _n, n_located in grouped:
        if not n_located:
            continue
        kode = desa_kode if level == "desa" else desa_kode.rsplit(".", 1)[0]
        a = agg.get(kode)
        if a is None:
            area = areas.get(kode)
            if area is None:
                continue
            a = agg[kode] = {"k": kode, "name": area.nama, "lat": area.lat, "lng": area.lng}
            a["n"], a["m"] = 0, {}
        a["n"] += n_located
        key = str(cluster_id or 0)
        a["m"][key] = a["m"].get(key, 0) + n_located
    out["mode"] = level
    out["a"] = list(agg.values())
    return out


def without_location(flt: RegisterFilter, limit: int = 200) -> list[Cooperative]:
    return list(
        db.session.execute(
            select(Cooperative)
            .where(*flt.conditions(), Cooperative.lat.is_(None))
            .order_by(Cooperative.name_key, Cooperative.id)
            .limit(limit)
        )
        .unique()
        .scalars()
    )


def outside_their_village(flt: RegisterFilter, limit: int = 200, scan_limit: int = 20_000):
    """Cooperatives whose point is outside their stated village (None: too many to check here)."""
    located = [*flt.conditions(), Cooperative.lat.is_not(None), Cooperative.lng.is_not(None)]
    n = db.session.execute(
        select(func.count()).select_from(Cooperative).where(*located)
    ).scalar_one()
    if n > scan_limit:
        return None
    rows = db.session.execute(
        select(Cooperative.id, Cooperative.desa_kode, Cooperative.lat, Cooperative.lng).where(
            *located
        )
    ).all()
    ids = [r.id for r in rows if outside_village(r.desa_kode, r.lat, r.lng)][:limit]
    if not ids:
        return []
    return list(
        db.session.execute(
            select(Cooperative).where(Cooperative.id.in_(ids)).order_by(Cooperative.name_key)
        )
        .unique()
        .scalars()
    )


# ---------------------------------------------------------------- summaries


@dataclass
class SummaryTable:
    level: str  # "kecamatan" | "desa" | "rt"
    areas: list[tuple[str, str]]  # (key, label)
    clusters: list[tuple[str, str, str]]  # (key, name, colour); key "0" = no cluster
    cells: dict[tuple[str, str], int]
    row_totals: dict[str, int]
    col_totals: dict[str, int]
    total: int


def summary(flt: RegisterFilter) -> SummaryTable:
    """Cluster x area counts; the area is the kecamatan, or the village when a kecamatan is
    chosen, or RW/RT when a village is chosen (the drill-down)."""
    reg = regions()
    if flt.desa:
        level = "rt"
        col: Any = func.coalesce(Cooperative.rw, "") + "/" + func.coalesce(Cooperative.rt, "")
    elif flt.kecamatan:
        level, col = "desa", Cooperative.desa_kode
    else:
        level, col = "kecamatan", Cooperative.kecamatan_kode
    cells: dict[tuple[str, str], int] = {}
    for area, cluster_id, n in db.session.execute(
        select(col, Cooperative.cluster_id, func.count())
        .where(*flt.conditions())
        .group_by(col, Cooperative.cluster_id)
    ):
        key = (str(area or ""), str(cluster_id or 0))
        cells[key] = cells.get(key, 0) + n
    if level == "kecamatan":
        areas = [(k.kode, k.nama) for k in reg.kecamatan.values()]
    elif level == "desa":
        areas = [(v.kode, v.nama) for v in reg.villages_of(flt.kecamatan)]
    else:
        keys = sorted({a for a, _c in cells}, key=_rt_sort_key)
        areas = [(k, _rt_label(k)) for k in keys]
    cl = [(str(c.id), c.name, c.color) for c in clusters()]
    if any(c == "0" for _a, c in cells):
        cl.append(("0", "", "#6c757d"))
    row_totals = {a: sum(n for (ak, _c), n in cells.items() if ak == a) for a, _l in areas}
    col_totals = {c: sum(n for (_a, ck), n in cells.items() if ck == c) for c, _n, _col in cl}
    return SummaryTable(
        level=level,
        areas=areas,
        clusters=cl,
        cells=cells,
        row_totals=row_totals,
        col_totals=col_totals,
        total=sum(cells.values()),
    )


def _rt_sort_key(key: str) -> tuple[int, int, str]:
    rw, _sep, rt = key.partition("/")
    return (int(rw) if rw.isdigit() else 999, int(rt) if rt.isdigit() else 999, key)


def _rt_label(key: str) -> str:
    rw, _sep, rt = key.partition("/")
    return f"RW {rw or '—'} / RT {rt or '—'}"


# ---------------------------------------------------------------- shortlist inputs


def load_facts(coop_ids: list[int]) -> tuple[dict[int, Any], bool]:
    """Audit facts for the scoring, from the audits feature when it is installed.

    Returns (facts by cooperative id, whether the audits module was available). Imported lazily:
    without it, office/SHU/health are simply unknown.
    """
    try:
        facts_mod = importlib.import_module("coop_audit.audits.facts")
    except ImportError:
        return {}, False
    latest = getattr(facts_mod, "latest_facts", None)
    if latest is None:
        return {}, False
    return dict(latest(coop_ids) or {}), True
