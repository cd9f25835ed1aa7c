"""The register filter: one definition shared by the list, the exports, the dashboard and the map.

A `RegisterFilter` is parsed from URL arguments (so a filtered list can be shared as a link) and
turned into SQL conditions. The map and exports call the same `conditions()`, so their counts
match the list for the same filter.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any

from sqlalchemy import Select, func, select

from .. import register_cache
from ..models import JENIS, STATUSES, Cooperative

SORTS = {
    "name": (Cooperative.name_key, Cooperative.id),
    "-name": (Cooperative.name_key.desc(), Cooperative.id.desc()),
    "kecamatan": (Cooperative.kecamatan_kode, Cooperative.name_key),
    "status": (Cooperative.status, Cooperative.name_key),
    "rat": (Cooperative.last_rat_year.desc(), Cooperative.name_key),
    "-updated": (Cooperative.updated_at.desc(), Cooperative.id.desc()),
}

# The same orders with the indexed text columns wrapped (`|| ''`) so the planner cannot walk
# their index: a search that matches few rows anywhere in the table is found by one scan and
# a small sort, instead of visiting every row in index order (at 200,000 cooperatives a BH
# number took ~400 ms that way).
_NAME = Cooperative.name_key + ""
SCAN_SORTS = {
    "name": (_NAME, Cooperative.id),
    "-name": (_NAME.desc(), Cooperative.id.desc()),
    "kecamatan": (Cooperative.kecamatan_kode + "", _NAME),
    "status": (Cooperative.status + "", _NAME),
    "rat": (Cooperative.last_rat_year.desc(), _NAME),
    "-updated": SORTS["-updated"],
}


def _rows_in_order(session: Any, ids: list[int]) -> list[Cooperative]:
    """The cooperatives with these ids, in the order of `ids` (a page found as ids first)."""
    if not ids:
        return []
    loaded = session.execute(select(Cooperative).where(Cooperative.id.in_(ids)))
    by_id = {c.id: c for c in loaded.unique().scalars()}
    return [by_id[i] for i in ids]


def _like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


@dataclass
class RegisterFilter:
    q: str = ""
    status: str = ""
    kecamatan: str = ""  # kode 33.13.xx
    desa: str = ""  # kode 33.13.xx.xxxx
    jenis: str = ""
    kelompok: str = ""
    cluster: str = ""  # cluster id, or "none"
    location: str = ""  # "with" | "without"
    sort: str = "name"

    @classmethod
    def from_args(cls, args: Any, **defaults: str) -> RegisterFilter:
        values = {}
        for f in fields(cls):
            raw = args.get(f.name, defaults.get(f.name, f.default))
            values[f.name] = (raw or "").strip()[:120]
        flt = cls(**values)
        flt.clean()
        return flt

    def clean(self) -> None:
        """Unknown values are dropped rather than answered with an error page."""
        if self.status not in STATUSES and self.status != "all":
            self.status = ""
        if self.jenis not in JENIS:
            self.jenis = ""
        if self.location not in ("with", "without"):
            self.location = ""
        if self.sort not in SORTS:
            self.sort = "name"
        if self.desa and self.kecamatan and not self.desa.startswith(self.kecamatan + "."):
            self.desa = ""
        if self.desa and not self.kecamatan:
            self.kecamatan = self.desa.rsplit(".", 1)[0]
        if self.cluster and not (self.cluster.isdigit() or self.cluster == "none"):
            self.cluster = ""

    def conditions(self) -> list[Any]:
        c: list[Any] = []
        if self.q:
            needle = f"%{_like_escape(' '.join(self.q.lower().split()))}%"
            c.append(Cooperative.search_text.like(needle, escape="\\"))
        if self.status and self.status != "all":
            c.append(Cooperative.status == self.status)
        if self.kecamatan:
            c.append(Cooperative.kecamatan_kode == self.kecamatan)
        if self.desa:
            c.append(Cooperative.desa_kode == self.desa)
        if self.jenis:
            c.append(Cooperative.jenis == self.jenis)
        if self.kelompok:
            c.append(Cooperative.kelompok == self.kelompok)
        if self.cluster == "none":
            c.append(Cooperative.cluster_id.is_(None))
        elif self.cluster:
            c.append(Cooperative.cluster_id == int(self.cluster))
        if self.location == "with":
            c.append(Cooperative.lat.is_not(None))
        elif self.location == "without":
            c.append(Cooperative.lat.is_(None))
        return c

    def select(self, *, scan: bool = False) -> Select:
        order = SCAN_SORTS[self.sort] if scan else SORTS[self.sort]
        return select(Cooperative).where(*self.conditions()).order_by(*order)

    def page(self, session: Any, page: int, per_page: int) -> tuple[list[Cooperative], int, int]:
        """One page of the filtered register: (rows, total, page clamped to the last page)."""
        if self.q:
            # A text search scans the table anyway: one pass finds, counts (window function)
            # and sorts the matching ids; then the page's rows are loaded by id.
            found = session.execute(
                select(Cooperative.id, func.count().over().label("total"))
                .where(*self.conditions())
                .order_by(*SCAN_SORTS[self.sort])
                .limit(per_page)
                .offset((page - 1) * per_page)
            ).all()
            if found:
                return _rows_in_order(session, [r.id for r in found]), found[0].total, page
        total = self.count(session)
        page = min(page, max(1, -(-total // per_page)))
        # The page's ids first (an index-only scan of the sort index, without reading the rows
        # it skips), then its rows: page 137 of 200,000 took ~26 ms of SQL, now ~4 ms.
        ids = list(
            session.execute(
                select(Cooperative.id)
                .where(*self.conditions())
                .order_by(*(SCAN_SORTS if self.q else SORTS)[self.sort])
                .limit(per_page)
                .offset((page - 1) * per_page)
            ).scalars()
        )
        return _rows_in_order(session, ids), total, page

    def count_select(self) -> Select:
        return select(func.count()).select_from(Cooperative).where(*self.conditions())

    def count(self, session: Any) -> int:
        """How many cooperatives match: every list page shows it, so it is cached per register
        version (counting 200,000 rows costs PostgreSQL ~25 ms of wall time, ~3x that in CPU)."""
        return register_cache.cached(
            ("count", self.condition_key()),
            lambda: session.execute(self.count_select()).scalar_one(),
            session,
        )

    def condition_key(self) -> tuple[str, ...]:
        """The values `conditions()` depends on (everything but the sort), as a cache key."""
        return tuple(getattr(self, f.name) for f in fields(self) if f.name != "sort")

    def args(self, **override: Any) -> dict[str, Any]:
        """Non-empty filter values, for building links (url_for(..., **flt.args()))."""
        values = {**asdict(self), **override}
        return {
            k: v
            for k, v in values.items()
            if v not in ("", None) and not (k == "sort" and v == "name")
        }

    @property
    def active_count(self) -> int:
        return sum(1 for k, v in asdict(self).items() if v and k != "sort")
