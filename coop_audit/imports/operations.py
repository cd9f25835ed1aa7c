"""Importing the register: a plan per spreadsheet row (dry run), and the same pass writing it.

One pass over the streamed rows, in chunks: each row is normalised (``registry.normalize``),
checked against earlier rows of the file and matched to the register (BH number, else NIK,
else normalised name + village), validated with the register's own ``check`` and given an
outcome: created, updated, unchanged, rejected or duplicate.

Writing (``write=True``) happens in the caller's transaction (flush, never commit):

* updates go through ``registry.operations.update_cooperative`` (same validation and history
  as the form, with ``source="import"``, the file name and the row);
* new cooperatives are validated by the same ``registry.operations.check`` and inserted in bulk
  (the per-row ORM path reads about 300 rows a second, far below what a 200,000-row register
  needs), each with its own ``created`` history row through ``history.record_many`` carrying
  the same data ``create_cooperative`` writes;
* a new row saying "Tidak Aktif" is created active and moved to dormant with the workflow's
  ``record_dormancy`` move (the transition and its guards are checked by ``workflow``, the
  permission as in ``sanctions.operations.record_dormancy``, and the history row has the same
  kind, trigger, legal ground and import evidence). An import never changes the status of a
  cooperative that is already in the register.
"""

from __future__ import annotations

import gc
import itertools
import re
from collections import Counter
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import insert, select

from .. import history, workflow
from ..extensions import db
from ..geo import Regions, regions
from ..labels import STATUS_LABELS
from ..models import Cluster, Cooperative, User
from ..permissions import ADMIN, CLERK, require
from ..registry import operations as registry_ops
from ..registry.normalize import Message, ParsedRow, name_key, normalize_row
from ..registry.reader import RawRow, Table
from ..timeutil import utcnow

OUTCOMES = ("created", "updated", "unchanged", "rejected", "duplicate")
CHUNK_ROWS = 1000
EDITABLE = registry_ops.EDITABLE

# registry.operations field -> the field name messages use (the register's vocabulary).
CHECK_FIELDS = {
    "name": "nama",
    "jenis": "jenis",
    "kelompok": "kelompok",
    "bentuk": "bentuk",
    "bh_number": "no_bh",
    "bh_date": "tgl_bh",
    "nik": "nik",
    "street": "alamat",
    "rt": "rt",
    "rw": "rw",
    "desa_kode": "desa",
    "kecamatan_kode": "kecamatan",
    "lat": "lat",
    "lng": "lng",
    "chair_name": "ketua",
    "chair_phone": "hp",
    "member_count": "anggota",
    "last_rat_year": "rat",
    "cluster_id": "klaster",
    "kbli": "kbli",
    "products": "produk",
}

# What an export writes into a text cell that starts like a formula (CSV has no cell types,
# so the export prefixes a quote); the import removes that quote again.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def dormancy_reason() -> str:
    return _("recorded inactive in the imported register")


@dataclass(slots=True)
class RowResult:
    row: int
    outcome: str
    messages: list[Message]
    name: str | None = None
    coop_id: int | None = None
    of_row: int | None = None
    changes: dict[str, list[Any]] | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "row": self.row,
            "outcome": self.outcome,
            "messages": [m.as_dict() for m in self.messages],
        }


@dataclass
class ImportResult:
    file: str
    detected: dict[str, Any]
    results: list[RowResult] = field(default_factory=list)
    written: bool = False
    blocked: bool = False  # strict, and some rows were rejected: nothing written

    @property
    def counts(self) -> dict[str, int]:
        c = Counter(r.outcome for r in self.results)
        return {o: c.get(o, 0) for o in OUTCOMES}

    @property
    def warning_count(self) -> int:
        return sum(1 for r in self.results for m in r.messages if m.level == "warning")

    @property
    def rejected(self) -> int:
        return self.counts["rejected"]

    def summary(self) -> dict[str, Any]:
        """The JSON summary of the CLI (and the counts the pages show)."""
        c = self.counts
        return {
            "file": self.file,
            "rows": len(self.results),
            "created": c["created"],
            "updated": c["updated"],
            "unchanged": c["unchanged"],
            "rejected": c["rejected"],
            "duplicates": c["duplicate"],
            "warnings": self.warning_count,
            "results": [r.as_dict() for r in self.results],
        }

    def counts_summary(self) -> dict[str, Any]:
        s = self.summary()
        s.pop("results")
        s.update(written=self.written, blocked=self.blocked)
        return s


