"""Batch printing on the job queue: huey on SQLite by default, Redis when REDIS_URL is set.

A job merges stored PDFs (no rendering), reports progress on its BatchJob row, writes the result
to a temporary file and renames it into place, so a killed worker never leaves a half PDF that
could be served. A job whose heartbeat stops is re-queued (or failed after MAX_ATTEMPTS).
"""

from __future__ import annotations

import logging
from datetime import datetime
from pathlib import Path
from typing import Any

from flask import Flask, current_app
from huey import RedisHuey, SqliteHuey
from sqlalchemy import select

from ..extensions import db
from ..models.letters import BatchJob
from ..timeutil import utcnow
from . import operations as ops

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 3
# A running job that has not reported for this long lost its worker.
STALE_SECONDS = 120


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

    app.extensions["huey"] = huey
    app.extensions["letters.batch_print"] = batch_print


def enqueue(job: BatchJob) -> None:
    """Hand the (committed) job to the queue."""
    current_app.extensions["letters.batch_print"](job.id)


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
        job = db.session.get(BatchJob, job_id)
        if job is not None:
            job.status = "failed"
            job.error = getattr(e, "message", None) or str(e) or type(e).__name__
            job.finished_at = utcnow()
            db.session.commit()


def recover_stale_jobs(now: datetime | None = None, stale_seconds: int = STALE_SECONDS) -> int:
    """Re-queue jobs whose worker died mid-run (or fail them after MAX_ATTEMPTS)."""
    now = now or utcnow()
    cutoff = ops.stale_cutoff(now, stale_seconds)
    stale = list(
        db.session.execute(
            select(BatchJob).where(BatchJob.status == "running", BatchJob.heartbeat_at < cutoff)
        ).scalars()
    )
    requeue = []
    for job in stale:
        if job.attempts >= MAX_ATTEMPTS:
            job.status = "failed"
            job.error = "worker stopped while printing (gave up after retries)"
            job.finished_at = now
        else:
            job.status = "queued"
            requeue.append(job)
    db.session.commit()
    for job in requeue:
        enqueue(job)
    return len(stale)


def cleanup_partial_files() -> int:
    """Remove temporary files a killed worker left behind."""
    removed = 0
    for part in ops.batch_dir().glob(".*.part"):
        part.unlink(missing_ok=True)
        removed += 1
    return removed
