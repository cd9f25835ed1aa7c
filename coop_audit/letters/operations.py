"""Letters: the only code that issues, voids, receipts and batches letters (never commits)."""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import io
import os
import secrets
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import Select, select, update

from .. import history
from .. import settings as office_settings
from ..audits import uploads
from ..extensions import db
from ..models import Cooperative, Kecamatan, User
from ..models.letters import BatchJob, Letter, LetterSequence
from ..permissions import ADMIN, CLERK, HEAD, PermissionDenied, require
from ..timeutil import local_start_of_day, local_today, utcnow
from ..workflow import Status, move_for, signoff_refusal
from . import formatting, render
from .render import CoopInfo, LetterData, LetterSettings

ISSUERS = (HEAD,)
CLERKS = (CLERK, HEAD, ADMIN)
RECEIPT_METHODS = ("hand", "post", "announcement")
# Which letter a sign-off of each workflow trigger issues.
TRIGGER_KINDS = {
    "warn": "warning",
    "revoke": "revocation",
    "reactivate": "reactivation",
    "reinstate": "reinstatement",
}
# Number series: letters (surat) share one running number per year; decisions (Keputusan)
# have their own. LetterSequence.kind holds the series.
SERIES = {kind: ("keputusan" if kind == "revocation" else "surat") for kind in render.KINDS}
LOGO_MAX_BYTES = 512 * 1024
# A letterhead logo prints 20 mm wide: 4 megapixels is far more than enough, and checking a
# larger one would decode it (a 512 KB PNG can hold 60 megapixels, ~200 MB in memory).
LOGO_MAX_PIXELS = 4_000_000
SCAN_MAX_BYTES = 10 * 1024 * 1024
# Crockford base32 without I, L, O, U: nothing a person can misread when typing it.
SHORT_CODE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
SHORT_CODE_LENGTH = 10

DEFAULTS: dict[str, Any] = {
    "letters.letterhead_lines": [
        "PEMERINTAH KABUPATEN KARANGANYAR",
        "DINAS KOPERASI, USAHA KECIL, TRANSMIGRASI, ENERGI DAN SUMBER DAYA MINERAL",
    ],
    "letters.address_line": "Jalan Lawu Nomor 385, Karanganyar, Jawa Tengah 57712",
    "letters.contact_line": "",
    "letters.logo": "",  # base64 PNG/JPEG
    "letters.place": "Karanganyar",
    "letters.classification_code": "500.3",
    "letters.unit_code": "DKUKTESDM",
    "letters.number_pattern": "{code}/{seq}/{unit}/{year}",
    # Decisions (Keputusan) run their own series, so their numbers need their own pattern.
    "letters.decision_number_pattern": "{code}/{seq}/KEP/{unit}/{year}",
    # Empty name: the letter prints the name, rank and NIP of the head who signs it.
    "letters.signer_name": "",
    "letters.signer_title": "KEPALA DINAS KOPERASI, USAHA KECIL, TRANSMIGRASI, ENERGI DAN "
    "SUMBER DAYA MINERAL KABUPATEN KARANGANYAR",
    "letters.signer_rank": "",
    "letters.signer_nip": "",
    "letters.signer_prefix": "",
    "letters.signer_position": "",
    "letters.mengingat": [
        "Undang-Undang Nomor 25 Tahun 1992 tentang Perkoperasian sebagaimana telah diubah "
        "dengan Undang-Undang Nomor 6 Tahun 2023 tentang Penetapan Peraturan Pemerintah "
        "Pengganti Undang-Undang Nomor 2 Tahun 2022 tentang Cipta Kerja menjadi Undang-Undang",
        "Peraturan Pemerintah Nomor 17 Tahun 1994 tentang Pembubaran Koperasi oleh Pemerintah",
        "Peraturan Pemerintah Nomor 7 Tahun 2021 tentang Kemudahan, Pelindungan, dan "
        "Pemberdayaan Koperasi dan Usaha Mikro, Kecil, dan Menengah",
        "Peraturan Menteri Koperasi dan Usaha Kecil dan Menengah Nomor 9 Tahun 2018 tentang "
        "Penyelenggaraan dan Pembinaan Perkoperasian",
    ],
    "letters.tembusan": [
        "Bupati Karanganyar (sebagai laporan)",
        "Kepala Dinas Koperasi dan UKM Provinsi Jawa Tengah",
    ],
    "letters.page_size": "A4",
    "letters.proposal_addressee": ["Menteri Koperasi Republik Indonesia", "di", "Jakarta"],
}

SETTING_KEYS = tuple(k for k in DEFAULTS if k != "letters.logo")


class LetterError(Exception):
    """A refused letter action, naming the field at fault (None: the action as a whole)."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


# --- settings -----------------------------------------------------------------------------


def register_defaults() -> None:
    office_settings.register_defaults(DEFAULTS)


def current_settings() -> dict[str, Any]:
    """The letter settings now, as plain JSON (keys without the 'letters.' prefix)."""
    return {key.removeprefix("letters."): office_settings.get(key) for key in DEFAULTS}


def image_kind(data: bytes) -> str | None:
    """'png' / 'jpeg' judged by content, never by the file name."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if data.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    return None


def save_settings(values: dict[str, Any], actor: User) -> list[str]:
    """Store changed letter settings; returns the changed keys."""
    require(actor.role == ADMIN, _("Only an administrator can change the letter settings."))
    patterns = {}
    for name in ("number_pattern", "decision_number_pattern"):
        pattern = values.get(name, office_settings.get(f"letters.{name}"))
        if "{seq" not in pattern:
            raise LetterError(_("The number pattern must contain {seq}."), name)
        try:
            patterns[name] = formatting.letter_number(pattern, "500", 1, "X", 2026)
        except (ValueError, IndexError, KeyError) as e:
            raise LetterError(str(e) or _("The number pattern is not valid."), name) from e
    if patterns["number_pattern"] == patterns["decision_number_pattern"]:
        raise LetterError(
            _("Decisions are numbered separately: their pattern must differ from the letters'."),
            "decision_number_pattern",
        )
    if values.get("page_size", "A4") not in render.PAGE_SIZES:
        raise LetterError(_("Choose A4 or F4."), "page_size")
    if values.get("signer_prefix", "") not in render.SIGNER_PREFIXES:
        raise LetterError(_("Choose a signature prefix from the list."), "signer_prefix")
    changed = []
    for name, value in values.items():
        key = f"letters.{name}"
        if key not in SETTING_KEYS:
            continue
        if office_settings.get(key) != value:
            office_settings.put(key, value, actor)
            changed.append(name)
    return changed