def detected_of(table: Table) -> dict[str, Any]:
    return {
        "format": table.format,
        "sheet": table.sheet_name,
        "encoding": table.encoding_name,
        "delimiter": table.delimiter,
        "header_row": table.header_row,
        "headers": table.headers,
        "columns": table.columns,
        "unknown_headers": table.unknown_headers,
        "duplicate_headers": table.duplicate_headers,
    }


def can_import(user: User | None) -> bool:
    """Admins and clerks import; None is the command line (the operator of the server)."""
    return user is None or user.role in (ADMIN, CLERK)


def import_register(
    table: Table,
    actor: User | None,
    *,
    today: date,
    write: bool = False,
    strict: bool = False,
    batch: str | None = None,
) -> ImportResult:
    """Plan (write=False) or apply (write=True) the import of one register file.

    With ``strict``, nothing is written when any row is rejected (the rows are first planned,
    then applied in a second pass). May raise ``ReadError`` when the file turns out damaged
    part-way: the caller rolls back (nothing has been committed).
    """
    require(can_import(actor), _("Only an administrator or a clerk imports the register."))
    if write:
        _require_dormancy_allowed(actor)
    with _fewer_collections():
        if write and strict:
            plan = _Importer(table, actor, today=today, write=False, batch=batch).run()
            if plan.rejected:
                plan.blocked = True
                return plan
        return _Importer(table, actor, today=today, write=write, batch=batch).run()


@contextmanager
def _fewer_collections() -> Iterator[None]:
    """A long import keeps many small objects alive (the row results): Python's cyclic
    collector would walk them all again and again. Collect rarely while it runs."""
    before = gc.get_threshold()
    gc.set_threshold(max(before[0], 50_000), before[1], max(before[2], 50))
    try:
        yield
    finally:
        gc.set_threshold(*before)


def _require_dormancy_allowed(actor: User | None) -> None:
    # As sanctions.operations.record_dormancy: inspectors and admins, or a clerk when the
    # evidence is an import (it always is here). None is the command line.
    require(
        actor is None or workflow.can_propose(actor.role, "record_dormancy") or actor.role == CLERK,
        _("Only an inspector records dormancy (from an audit or an import)."),
    )


def _bh_key(bh: str | None) -> str | None:
    return "".join(bh.split()).upper() if bh else None


def _loose(text: str) -> str:
    return re.sub(r"[^0-9a-z]+", "", text.lower())


class _Stub:
    """Stands in for the existing cooperative in ``check`` (only its id is read)."""

    def __init__(self, coop_id: int) -> None:
        self.id = coop_id


@dataclass
class _Pending:
    parsed: ParsedRow
    result: RowResult
    candidates: tuple[int | None, int | None, int | None]  # by BH, by NIK, by name+village


