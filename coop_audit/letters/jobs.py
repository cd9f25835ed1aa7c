"""The job queue: huey on SQLite by default, Redis when REDIS_URL is set.

- Batch printing: a job merges stored PDFs (no rendering), reports progress on its BatchJob
  row, writes the result to a temporary file and renames it into place, so a killed worker
  never leaves a half PDF that could be served.
- Bulk sign-off: a job signs the ticked proposals in chunks of SIGN_CHUNK, each chunk in one
  transaction with its outcomes on the SignJob row; the chunk's letters render together in a
  process pool (`operations.rendering_batch`).

A job whose heartbeat stops is re-queued (or failed after MAX_ATTEMPTS).
"""

from __future__ import annotations

import dataclasses
import logging
from datetime import date, datetime
from pathlib import Path
from typing import Any

from flask import Flask, current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from huey import RedisHuey, SqliteHuey
from sqlalchemy import select

from ..extensions import db
from ..models import User
from ..models.letters import BatchJob
from ..models.workflow import SignJob
from ..sanctions import operations as sanctions_ops
from ..timeutil import utcnow
from . import operations as ops

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 3
# A running job that has not reported for this long lost its worker.
STALE_SECONDS = 120
# Proposals signed per transaction: long enough to keep the render pool busy, short enough
# that other writers (on SQLite: every writer) wait only a few seconds for the lock (~1-3 s).
SIGN_CHUNK = 25


def init_app(app: Flask) -> None:
    if app.config.get("HUEY_IMMEDIATE"):
        huey: Any = SqliteHuey("coop_audit", immediate=True)
    elif app.config.get("REDIS_URL"):
        huey = RedisHuey("coop_audit", url=app.config["REDIS_URL"])
    else:
        Path(app.config["HUEY_FILE"]).parent.mkdir(parents=True, exist_ok=True)
        huey = SqliteHuey("coop_audit", filename=app.config["HUEY_FILE"])

    @huey.task(name="letters.batch_print")
    def batch_print(job_id: int) -> None:
        with app.app_context():
            run_batch_job(job_id)

    @huey.task(name="workflow.bulk_sign")
    def bulk_sign(job_id: int) -> None:
        with app.app_context():
            run_sign_job(job_id)

    app.extensions["huey"] = huey
    app.extensions["letters.batch_print"] = batch_print
    app.extensions["workflow.bulk_sign"] = bulk_sign


def enqueue(job: BatchJob | SignJob) -> None:
    """Hand the (committed) job to the queue."""
    task = "workflow.bulk_sign" if isinstance(job, SignJob) else "letters.batch_print"
    current_app.extensions[task](job.id)


def run_batch_job(job_id: int) -> None:
    """Run one batch job in its own transaction(s); never raises for a failed merge."""
    job = db.session.execute(
        select(BatchJob).where(BatchJob.id == job_id).with_for_update(of=BatchJob)
    ).scalar_one_or_none()
    if job is None or job.status not in ("queued",):
        db.session.rollback()
        return
    job.status = "running"
    job.attempts += 1
    job.progress = 0
    job.heartbeat_at = utcnow()
    db.session.commit()
    ids = list(job.letter_ids)

    def progress(done: int) -> None:
        job.progress = done
        job.heartbeat_at = utcnow()
        db.session.commit()

    try:
        data = ops.merged_pdf(ids, progress=progress)
        target = ops.batch_dir() / f"batch-{job.id}-{ops.secrets.token_hex(8)}.pdf"
        ops.write_atomically(target, data)
        job.result_path = str(target)
        job.status = "done"
        job.progress = job.total
        job.finished_at = utcnow()
        ops.mark_sent(ids, job.created_by, now=job.finished_at)
        db.session.commit()
    except Exception as e:  # any failure: the job is marked, the queue keeps running
        db.session.rollback()
        log.exception("batch job %s failed", job_id)
        _fail(job_id, BatchJob, getattr(e, "message", None) or str(e) or type(e).__name__)


def create_sign_job(
    proposal_ids: list[int], signer: User, decided_on: date, locale: str = "id"
) -> SignJob:
    """A bulk sign-off for the queue, in the caller's transaction (commit, then `enqueue`)."""
    ids = list(dict.fromkeys(proposal_ids))  # each once, in the order ticked
    job = SignJob(
        status="queued",
        proposal_ids=ids,
        decided_on=decided_on,
        locale=locale,
        outcomes=[],
        total=len(ids),
        created_by_id=signer.id,
        created_at=utcnow(),
    )
    db.session.add(job)
    db.session.flush()
    return job


def run_sign_job(job_id: int) -> None:
    """Sign a job's proposals chunk by chunk; never raises for a failed chunk.

    The checks are those of a single sign-off (role, four-eyes, still pending, a legal move),
    made for each proposal when its chunk runs, as the head who asked.
    """
    job = db.session.execute(
        select(SignJob).where(SignJob.id == job_id).with_for_update(of=SignJob)
    ).scalar_one_or_none()
    if job is None or job.status != "queued":
        db.session.rollback()
        return
    job.status = "running"
    job.attempts += 1
    job.heartbeat_at = utcnow()
    db.session.commit()
    try:
        done = {o["proposal_id"] for o in job.outcomes}
        todo = [pid for pid in job.proposal_ids if pid not in done]  # a retry skips those
        with (
            force_locale(job.locale),
            ops.rendering_batch(current_app.config["LETTER_RENDER_WORKERS"]),
        ):
            for start in range(0, len(todo), SIGN_CHUNK):
                outcomes = sanctions_ops.sign_many(
                    todo[start : start + SIGN_CHUNK], job.created_by, today=job.decided_on
                )
                job.outcomes = [*job.outcomes, *map(dataclasses.asdict, outcomes)]
                job.heartbeat_at = utcnow()
                db.session.commit()
        job.status = "done"
        job.finished_at = utcnow()
        db.session.commit()
    except Exception as e:  # the chunks committed so far stay signed and reported
        db.session.rollback()
        log.exception("sign job %s failed", job_id)
        _fail(job_id, SignJob, getattr(e, "message", None) or str(e) or type(e).__name__)


def _fail(job_id: int, model: type[BatchJob] | type[SignJob], error: str) -> None:
    job = db.session.get(model, job_id)
    if job is not None:
        job.status = "failed"
        job.error = error
        job.finished_at = utcnow()
        db.session.commit()


def recover_stale_jobs(now: datetime | None = None, stale_seconds: int = STALE_SECONDS) -> int:
    """Re-queue jobs whose worker died mid-run (or fail them after MAX_ATTEMPTS)."""
    now = now or utcnow()
    cutoff = ops.stale_cutoff(now, stale_seconds)
    requeue: list[BatchJob | SignJob] = []
    stale_count = 0
    for model in (BatchJob, SignJob):
        stale = list(
            db.session.execute(
                select(model).where(model.status == "running", model.heartbeat_at < cutoff)
            ).scalars()
        )
        stale_count += len(stale)
        for job in stale:
            if job.attempts >= MAX_ATTEMPTS:
                job.status = "failed"
                job.error = _("The worker stopped during the job (gave up after retries).")
                job.finished_at = now
            else:
                job.status = "queued"
                requeue.append(job)
    db.session.commit()
    for job in requeue:
        enqueue(job)
    return stale_count


def cleanup_partial_files() -> int:
    """Remove temporary files a killed worker left behind."""
    removed = 0
    for part in ops.batch_dir().glob(".*.part"):
        part.unlink(missing_ok=True)
        removed += 1
    return removed