def save_logo(data: bytes | None, actor: User) -> None:
    """Store the letterhead logo (PNG/JPEG checked by content); None removes it."""
    require(actor.role == ADMIN, _("Only an administrator can change the letter settings."))
    if data is None:
        office_settings.put("letters.logo", "", actor)
        return
    if len(data) > LOGO_MAX_BYTES:
        raise LetterError(_("The logo may be at most 512 KB."), "logo")
    if image_kind(data) is None:
        raise LetterError(_("The logo must be a PNG or JPEG image."), "logo")
    problem = uploads.file_problem(data, max_pixels=LOGO_MAX_PIXELS)
    if problem is not None:
        raise LetterError(_file_problem_message(problem, _("logo"), LOGO_MAX_PIXELS), "logo")
    office_settings.put("letters.logo", base64.b64encode(data).decode("ascii"), actor)


def letter_settings(snapshot: dict[str, Any], signer: User | None) -> LetterSettings:
    """Renderer settings from a settings snapshot; the signer's account fills an empty name."""
    logo = base64.b64decode(snapshot["logo"]) if snapshot.get("logo") else None
    name, rank, nip = snapshot["signer_name"], snapshot["signer_rank"], snapshot["signer_nip"]
    if not name.strip() and signer is not None:
        name, rank, nip = signer.full_name, signer.rank or "", signer.nip or ""
    return LetterSettings(
        letterhead_lines=list(snapshot["letterhead_lines"]),
        signer_name=name,
        signer_title=snapshot["signer_title"],
        signer_nip=nip,
        signer_rank=rank,
        signer_prefix=snapshot["signer_prefix"],
        signer_position=snapshot["signer_position"],
        address_line=snapshot["address_line"],
        contact_line=snapshot["contact_line"],
        logo_bytes=logo,
        place=snapshot["place"],
        mengingat=list(snapshot["mengingat"]),
        tembusan=list(snapshot["tembusan"]),
        page_size=snapshot["page_size"],
    )


def _stored_snapshot(snapshot: dict[str, Any], printed: LetterSettings) -> dict[str, Any]:
    """What a letter keeps of its settings: everything, the logo by hash only."""
    kept = {k: v for k, v in snapshot.items() if k != "logo"}
    kept["logo_sha256"] = (
        hashlib.sha256(printed.logo_bytes).hexdigest() if printed.logo_bytes else None
    )
    kept.update(
        signer_name=printed.signer_name,
        signer_rank=printed.signer_rank,
        signer_nip=printed.signer_nip,
    )
    return kept


# --- numbers, tokens ----------------------------------------------------------------------


def number_pattern(snapshot: dict[str, Any], kind: str) -> str:
    key = "decision_number_pattern" if SERIES[kind] == "keputusan" else "number_pattern"
    return snapshot[key]


def take_numbers(series: str, year: int, count: int = 1) -> list[int]:
    """The next `count` numbers of a series in a year, locked until the transaction ends.

    The row is created with INSERT ... ON CONFLICT DO NOTHING and then read with
    SELECT ... FOR UPDATE, so two concurrent sign-offs wait for each other instead of taking
    the same number; a rolled-back issue rolls the counter back too, so no number is skipped.
    """
    dialect = db.session.get_bind().dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    db.session.execute(
        insert(LetterSequence).values(kind=series, year=year, last_seq=0).on_conflict_do_nothing()
    )
    row = db.session.execute(
        select(LetterSequence)
        .where(LetterSequence.kind == series, LetterSequence.year == year)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).scalar_one()
    start = row.last_seq + 1
    row.last_seq = row.last_seq + count
    db.session.flush()
    return list(range(start, start + count))


def new_short_code() -> str:
    raw = "".join(secrets.choice(SHORT_CODE_ALPHABET) for _ in range(SHORT_CODE_LENGTH))
    return f"{raw[:5]}-{raw[5:]}"


def normalize_short_code(text: str) -> str:
    """What a person typed -> the stored form: case, spaces, dashes and O/I/L forgiven."""
    cleaned = "".join(ch for ch in text.upper() if ch.isalnum())
    cleaned = cleaned.translate(str.maketrans({"O": "0", "I": "1", "L": "1"}))
    if len(cleaned) != SHORT_CODE_LENGTH or any(c not in SHORT_CODE_ALPHABET for c in cleaned):
        return ""
    return f"{cleaned[:5]}-{cleaned[5:]}"


def verify_url(token: str) -> str:
    return current_app.config["PUBLIC_BASE_URL"].rstrip("/") + f"/verify/{token}"


# --- letter data --------------------------------------------------------------------------


def coop_info(coop: Cooperative) -> CoopInfo:
    street = (coop.street or "").strip()
    rt_rw = ""
    if coop.rt or coop.rw:
        rt_rw = f"RT {(coop.rt or '-').zfill(3)}/RW {(coop.rw or '-').zfill(3)}"
    line = ", ".join(p for p in (street, rt_rw) if p)
    return CoopInfo(
        name=coop.name,
        bh_number=coop.bh_number or "",
        bh_date=coop.bh_date,
        address_lines=[line] if line else [],
        desa=coop.desa.nama if coop.desa else "",
        kecamatan=coop.kecamatan.nama if coop.kecamatan else "",
        chair_name=coop.chair_name or "",
    )


def _lines(text: str | None) -> list[str]:
    return [line.strip(" -•\t") for line in (text or "").splitlines() if line.strip(" -•\t")]


def _evidence_line(item: Any) -> str:
    if isinstance(item, dict):
        for key in ("summary", "label", "text", "title", "description", "name"):
            if item.get(key):
                return str(item[key])
        return "; ".join(f"{k}: {v}" for k, v in item.items() if v not in (None, "", [], {}))
    return str(item)


def _objection_months() -> int:
    for key in ("rules.objection_window_months", "workflow.objection_window_months"):
        try:
            return int(office_settings.get(key))
        except (KeyError, TypeError, ValueError):
            continue
    from ..rules import DEFAULTS as RULE_DEFAULTS

    return RULE_DEFAULTS.objection_window_months