class _Importer:
    def __init__(
        self, table: Table, actor: User | None, *, today: date, write: bool, batch: str | None
    ) -> None:
        self.table = table
        self.actor = actor
        self.today = today
        self.write = write
        self.batch = batch
        self.filename = table.filename
        self.regions: Regions = regions()
        self.result = ImportResult(file=table.filename, detected=detected_of(table))
        self.reason = dormancy_reason()
        refusal = workflow.refusal("active", "record_dormancy", reason=self.reason)
        if refusal is not None:  # the workflow table changed: never write an illegal move
            raise refusal
        self.legal_ground = workflow.move_for("record_dormancy").legal_ground
        self._load_register_keys()
        self._load_clusters()
        # Earlier rows of this file.
        self.file_bh: dict[str, int] = {}
        self.file_nv: dict[tuple[str, str], int] = {}
        self.file_nik: dict[str, int] = {}
        self.matched: dict[int, int] = {}  # cooperative id -> first row that matched it

    # ---------------------------------------------------------------- loading

    def _load_register_keys(self) -> None:
        self.db_bh: dict[str, int] = {}
        self.db_nik: dict[str, int] = {}
        self.db_nv: dict[tuple[str, str], int] = {}
        self.db_bh_of: dict[int, str] = {}
        rows = db.session.execute(
            select(
                Cooperative.id,
                Cooperative.bh_number,
                Cooperative.nik,
                Cooperative.name,
                Cooperative.desa_kode,
            ).execution_options(yield_per=5000)
        )
        for coop_id, bh, nik, name, desa in rows:
            key = _bh_key(bh)
            if key:
                self.db_bh.setdefault(key, coop_id)
                self.db_bh_of[coop_id] = key
            if nik:
                self.db_nik[nik] = coop_id
            self.db_nv.setdefault((name_key(name), desa), coop_id)

    def _load_clusters(self) -> None:
        self.clusters: dict[str, int] = {}
        for c in db.session.execute(select(Cluster)).scalars():
            for text in (c.name, c.code):
                self.clusters.setdefault(text.strip().lower(), c.id)
                self.clusters.setdefault(_loose(text), c.id)

    def _existing(self, ids: Iterable[int]) -> dict[int, dict[str, Any]]:
        wanted = sorted({i for i in ids if i is not None})
        out: dict[int, dict[str, Any]] = {}
        columns = [getattr(Cooperative, k) for k in EDITABLE]
        for start in range(0, len(wanted), 900):
            part = wanted[start : start + 900]
            for row in db.session.execute(
                select(Cooperative.id, Cooperative.status, *columns).where(Cooperative.id.in_(part))
            ):
                values = dict(zip(("id", "status", *EDITABLE), row, strict=True))
                out[values["id"]] = values
        return out

    # ---------------------------------------------------------------- the pass

    def run(self) -> ImportResult:
        rows = self.table.rows()
        for chunk in _chunks(rows, CHUNK_ROWS):
            self._chunk(chunk)
        self.result.written = self.write
        if self.write:
            registry_ops._forget_kelompok_cache()
        return self.result

    def _chunk(self, chunk: list[RawRow]) -> None:
        pending = [self._parse(raw) for raw in chunk]
        existing = self._existing(i for p in pending for i in p.candidates)
        creates: list[tuple[RowResult, dict[str, Any], bool]] = []
        updates: list[tuple[RowResult, int, dict[str, Any]]] = []
        for p in pending:
            self.result.results.append(p.result)
            if p.result.outcome != "rejected":
                self._decide(p, existing, creates, updates)
        if self.write:
            self._create(creates)
            self._update(updates)

    def _parse(self, raw: RawRow) -> _Pending:
        if self.table.format == "csv":
            _unescape_formula_cells(raw)
        parsed = normalize_row(raw, self.regions, self.today)
        v = parsed.values
        result = RowResult(parsed.row_number, "pending", list(parsed.messages), name=v["name"])
        if parsed.rejected:
            result.outcome = "rejected"
            return _Pending(parsed, result, (None, None, None))
        v["cluster_id"] = self._cluster(v.get("cluster_name"), result, raw)
        bh = _bh_key(v["bh_number"])
        nv = (name_key(v["name"]), v["desa_kode"]) if v["name"] and v["desa_kode"] else None
        candidates = (
            self.db_bh.get(bh) if bh else None,
            self.db_nik.get(v["nik"]) if v["nik"] else None,
            self.db_nv.get(nv) if nv else None,
        )
        return _Pending(parsed, result, candidates)

    def _cluster(self, text: str | None, result: RowResult, raw: RawRow) -> int | None:
        if not text:
            return None
        found = self.clusters.get(text.strip().lower()) or self.clusters.get(_loose(text))
        if found is None:
            result.messages.append(
                Message(
                    "klaster",
                    "warning",
                    _(
                        '%(column)s: "%(value)s" is not a known cluster; it was left empty.',
                        column=raw.label("cluster_name"),
                        value=text[:60],
                    ),
                )
            )
        return found

    def _decide(
        self,
        p: _Pending,
        existing: dict[int, dict[str, Any]],
        creates: list,
        updates: list,
    ) -> None:
        v = p.parsed.values
        res = p.result
        bh = _bh_key(v["bh_number"])
        nv = (name_key(v["name"]), v["desa_kode"]) if v["name"] and v["desa_kode"] else None

        # 1. A repeat of an earlier row of this file (as normalize.find_duplicates).
        first = self.file_bh.get(bh) if bh else None
        if first is not None:
            self._duplicate(res, first, _("the same BH number"))
            return
        first = self.file_nv.get(nv) if nv is not None else None
        if first is not None:
            self._duplicate(res, first, _("the same name in the same village"))
            return

        # 2. The cooperative it stands for: BH number, else NIK, else name + village. A NIK or
        # name match whose register entry has a different BH number is another cooperative.
        by_bh, by_nik, by_nv = p.candidates
        coop_id = by_bh
        if coop_id is None:
            for candidate in (by_nik, by_nv):
                if candidate is not None and (not bh or self.db_bh_of.get(candidate) in (None, bh)):
                    coop_id = candidate
                    break
        if coop_id is not None and coop_id in self.matched:
            self._duplicate(res, self.matched[coop_id], _("the same cooperative"))
            return

        # 3. A NIK already held by another cooperative or an earlier row: import without it.
        nik = v["nik"]
        if nik:
            holder = self.db_nik.get(nik)
            if holder is not None and holder != coop_id:
                name = db.session.execute(
                    select(Cooperative.name).where(Cooperative.id == holder)
                ).scalar_one_or_none()
                self._drop_nik(res, v, _("cooperative %(name)s", name=name or holder))
            elif nik in self.file_nik:
                self._drop_nik(res, v, _("row %(row)s of this file", row=self.file_nik[nik]))

        values = {k: v.get(k) for k in EDITABLE}
        if coop_id is None:
            self._plan_create(p, values, creates)
        else:
            self._plan_update(p, coop_id, existing.get(coop_id), values, updates)
        if res.outcome in ("created", "updated", "unchanged"):
            if bh:
                self.file_bh.setdefault(bh, res.row)
            if nv is not None:
                self.file_nv.setdefault(nv, res.row)
            if v["nik"]:
                self.file_nik.setdefault(v["nik"], res.row)
            if coop_id is not None:
                self.matched[coop_id] = res.row

    def _duplicate(self, res: RowResult, first: int, why: str) -> None:
        res.outcome = "duplicate"
        res.of_row = first
        res.messages.append(
            Message(
                "nama",
                "warning",
                _("Repeats row %(row)s (%(why)s); this row is not imported.", row=first, why=why),
            )
        )

    def _drop_nik(self, res: RowResult, values: dict[str, Any], holder: str) -> None:
        res.messages.append(
            Message(
                "nik",
                "warning",
                _(
                    "NIK %(nik)s is already used by %(holder)s; the row is imported without "
                    "the NIK.",
                    nik=values["nik"],
                    holder=holder,
                ),
            )
        )
        values["nik"] = None

    def _reject(self, res: RowResult, checked: registry_ops.Checked) -> None:
        res.outcome = "rejected"
        for m in checked.errors:
            res.messages.append(Message(CHECK_FIELDS.get(m.field, m.field), "error", m.text))

    def _plan_create(self, p: _Pending, values: dict[str, Any], creates: list) -> None:
        res = p.result
        # BH number and NIK are unique here by construction (a known BH number matches its
        # cooperative, a NIK in use was dropped): check the rest without a query per row.
        checked = registry_ops.check({**values, "bh_number": None, "nik": None})
        if checked.errors:
            self._reject(res, checked)
            return
        final = dict(checked.values)
        final["bh_number"], final["nik"] = values["bh_number"], values["nik"]
        res.outcome = "created"
        creates.append((res, final, bool(p.parsed.values.get("inactive"))))

    def _plan_update(
        self,
        p: _Pending,
        coop_id: int,
        ex: dict[str, Any] | None,
        values: dict[str, Any],
        updates: list,
    ) -> None:
        res = p.result
        if ex is None:  # matched a cooperative that is gone meanwhile (never in one transaction)
            ex = self._existing([coop_id]).get(coop_id)
            if ex is None:
                self._plan_create(p, values, [])
                return
        res.coop_id = coop_id
        self._status_note(res, p.parsed.values.get("inactive"), ex)
        # Empty cells never erase what the register holds: only filled-in values count.
        wanted = {k: val for k, val in values.items() if val is not None}
        if all(ex.get(k) == val for k, val in wanted.items()):
            res.outcome = "unchanged"
            return
        checked = registry_ops.check(
            {**{k: ex[k] for k in EDITABLE}, **wanted}, existing=_Stub(coop_id)
        )
        if checked.errors:
            self._reject(res, checked)
            return
        changes = {
            k: [_jsonable(ex[k]), _jsonable(checked.values[k])]
            for k in EDITABLE
            if checked.values[k] != ex[k]
        }
        if not changes:
            res.outcome = "unchanged"
            return
        res.outcome = "updated"
        res.changes = changes
        updates.append((res, coop_id, {k: checked.values[k] for k in changes}))

    def _status_note(self, res: RowResult, inactive: bool | None, ex: dict[str, Any]) -> None:
        if inactive is None:
            return
        status = ex["status"]
        if inactive == (status != "active"):
            return
        res.messages.append(
            Message(
                "keterangan",
                "warning",
                _(
                    "The file says %(said)s, but this cooperative is %(status)s in the register: "
                    "an import does not change the status (only the workflow does).",
                    said=_("inactive") if inactive else _("active"),
                    status=str(STATUS_LABELS.get(status, status)).lower(),
                ),
            )
        )

    # ---------------------------------------------------------------- writing

    def _history_data(self, res: RowResult) -> dict[str, Any]:
        data: dict[str, Any] = {"source": "import", "file": self.filename, "row": res.row}
        if self.batch:
            data["import"] = self.batch
        return data

    def _create(self, creates: list[tuple[RowResult, dict[str, Any], bool]]) -> None:
        if not creates:
            return
        now = utcnow()
        rows = []
        for _res, values, inactive in creates:
            rows.append(
                {
                    **values,
                    "name_key": registry_ops.name_key(values["name"]),
                    "status": "dormant" if inactive else "active",
                    "status_reason": self.reason if inactive else None,
                    "status_changed_at": now if inactive else None,
                    "version": 1,
                    "created_at": now,
                    "updated_at": now,
                }
            )
        # RETURNING in parameter order makes SQLAlchemy insert one row at a time on SQLite;
        # (name, village) is unique among the rows created by one import (a repeat is a
        # duplicate), so the ids are matched back by it.
        table = Cooperative.__table__
        returned = db.session.execute(
            insert(table).returning(table.c.id, table.c.name, table.c.desa_kode), rows
        ).all()
        ids = {(name, desa): coop_id for coop_id, name, desa in returned}
        actor_id = self.actor.id if self.actor is not None else None
        # All "created" rows first, then the dormancy moves: the bulk insert batches rows with
        # the same set of filled-in columns, so interleaving them would insert one by one.
        events: list[dict[str, Any]] = []
        moves: list[dict[str, Any]] = []
        for res, values, inactive in creates:
            coop_id = ids[(values["name"], values["desa_kode"])]
            res.coop_id = coop_id
            data = self._history_data(res)
            events.append(
                {
                    "kind": "created",
                    "cooperative_id": coop_id,
                    "actor_id": actor_id,
                    "at": now,
                    "to_status": "active",
                    "data": data,
                }
            )
            if inactive:
                moves.append(
                    {
                        "kind": "dormancy_recorded",
                        "cooperative_id": coop_id,
                        "actor_id": actor_id,
                        "at": now,
                        "from_status": "active",
                        "to_status": "dormant",
                        "trigger": "record_dormancy",
                        "reason": self.reason,
                        "legal_ground": self.legal_ground,
                        "evidence": [{"type": "import", "file": self.filename, "row": res.row}],
                        "data": {"today": self.today.isoformat()},
                    }
                )
        history.record_many(events + moves)

    def _update(self, updates: list[tuple[RowResult, int, dict[str, Any]]]) -> None:
        for res, coop_id, values in updates:
            coop = db.session.get(Cooperative, coop_id)
            if coop is None:
                continue
            changes = registry_ops.update_cooperative(
                coop,
                values,
                self.actor,
                source="import",
                data={k: v for k, v in self._history_data(res).items() if k != "source"},
            )
            res.changes = changes or None
            if not changes:
                res.outcome = "unchanged"
            db.session.expunge(coop)  # keep the identity map small on long imports


def _jsonable(value: Any) -> Any:
    return value.isoformat() if isinstance(value, date | datetime) else value


def _unescape_formula_cells(raw: RawRow) -> None:
    """Undo the quote an export puts before text that Excel would run as a formula."""
    for key, value in raw.cells.items():
        if (
            isinstance(value, str)
            and len(value) > 1
            and value[0] == "'"
            and value[1] in _FORMULA_START
        ):
            raw.cells[key] = value[1:]


def _chunks(rows: Iterator[RawRow], size: int) -> Iterator[list[RawRow]]:
    while True:
        chunk = list(itertools.islice(rows, size))
        if not chunk:
            return
        yield chunk