def latest_letter(coop_id: int, kind: str) -> Letter | None:
    return db.session.execute(
        select(Letter)
        .where(Letter.cooperative_id == coop_id, Letter.kind == kind, Letter.voided_at.is_(None))
        .order_by(Letter.issued_on.desc(), Letter.id.desc())
        .limit(1)
    ).scalar_one_or_none()


def letter_fields(
    kind: str, coop: Cooperative | None, proposal: Any = None, extras: dict | None = None
) -> dict[str, Any]:
    """The LetterData fields (without number/date) for a letter about `coop`."""
    fields_: dict[str, Any] = {"coop": coop_info(coop) if coop is not None else None}
    if proposal is not None:
        reason = getattr(proposal, "reason", "") or ""
        fields_["grounds"] = _lines(reason) or _lines(getattr(proposal, "legal_ground", ""))
        fields_["evidence_summary"] = [
            _evidence_line(e) for e in (getattr(proposal, "evidence", None) or [])
        ]
        if kind in ("reactivation", "reinstatement"):
            fields_["reason"] = reason
            fields_["grounds"] = []
    if kind == "warning":
        fields_["objection_months"] = _objection_months()
    if coop is not None and kind in ("revocation", "objection_decision", "reactivation"):
        ref = latest_letter(coop.id, "warning")
        if ref is not None:
            fields_.update(reference_number=ref.number, reference_date=ref.issued_on)
    if coop is not None and kind == "reinstatement":
        ref = latest_letter(coop.id, "revocation")
        if ref is not None:
            fields_.update(reference_number=ref.number, reference_date=ref.issued_on)
    if kind == "revocation" and coop is not None:
        # Menimbang (a) states why the cooperative is inactive: the grounds of the warning.
        # The sweep's own reason ("the objection window is over") is clause (b), already
        # printed; an inspector's reason for proposing adds to the warning's grounds.
        warning = latest_letter(coop.id, "warning")
        stated = list(warning.snapshot.get("data", {}).get("grounds", [])) if warning else []
        own = [] if getattr(proposal, "by_sweep", False) else fields_.get("grounds", [])
        grounds = list(dict.fromkeys([*stated, *own]))
        if grounds or proposal is None:
            fields_["grounds"] = grounds
    fields_.update(extras or {})
    return fields_


def _jsonable(value: Any) -> Any:
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return value


# --- issuing ------------------------------------------------------------------------------


@dataclass
class IssueItem:
    """One letter of a (bulk) issue."""

    kind: str
    coop: Cooperative | None
    proposal: Any = None
    extras: dict[str, Any] = field(default_factory=dict)


def _render_job(args: tuple[LetterData, LetterSettings]) -> bytes:
    return render.render_pdf(*args)


def issue_letter(
    kind: str,
    coop: Cooperative | None,
    *,
    signer: User,
    today: date,
    proposal: Any = None,
    extras: dict[str, Any] | None = None,
) -> Letter:
    """Issue one letter in the caller's transaction: number, render, store, history."""
    return issue_letters(
        [IssueItem(kind, coop, proposal, dict(extras or {}))], signer=signer, today=today
    )[0]


def issue_letters(
    items: Sequence[IssueItem], *, signer: User, today: date, workers: int = 1
) -> list[Letter]:
    """Issue letters in one transaction; numbers are taken in the order of `items`.

    With workers > 1 the PDFs are rendered in a process pool (WeasyPrint is single-threaded
    CPU work); the numbers are already fixed, so the order of completion does not matter.
    """
    return prepare_letters(items, signer=signer, today=today, workers=workers).record()


@dataclass
class PreparedLetters:
    """Letters numbered and rendered, not yet stored: `record()` adds them with their history
    rows. Rendering takes ~100-300 ms a letter and appending history locks the history head
    until the commit, so the slow part is done before any history row of the transaction.

    Prepared inside `rendering_batch()`, the letters wait unrendered; the first `record()` of
    the batch renders every waiting letter of it at once, in parallel.
    """

    letters: list[Letter]
    signer: User
    now: datetime
    jobs: list[tuple[LetterData, LetterSettings]] = field(default_factory=list)
    batch: RenderBatch | None = None

    def attach(self, pdfs: Sequence[bytes]) -> None:
        for letter, pdf in zip(self.letters, pdfs, strict=True):
            letter.pdf = pdf
            letter.sha256 = hashlib.sha256(pdf).hexdigest()
        self.jobs = []

    def record(self) -> list[Letter]:
        if self.jobs:
            if self.batch is not None:
                self.batch.render_waiting()
            else:
                self.attach(_render_all(self.jobs, 1))
        db.session.add_all(self.letters)
        db.session.flush()
        rows = [
            {
                "kind": "letter_issued",
                "cooperative_id": letter.cooperative_id,
                "actor_id": self.signer.id,
                "at": self.now,
                "data": {
                    "letter_id": letter.id,
                    "number": letter.number,
                    "letter_kind": letter.kind,
                    "sha256": letter.sha256,
                },
            }
            for letter in self.letters
        ]
        if len(rows) == 1:
            row = rows[0]
            history.record(
                "letter_issued",
                cooperative_id=row["cooperative_id"],
                actor=self.signer,
                data=row["data"],
            )
        else:
            history.record_many(rows)
        return self.letters


class RenderBatch:
    """Letters prepared while this batch is current render together (see `rendering_batch`).

    With several workers, a letter goes to the process pool as soon as it is prepared (once
    MIN_POOL_JOBS are waiting), so the pool renders while the caller prepares the next
    proposals; the first record waits for all of them. The pool is kept for the whole batch.
    """

    def __init__(self, workers: int) -> None:
        self.workers = workers
        self.waiting: list[tuple[PreparedLetters, list[Future[bytes]] | None]] = []
        self._pool: Any = None

    def add(self, prepared: PreparedLetters) -> None:
        self.waiting.append((prepared, None))
        if self.workers > 1 and (self._pool is not None or len(self.waiting) >= MIN_POOL_JOBS):
            if self._pool is None:
                self._pool = render_pool(self.workers)
            self.waiting = [
                (
                    p,
                    futures
                    if futures is not None
                    else [self._pool.submit(_render_job, job) for job in p.jobs],
                )
                for p, futures in self.waiting
            ]

    def render_waiting(self) -> None:
        waiting, self.waiting = self.waiting, []
        for prepared, futures in waiting:
            if not prepared.jobs:
                continue
            if futures is None:
                prepared.attach([_render_job(job) for job in prepared.jobs])
            else:
                prepared.attach([future.result() for future in futures])

    def discard(self) -> None:
        """Forget the letters waiting (their transaction was rolled back)."""
        waiting, self.waiting = self.waiting, []
        for _prepared, futures in waiting:
            for future in futures or []:
                future.cancel()

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(cancel_futures=True)
            self._pool = None


_current_batch: ContextVar[RenderBatch | None] = ContextVar("letters_render_batch", default=None)


@contextmanager
def rendering_batch(workers: int) -> Iterator[RenderBatch]:
    """Letters prepared inside wait and render together, in `workers` processes, when the
    first of them is recorded (a bulk sign-off: see `sanctions.operations.sign_many`)."""
    batch = RenderBatch(workers)
    token = _current_batch.set(batch)
    try:
        yield batch
    finally:
        _current_batch.reset(token)
        batch.close()


def prepare_letters(
    items: Sequence[IssueItem], *, signer: User, today: date, workers: int = 1
) -> PreparedLetters:
    """Number and render letters in the caller's transaction (see `issue_letters`)."""
    require(signer.role in ISSUERS, _("Only the head of office signs letters."))
    for item in items:
        if item.kind not in render.KINDS:
            raise LetterError(_("Unknown letter kind: %(kind)s.", kind=item.kind), "kind")
        if item.kind != "proposal" and item.coop is None:
            raise LetterError(_("This letter needs a cooperative."), "cooperative")
    snap = current_settings()
    printed = letter_settings(snap, signer)
    stored_snap = _stored_snapshot(snap, printed)
    year = today.year
    by_series: dict[str, list[int]] = {}
    for i, item in enumerate(items):
        by_series.setdefault(SERIES[item.kind], []).append(i)
    seqs: dict[int, int] = {}
    for series in sorted(by_series):  # a fixed order: two bulk issues cannot deadlock
        taken = take_numbers(series, year, len(by_series[series]))
        for i, seq in zip(by_series[series], taken, strict=True):
            seqs[i] = seq

    letters: list[Letter] = []
    jobs: list[tuple[LetterData, LetterSettings]] = []
    now = utcnow()
    for i, item in enumerate(items):
        number = formatting.letter_number(
            number_pattern(snap, item.kind),
            snap["classification_code"],
            seqs[i],
            snap["unit_code"],
            year,
        )
        token = secrets.token_urlsafe(24)
        short = new_short_code()
        try:
            data = LetterData(
                kind=item.kind,
                number=number,
                issued_on=today,
                verify_url=verify_url(token),
                short_code=short,
                **letter_fields(item.kind, item.coop, item.proposal, item.extras),
            )
        except (TypeError, ValueError) as e:
            raise LetterError(str(e)) from e
        jobs.append((data, printed))
        letters.append(
            Letter(
                kind=item.kind,
                year=year,
                seq=seqs[i],
                number=number,
                cooperative_id=item.coop.id if item.coop is not None else None,
                proposal_id=getattr(item.proposal, "id", None),
                issued_on=today,
                issued_at=now,
                signer_id=signer.id,
                snapshot={
                    "settings": stored_snap,
                    "data": _jsonable(
                        {
                            k: v
                            for k, v in dataclasses.asdict(data).items()
                            if k not in ("verify_url", "draft")
                        }
                    ),
                },
                token=token,
                short_code=short,
            )
        )
    batch = _current_batch.get()
    prepared = PreparedLetters(letters, signer, now, jobs, batch)
    if batch is not None:
        batch.add(prepared)
    else:
        prepared.attach(_render_all(jobs, workers))
    return prepared


# Fewer letters than this render in the calling process: starting a pool costs ~1 s.
MIN_POOL_JOBS = 8


def render_pool(workers: int) -> Any:
    """A process pool for rendering letters.

    forkserver: workers start from a clean process, never from a copy of one holding database
    connections; the server preloads WeasyPrint once. Each worker is set up by `_start_worker`.
    """
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload(["coop_audit.letters.render"])
    return ProcessPoolExecutor(
        max_workers=workers,
        mp_context=ctx,
        initializer=_start_worker,
        initargs=(os.getpid(),),
    )


def _start_worker(parent_pid: int) -> None:
    # Named here, not in render: unpickling it imports this module (and the models) first, so
    # the worker's set-up below covers them too.
    render.start_worker(parent_pid)


def _render_all(jobs: list[tuple[LetterData, LetterSettings]], workers: int) -> list[bytes]:
    if workers <= 1 or len(jobs) < MIN_POOL_JOBS:
        return [_render_job(job) for job in jobs]
    with render_pool(workers) as pool:
        return list(pool.map(_render_job, jobs, chunksize=max(1, len(jobs) // (workers * 8))))


def preview_letter(
    kind: str,
    coop: Cooperative | None,
    *,
    signer: User | None,
    today: date,
    proposal: Any = None,
    extras: dict[str, Any] | None = None,
) -> bytes:
    """A DRAF-watermarked rendering before signing; takes no number and stores nothing."""
    snap = current_settings()
    number = formatting.letter_number(
        number_pattern(snap, kind), snap["classification_code"], 0, snap["unit_code"], today.year
    ).replace("/0/", "/…/")
    data = LetterData(
        kind=kind,
        number=number,
        issued_on=today,
        draft=True,
        **letter_fields(kind, coop, proposal, extras),
    )
    return render.render_pdf(data, letter_settings(snap, signer))


def revoked_for_proposal(coop_ids: Iterable[int] | None = None) -> list[tuple[Cooperative, Letter]]:
    """Revoked cooperatives with their valid revocation decision, for the upward proposal."""
    stmt = (
        select(Cooperative, Letter)
        .join(Letter, Letter.cooperative_id == Cooperative.id)
        .where(
            Cooperative.status == "license_revoked",
            Letter.kind == "revocation",
            Letter.voided_at.is_(None),
        )
        .order_by(Cooperative.kecamatan_kode, Cooperative.name_key, Letter.id.desc())
    )
    if coop_ids is not None:
        stmt = stmt.where(Cooperative.id.in_(list(coop_ids)))
    seen: dict[int, tuple[Cooperative, Letter]] = {}
    for coop, letter in db.session.execute(stmt).unique():
        seen.setdefault(coop.id, (coop, letter))
    return list(seen.values())


def issue_proposal(
    *,
    signer: User,
    today: date,
    coop_ids: Iterable[int] | None = None,
    addressee_lines: list[str] | None = None,
    reason: str = "",
) -> Letter:
    """The covering letter + Lampiran proposing dissolution of revoked cooperatives upward."""
    pairs = revoked_for_proposal(coop_ids)
    if not pairs:
        raise LetterError(
            _("No revoked cooperative with a valid revocation decision was selected."),
            "cooperatives",
        )
    coops = []
    for coop, rev in pairs:
        info = coop_info(coop)
        info.revocation_number, info.revocation_date = rev.number, rev.issued_on
        coops.append(info)
    addressee = [line for line in (addressee_lines or []) if line.strip()]
    extras = {
        "coops": coops,
        "addressee_lines": addressee or office_settings.get("letters.proposal_addressee"),
        "reason": reason,
    }
    return issue_letter("proposal", None, signer=signer, today=today, extras=extras)


# --- hooks from the sanction workflow -----------------------------------------------------


def on_signoff(proposal: Any, user: User, today: date) -> Callable[[], object] | None:
    """SIGNOFF_HOOKS: a signed proposal issues its letter in the same transaction (rendered
    now, stored by the returned step after the sign-off's history row)."""
    kind = TRIGGER_KINDS.get(getattr(proposal, "trigger", ""))
    if kind is None:
        return None
    item = IssueItem(kind, proposal.cooperative, proposal, {})
    return prepare_letters([item], signer=user, today=today).record


def _objection_coop(objection: Any) -> Cooperative | None:
    coop = getattr(objection, "cooperative", None)
    if coop is None and getattr(objection, "proposal", None) is not None:
        coop = objection.proposal.cooperative
    if coop is None and getattr(objection, "cooperative_id", None):
        coop = db.session.get(Cooperative, objection.cooperative_id)
    return coop


def on_objection_decided(objection: Any, head: User, today: date) -> Callable[[], object]:
    """OBJECTION_HOOKS: the decision on an objection goes out as a letter (rendered now,
    stored by the returned step after the decision's history rows)."""
    accepted = getattr(objection, "accepted", None)
    if accepted is None:
        accepted = getattr(objection, "state", "") == "accepted"
    reasons_text = ""
    for attr in ("decision_reason", "decision_note", "decision_reasons", "reason"):
        if getattr(objection, attr, None):
            reasons_text = getattr(objection, attr)
            break
    received = None
    for attr in ("received_on", "received_date", "filed_on"):
        if getattr(objection, attr, None):
            received = getattr(objection, attr)
            break
    extras = {
        "objection_accepted": bool(accepted),
        "objection_reasons": _lines(reasons_text)
        if isinstance(reasons_text, str)
        else [str(r) for r in reasons_text],
        "objection_received_on": received,
    }
    warning = (
        db.session.get(Letter, objection.letter_id)
        if getattr(objection, "letter_id", None)
        else None
    )
    if warning is not None:
        extras.update(reference_number=warning.number, reference_date=warning.issued_on)
    item = IssueItem("objection_decision", _objection_coop(objection), None, extras)
    return prepare_letters([item], signer=head, today=today).record


# --- after issuing ------------------------------------------------------------------------


def void_letter(letter: Letter, actor: User, reason: str) -> None:
    """Void a letter: the number stays in the register, marked void with the reason."""
    require(actor.role in CLERKS, _("Only a clerk or the head can void a letter."))
    reason = (reason or "").strip()
    if len(reason) < 5:
        raise LetterError(_("Give the reason for voiding (at least 5 characters)."), "reason")
    if letter.is_void:
        raise LetterError(_("This letter is already void."))
    letter.voided_at = utcnow()
    letter.void_reason = reason
    letter.voided_by_id = actor.id
    history.record(
        "letter_voided",
        cooperative_id=letter.cooperative_id,
        actor=actor,
        reason=reason,
        data={"letter_id": letter.id, "number": letter.number, "letter_kind": letter.kind},
    )
    db.session.flush()


# Letters about one cooperative that the head can issue again after a clerk voided them, with
# the status the cooperative must still have for the letter's decision to stand.
REISSUABLE = {
    "warning": "warned",
    "revocation": "license_revoked",
    "reactivation": "active",
    "reinstatement": "active",
}


def replacement_of(letter: Letter) -> Letter | None:
    """The first valid letter of the same kind issued for the cooperative after this one."""
    return db.session.execute(
        select(Letter)
        .where(
            Letter.cooperative_id == letter.cooperative_id,
            Letter.kind == letter.kind,
            Letter.voided_at.is_(None),
            Letter.id > letter.id,
        )
        .order_by(Letter.id)
        .limit(1)
    ).scalar_one_or_none()


def reissue_closed(letter: Letter) -> str | None:
    """Why this letter cannot be issued again, or None."""
    if not letter.is_void:
        return _("Only a void letter can be issued again.")
    if letter.kind not in REISSUABLE or letter.cooperative is None:
        return _("This kind of letter is not issued again here.")
    newer = replacement_of(letter)
    if newer is not None:
        return _("It was issued again already: %(number)s.", number=newer.number)
    if letter.cooperative.status != REISSUABLE[letter.kind]:
        # e.g. a warning voided, and the cooperative reactivated since: nothing to announce
        return _(
            "The cooperative's status changed since this letter (now: %(status)s): its decision "
            "no longer stands, so it is not issued again.",
            status=Status(letter.cooperative.status).label,
        )
    return None


def reissue_letter(letter: Letter, head: User, *, today: date) -> Letter:
    """The head issues a voided letter again (e.g. it went to a wrong address): the same
    decision and grounds, a new number and date, signed now. The cooperative's status does not
    move; its clock starts from the new letter's receipt."""
    require(head.role == HEAD, _("Only the head of office signs a letter issued again."))
    _lock_letter(letter)  # a second head's request waits here, then finds the replacement
    closed = reissue_closed(letter)
    if closed is not None:
        raise LetterError(closed)
    from ..models.workflow import Proposal

    proposal = db.session.get(Proposal, letter.proposal_id) if letter.proposal_id else None
    # The four-eyes rule of a signed decision holds for its letter too (a reinstatement is the
    # head's own act: no second person).
    if proposal is not None and move_for(proposal.trigger).needs_signoff:
        refusal = signoff_refusal(proposal.trigger, head.role, head.id, proposal.proposed_by_id)
        if refusal is not None:
            raise PermissionDenied(str(refusal))
    stored = (letter.snapshot or {}).get("data", {})
    extras = {k: stored[k] for k in ("grounds", "evidence_summary", "reason") if stored.get(k)}
    new = issue_letter(
        letter.kind,
        letter.cooperative,
        signer=head,
        today=today,
        proposal=proposal,
        extras=extras,
    )
    history.record(
        "letter_reissued",
        cooperative_id=letter.cooperative_id,
        actor=head,
        data={
            "letter_id": new.id,
            "number": new.number,
            "letter_kind": new.kind,
            "replaces_id": letter.id,
            "replaces": letter.number,
        },
    )
    return new


def scan_kind(data: bytes) -> str | None:
    if data.startswith(b"%PDF-"):
        return "pdf"
    return image_kind(data)


def store_scan(data: bytes) -> str:
    """Save an uploaded receipt scan outside the web root under a random name."""
    kind = scan_kind(data)
    if kind is None:
        raise LetterError(_("The scan must be a PDF, JPEG or PNG file."), "scan")
    if len(data) > SCAN_MAX_BYTES:
        raise LetterError(_("The scan may be at most 10 MB."), "scan")
    folder = Path(current_app.config["UPLOAD_DIR"]) / "receipts"
    folder.mkdir(parents=True, exist_ok=True)
    name = f"{secrets.token_hex(16)}.{'jpg' if kind == 'jpeg' else kind}"
    tmp = folder / f".{name}.part"
    tmp.write_bytes(data)
    os.replace(tmp, folder / name)
    return f"receipts/{name}"


def scan_path(letter: Letter) -> Path | None:
    if not letter.receipt_scan:
        return None
    root = Path(current_app.config["UPLOAD_DIR"]).resolve()
    path = (root / letter.receipt_scan).resolve()
    return path if path.is_relative_to(root) and path.is_file() else None


def receipt_closed(letter: Letter) -> str | None:
    """Why no receipt can be recorded on this letter (whatever the form says), or None."""
    if letter.is_void:
        return _("A void letter cannot be received.")
    if letter.clock_start is not None:
        return _("The receipt of this letter is already recorded.")
    return None


def _file_problem_message(problem: str, what: str, max_pixels: int = 0) -> str:
    if problem == "pixels":
        return _(
            "This %(what)s has too many pixels (at most %(max)s million): save it at a lower "
            "resolution (300 dpi is plenty).",
            what=what,
            max=(max_pixels or uploads.MAX_PIXELS) // 1_000_000,
        )
    return _("This %(what)s file is damaged: it does not open as a PDF or an image.", what=what)


def receipt_problems(
    letter: Letter,
    *,
    method: str,
    today: date,
    received_on: date | None = None,
    receiver: str = "",
    announced_on: date | None = None,
    scan: bytes | None = None,
) -> dict[str, str]:
    """Every field of a receipt that cannot be recorded, with its message (empty: all fine).
    The receipt form shows them all at once; `record_receipt` refuses on the first."""
    problems: dict[str, str] = {}
    if method not in RECEIPT_METHODS:
        problems["method"] = _("Choose how the letter was delivered.")
    else:
        if method == "announcement":
            field_name, start = "announced_on", announced_on
            missing = _("Give the date the announcement started.")
        else:
            field_name, start = "received_on", received_on
            missing = _("Give the date the letter was received.")
            if not (receiver or "").strip():
                problems["receiver"] = _("Give the name of the person who received it.")
        if start is None:
            problems[field_name] = missing
        elif start > today:
            problems[field_name] = _("The date cannot be in the future.")
        elif start < letter.issued_on:
            problems[field_name] = _("The date cannot be before the letter was issued.")
    if len((receiver or "").strip()) > 120:
        problems["receiver"] = _("The name may be at most 120 characters.")
    if scan is not None:
        if scan_kind(scan) is None:
            problems["scan"] = _("The scan must be a PDF, JPEG or PNG file.")
        elif len(scan) > SCAN_MAX_BYTES:
            problems["scan"] = _("The scan may be at most 10 MB.")
        elif (problem := uploads.file_problem(scan)) is not None:
            problems["scan"] = _file_problem_message(problem, _("scan"))
    return problems


def record_receipt(
    letter: Letter,
    actor: User,
    *,
    method: str,
    today: date,
    received_on: date | None = None,
    receiver: str = "",
    announced_on: date | None = None,
    scan: bytes | None = None,
    correction: str | None = None,
) -> None:
    """Record the proof of receipt; its date starts the workflow's legal clock. With
    `correction` (its reason: see `correct_receipt`) it replaces the recorded one."""
    require(actor.role in CLERKS, _("Only a clerk can record a receipt."))
    if correction is not None:  # an objection filed meanwhile is seen by the check below
        _lock_letter(letter)
    closed = receipt_closed(letter) if correction is None else correction_closed(letter)
    if closed is not None:
        raise LetterError(closed)
    receiver = (receiver or "").strip()
    problems = receipt_problems(
        letter,
        method=method,
        today=today,
        received_on=received_on,
        receiver=receiver,
        announced_on=announced_on,
        scan=scan,
    )
    if problems:
        field_name, message = next(iter(problems.items()))
        raise LetterError(message, field_name)
    if method == "announcement":
        received_on = None
    else:
        announced_on = None
    before = _receipt_facts(letter)
    if scan is not None:
        letter.receipt_scan = store_scan(scan)
    letter.receipt_method = method
    letter.receipt_date = received_on
    letter.announced_on = announced_on
    letter.receipt_receiver = receiver or None
    letter.receipt_recorded_at = utcnow()
    letter.receipt_recorded_by_id = actor.id
    # Received (or announced) by that day: it left by then at the latest, whatever was marked.
    arrived = received_on or announced_on
    if arrived is not None and (
        letter.sent_at is None or letter.sent_at > local_start_of_day(arrived)
    ):
        letter.sent_at = min(utcnow(), local_start_of_day(arrived))
    elif letter.sent_at is None:
        letter.sent_at = utcnow()
    data = {
        "letter_id": letter.id,
        "number": letter.number,
        "letter_kind": letter.kind,
        "method": method,
        "receipt_date": received_on,
        "announced_on": announced_on,
        "receiver": receiver or None,
    }
    if correction is not None:  # what it said before, and why it changed
        data.update(corrected_from=before, correction_reason=correction)
    history.record(
        "receipt_corrected" if correction is not None else "receipt",
        cooperative_id=letter.cooperative_id,
        actor=actor,
        reason=correction,
        data=data,
    )
    db.session.flush()


def _lock_letter(letter: Letter) -> None:
    """Hold the letter and its cooperative until the commit, then re-read the letter.

    The letter row is written (its own value): a row lock on PostgreSQL, the write lock on
    SQLite, so a second request doing the same waits. The cooperative row is locked as filing
    an objection or proposing a move locks it, so those wait too (PostgreSQL).
    """
    db.session.execute(
        update(Letter).where(Letter.id == letter.id).values(voided_at=Letter.voided_at)
    )
    if letter.cooperative_id is not None:
        db.session.execute(
            select(Cooperative.id).where(Cooperative.id == letter.cooperative_id).with_for_update()
        ).all()
    db.session.refresh(letter)


def _receipt_facts(letter: Letter) -> dict[str, Any]:
    return {
        "method": letter.receipt_method,
        "receipt_date": letter.receipt_date,
        "announced_on": letter.announced_on,
        "receiver": letter.receipt_receiver,
        "scan": letter.receipt_scan,  # a replaced scan stays on disk, found from here
    }


def correction_closed(letter: Letter) -> str | None:
    """Why the recorded receipt of this letter cannot be corrected any more, or None.

    The receipt date starts the objection window; once a later step rests on it (an objection
    against this letter, a revocation proposed after it), changing it would change that step's
    grounds: the receipt stays, and the head decides on the step itself.
    """
    from ..models.workflow import Objection, Proposal
    from ..sanctions.operations import latest_warning

    if letter.is_void:
        return _("A void letter cannot be received.")
    if letter.clock_start is None:
        return _("No receipt is recorded on this letter yet.")
    if letter.kind == "warning" and latest_warning(letter.cooperative_id) is not letter:
        return _(
            "A newer warning was issued since: the cooperative's clock no longer runs on this "
            "one, and its receipt is not corrected."
        )
    objection = db.session.execute(
        select(Objection.id).where(Objection.letter_id == letter.id).limit(1)
    ).first()
    if objection is not None:
        return _(
            "An objection against this letter is recorded, and its dates rest on this receipt: "
            "the receipt can no longer be corrected."
        )
    proposal = db.session.execute(
        select(Proposal.id)
        .where(
            Proposal.cooperative_id == letter.cooperative_id,
            Proposal.trigger == "revoke",
            Proposal.state.in_(("pending", "signed")),
            Proposal.proposed_on >= letter.issued_on,
        )
        .limit(1)
    ).first()
    if letter.kind == "warning" and proposal is not None:
        return _(
            "A revocation was proposed after this warning, resting on this receipt: the receipt "
            "can no longer be corrected."
        )
    return None


def correct_receipt(letter: Letter, actor: User, *, reason: str, **receipt: Any) -> None:
    """Correct a recorded receipt (a mistyped date or name): `receipt` holds the fields of
    `record_receipt`. The history keeps both versions and the reason; without a new scan the
    stored one stays."""
    reason = (reason or "").strip()
    if not reason:
        raise LetterError(_("Say why the receipt is corrected."), "reason")
    if len(reason) > 1000:
        raise LetterError(_("The reason may be at most 1000 characters."), "reason")
    if letter.kind == "warning" and actor.role != HEAD:
        _require_head_if_window_turns(letter, receipt)
    record_receipt(letter, actor, correction=reason, **receipt)


def _require_head_if_window_turns(letter: Letter, receipt: dict[str, Any]) -> None:
    """A correction that closes the objection window today (the sweep then proposes the
    revocation) or reopens a closed one is the head's to make, not a clerk's alone."""
    from ..rules import objection_window_over
    from ..sanctions.operations import rule_settings

    announced = receipt.get("method") == "announcement"
    start = receipt.get("announced_on") if announced else receipt.get("received_on")
    if start is None:
        return  # refused by the receipt's own checks
    s, today = rule_settings(), receipt["today"]
    was_announced = letter.receipt_date is None and letter.announced_on is not None
    before = objection_window_over(letter.clock_start, today, s, announced=was_announced)
    after = objection_window_over(start, today, s, announced=announced)
    if before != after:
        raise LetterError(
            _(
                "This correction would close the objection window today: only the head of "
                "office can make it."
            )
            if after
            else _(
                "This correction would reopen the closed objection window: only the head of "
                "office can make it."
            ),
            "announced_on" if announced else "received_on",
        )


# --- register, batches --------------------------------------------------------------------


# The register's order (page and XLSX export): newest issue date first; within a day by kind,
# then the highest number first; the id breaks any remaining tie so paging is stable.
REGISTER_ORDER = (Letter.issued_on.desc(), Letter.kind, Letter.seq.desc(), Letter.id.desc())
# A print run's order: by year, kind and number, ascending (the paper stack reads upwards).
PRINT_ORDER = (Letter.year, Letter.kind, Letter.seq, Letter.id)


@dataclass
class LetterFilter:
    kind: str = ""
    year: int | None = None
    kecamatan: str = ""  # kode or name
    unsent: bool = False
    state: str = ""  # "", "valid", "void"
    q: str = ""

    @classmethod
    def from_args(cls, args: Any) -> LetterFilter:
        kind = args.get("kind", "")
        year = args.get("year", "")
        state = args.get("state", "")
        return cls(
            kind=kind if kind in render.KINDS else "",
            year=int(year) if str(year).isdigit() and 2000 <= int(year) <= 2999 else None,
            kecamatan=str(args.get("kecamatan", ""))[:60],
            unsent=str(args.get("unsent", "")).lower() in ("1", "true", "on", "y", "yes"),
            state=state if state in ("valid", "void") else "",
            q=str(args.get("q", "")).strip()[:100],
        )

    def as_args(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for k in ("kind", "kecamatan", "state", "q"):
            if getattr(self, k):
                out[k] = getattr(self, k)
        if self.year:
            out["year"] = self.year
        if self.unsent:
            out["unsent"] = "1"
        return out

    def select(self) -> Select:
        """The matching letters in the register's order (REGISTER_ORDER)."""
        stmt = select(Letter).outerjoin(Cooperative, Letter.cooperative_id == Cooperative.id)
        if self.kind:
            stmt = stmt.where(Letter.kind == self.kind)
        if self.year:
            stmt = stmt.where(Letter.year == self.year)
        if self.kecamatan:
            kec = db.session.execute(
                select(Kecamatan.kode).where(
                    (Kecamatan.kode == self.kecamatan)
                    | (Kecamatan.nama.ilike(self.kecamatan.strip()))
                )
            ).scalar_one_or_none()
            stmt = stmt.where(Cooperative.kecamatan_kode == (kec or "-"))
        if self.unsent:
            stmt = stmt.where(Letter.sent_at.is_(None), Letter.voided_at.is_(None))
        if self.state == "valid":
            stmt = stmt.where(Letter.voided_at.is_(None))
        elif self.state == "void":
            stmt = stmt.where(Letter.voided_at.is_not(None))
        if self.q:
            like = f"%{self.q.lower()}%"
            stmt = stmt.where(Letter.number.ilike(like) | Cooperative.name_key.like(like))
        return stmt.order_by(*REGISTER_ORDER)


def batch_letters(flt: LetterFilter) -> list[int]:
    """Ids of the valid letters a print run of this filter contains, in print order."""
    stmt = (
        flt.select()
        .where(Letter.voided_at.is_(None))
        .with_only_columns(Letter.id)
        .order_by(None)
        .order_by(*PRINT_ORDER)
    )
    return list(db.session.execute(stmt).scalars())


def merged_pdf(letter_ids: Sequence[int], progress: Any = None, chunk: int = 100) -> bytes:
    """One PDF of the stored letters in the given order (no rendering)."""
    pdfs: list[bytes] = []
    for start in range(0, len(letter_ids), chunk):
        ids = list(letter_ids[start : start + chunk])
        # Only the stored bytes: loading whole Letter rows (settings snapshots) costs more
        # than the merge itself.
        rows = db.session.execute(select(Letter.id, Letter.pdf).where(Letter.id.in_(ids)))
        found = {letter_id: pdf for letter_id, pdf in rows}
        missing = [i for i in ids if i not in found]
        if missing:
            raise LetterError(_("Letter %(id)s no longer exists.", id=missing[0]))
        pdfs.extend(found[i] for i in ids)
        if progress is not None:
            progress(len(pdfs))
    return render.merge_pdfs(pdfs)


def mark_sent(letter_ids: Sequence[int], actor: User | None, now: datetime | None = None) -> int:
    """Mark printed letters as sent (those not already marked); returns how many changed."""
    when = now or utcnow()
    count = 0
    for start in range(0, len(letter_ids), 500):
        for letter in db.session.execute(
            select(Letter).where(
                Letter.id.in_(list(letter_ids[start : start + 500])), Letter.sent_at.is_(None)
            )
        ).scalars():
            letter.sent_at = when
            count += 1
    db.session.flush()
    return count


def create_batch_job(flt: LetterFilter, actor: User, *, mark_sent: bool = True) -> BatchJob:
    require(actor.role in CLERKS, _("Only a clerk can print letters in a batch."))
    ids = batch_letters(flt)
    if not ids:
        raise LetterError(_("No valid letter matches this selection."))
    job = BatchJob(
        status="queued",
        letter_ids=ids,
        filters={**flt.as_args(), "mark_sent": mark_sent},
        total=len(ids),
        progress=0,
        created_by_id=actor.id,
        created_at=utcnow(),
        heartbeat_at=utcnow(),
    )
    db.session.add(job)
    db.session.flush()
    return job


def batch_dir() -> Path:
    path = Path(current_app.config["LETTER_DIR"]) / "batches"
    path.mkdir(parents=True, exist_ok=True)
    return path


def write_atomically(path: Path, data: bytes) -> None:
    """Write to a temporary name in the same folder, then rename: readers never see half."""
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.part")
    with tmp.open("wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


# --- XLSX register ------------------------------------------------------------------------

KIND_NAMES_ID = {
    "warning": "Surat Peringatan",
    "revocation": "Keputusan Pencabutan Izin",
    "objection_decision": "Keputusan atas Keberatan",
    "reactivation": "Surat Pengaktifan Kembali",
    "reinstatement": "Surat Pemulihan Izin",
    "proposal": "Usulan Pembubaran",
}


def safe_cell(value: Any) -> Any:
    """Text that a spreadsheet would read as a formula gets a leading quote."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def register_xlsx(letters: Iterable[Letter]) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    wb = Workbook()
    ws = wb.active
    ws.title = "Agenda Surat Keluar"
    header = [
        "No.",
        "Nomor Surat",
        "Tanggal",
        "Jenis",
        "Koperasi",
        "Nomor Badan Hukum",
        "Kecamatan",
        "Penandatangan",
        "Status",
        "Alasan Pembatalan",
        "Dikirim",
        "Diterima",
        "Penerima",
        "SHA-256",
    ]
    ws.append(header)
    for cell in ws[1]:
        cell.font = Font(bold=True)
    for i, letter in enumerate(letters, start=1):
        coop = letter.cooperative
        row = [
            i,
            letter.number,
            letter.issued_on,
            KIND_NAMES_ID.get(letter.kind, letter.kind),
            coop.name if coop else "",
            (coop.bh_number or "") if coop else "",
            coop.kecamatan.nama if coop else "",
            letter.snapshot.get("settings", {}).get("signer_name") or letter.signer.full_name,
            "BATAL" if letter.is_void else "SAH",
            letter.void_reason or "",
            local_today(letter.sent_at) if letter.sent_at else None,  # the office's day
            letter.clock_start,
            letter.receipt_receiver or "",
            letter.sha256,
        ]
        ws.append([safe_cell(v) for v in row])
        r = ws.max_row
        # Numbers and hashes stay text: a BH number like 518/12/2008 must not become a date.
        for col in (2, 6, 14):
            ws.cell(r, col).number_format = "@"
        for col in (3, 11, 12):
            ws.cell(r, col).number_format = "DD/MM/YYYY"
    widths = [6, 30, 12, 26, 40, 30, 16, 30, 8, 30, 12, 12, 24, 66]
    for idx, width in enumerate(widths, start=1):
        ws.column_dimensions[ws.cell(1, idx).column_letter].width = width
    ws.freeze_panes = "A2"
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def stale_cutoff(now: datetime, seconds: int) -> datetime:
    return now - timedelta(seconds=seconds)
