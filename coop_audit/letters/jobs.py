"""The job queue: huey on SQLite by default, Redis when REDIS_URL is set.

- Batch printing: a job merges stored PDFs (no rendering), reports progress on its BatchJob
  row, writes the result to a temporary file and renames it into place, so a killed worker
  never leaves a half PDF that could be served.
- Bulk sign-off: a job signs the ticked proposals in chunks of SIGN_CHUNK, each chunk in one
  transaction with its outcomes on the SignJob row; the chunk's letters render together in a
  process pool (`operations.rendering_batch`).

Every run of a job claims it (queued -> running, `attempts` + 1, one atomic UPDATE) and writes
its progress only while it still owns it (`status = 'running' AND attempts = <its run>`, checked
in the same UPDATE that writes): a run that lost the job to a recovery rolls its work back and
stops, so two runs never both report. `recover_stale_jobs` (every minute in the worker, and when
it starts) re-queues a running job whose heartbeat stopped, or fails it after MAX_ATTEMPTS, and
hands a queued job that no worker took to the queue again.
"""

from __future__ import annotations

import dataclasses
import errno
import logging
import time
from collections.abc import Callable
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from flask import Flask, current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from huey import RedisHuey, SqliteHuey, crontab
from sqlalchemy import func, select, update
from sqlalchemy.exc import OperationalError

from .. import i18n
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
# A chunk that met a lock held by another transaction (PostgreSQL deadlock, SQLite busy) is
# tried again this many times before the job stops.
CHUNK_TRIES = 3
# A bulk sign-off not finished this long after the head asked is not continued by the worker
# (its letters would carry that day's date): the head tries the rest again, dated that day.
SIGN_JOB_MAX_DELAY = timedelta(hours=12)

Job = BatchJob | SignJob


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

    @huey.periodic_task(crontab(minute="*"), name="jobs.recover")
    def recover() -> None:
        with app.app_context():
            recover_stale_jobs()

    app.extensions["huey"] = huey
    app.extensions["letters.batch_print"] = batch_print
    app.extensions["workflow.bulk_sign"] = bulk_sign


def enqueue(job: Job) -> bool:
    """Hand the (committed) job to the queue; False when the queue cannot be reached (the job
    stays queued, and `recover_stale_jobs` hands it over again later)."""
    task = "workflow.bulk_sign" if isinstance(job, SignJob) else "letters.batch_print"
    try:
        current_app.extensions[task](job.id)
    except Exception:  # Redis down, SQLite queue file locked ...
        log.exception("job %s %s could not be queued", type(job).__name__, job.id)
        return False
    return True


def _claim(model: type[Job], job_id: int) -> int | None:
    """Queued -> running for this run, in one UPDATE (two workers never both pass); returns
    the run's number (the job's new `attempts`), None when the job is not queued."""
    result = db.session.execute(
        update(model)
        .where(model.id == job_id, model.status == "queued")
        .values(status="running", attempts=model.attempts + 1, heartbeat_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        db.session.rollback()
        return None
    db.session.commit()
    job = db.session.get(model, job_id)
    return job.attempts if job is not None else None


def _report(model: type[Job], job_id: int, run: int, **values: Any) -> bool:
    """Write the job's row in the current transaction if run `run` still owns the job; the
    caller commits on True and rolls back on False (a recovery gave the job to another run)."""
    result = db.session.execute(
        update(model)
        .where(model.id == job_id, model.status == "running", model.attempts == run)
        .values(heartbeat_at=utcnow(), **values)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


def _end(model: type[Job], job_id: int, run: int, **values: Any) -> None:
    """Commit the run's last word (done, failed, queued again), if it still owns the job."""
    if _report(model, job_id, run, **values):
        db.session.commit()
    else:
        db.session.rollback()
        log.warning("%s %s: run %s lost the job to another run", model.__name__, job_id, run)


def _failure(e: BaseException) -> str:
    """What the job page says of a failure: the refusal's own (translated) message, else a
    sentence naming the kind of error; the details go to the log, not to the head."""
    message = getattr(e, "message", None)
    if isinstance(message, str) and message:
        return message
    if isinstance(e, OperationalError):
        return _("The database was busy or not reachable.")
    if isinstance(e, OSError):
        if e.errno == errno.ENOSPC:
            return _("The server's disk is full.")
        return _("A file could not be written or read (%(reason)s).", reason=e.strerror or e)
    return _("An internal error stopped the job (%(kind)s).", kind=type(e).__name__)


def run_batch_job(job_id: int) -> None:
    """Run one batch job in its own transaction(s); never raises for a failed merge."""
    run = _claim(BatchJob, job_id)
    if run is None:
        return
    job = db.session.get(BatchJob, job_id)
    ids, actor = list(job.letter_ids), job.created_by
    mark_sent = (job.filters or {}).get("mark_sent", True)

    def progress(done: int) -> None:
        if not _report(BatchJob, job_id, run, progress=done):
            db.session.rollback()
            raise _Superseded
        db.session.commit()

    target = ops.batch_dir() / f"batch-{job_id}-{ops.secrets.token_hex(8)}.pdf"
    try:
        ops.write_atomically(target, ops.merged_pdf(ids, progress=progress))
        finished = utcnow()
        if mark_sent:
            ops.mark_sent(ids, actor, now=finished)
        if not _report(
            BatchJob,
            job_id,
            run,
            status="done",
            progress=len(ids),
            result_path=str(target),
            finished_at=finished,
        ):
            raise _Superseded
        db.session.commit()
    except _Superseded:
        db.session.rollback()
        target.unlink(missing_ok=True)
    except Exception as e:  # any failure: the job is marked, the queue keeps running
        db.session.rollback()
        target.unlink(missing_ok=True)
        log.exception("batch job %s failed", job_id)
        _end(BatchJob, job_id, run, status="failed", error=_failure(e), finished_at=utcnow())


class _Superseded(Exception):
    """This run lost its job to another run (see `_report`)."""


def create_sign_job(
    proposal_ids: list[int], signer: User, decided_on: date, locale: str = "id"
) -> SignJob:
    """A bulk sign-off for the queue, in the caller's transaction (commit, then `enqueue`)."""
    ids = list(dict.fromkeys(proposal_ids))  # each once, in the order ticked
    now = utcnow()
    job = SignJob(
        status="queued",
        proposal_ids=ids,
        decided_on=decided_on,
        locale=locale,
        outcomes=[],
        total=len(ids),
        created_by_id=signer.id,
        created_at=now,
        asked_at=now,
        heartbeat_at=now,
    )
    db.session.add(job)
    db.session.flush()
    return job


def retry_sign_job(job: SignJob, decided_on: date) -> None:
    """The head asks again for a stopped job's remaining proposals, with the day he asks on."""
    now = utcnow()
    job.status, job.error, job.finished_at = "queued", None, None
    job.decided_on, job.asked_at, job.heartbeat_at = decided_on, now, now


def run_sign_job(job_id: int, now: datetime | None = None) -> None:
    """Sign a job's proposals chunk by chunk; never raises for a failed chunk.

    The checks are those of a single sign-off (role, four-eyes, enabled account, still
    pending, a legal move), made for each proposal when its chunk runs, as the head who asked.
    """
    run = _claim(SignJob, job_id)
    if run is None:
        return
    job = db.session.get(SignJob, job_id)
    outcomes = list(job.outcomes)
    with force_locale(job.locale):
        if (now or utcnow()) - job.asked_at > SIGN_JOB_MAX_DELAY:
            _end(SignJob, job_id, run, status="failed", error=_late(job), finished_at=utcnow())
            return
        done = {o["proposal_id"] for o in outcomes}
        todo = [pid for pid in job.proposal_ids if pid not in done]  # a retry skips those
        signer, decided_on = job.created_by, job.decided_on
        try:
            with ops.rendering_batch(current_app.config["LETTER_RENDER_WORKERS"]) as batch:
                for start in range(0, len(todo), SIGN_CHUNK):
                    chunk = todo[start : start + SIGN_CHUNK]
                    signed = _with_lock_retries(
                        lambda chunk=chunk: sanctions_ops.sign_many(
                            chunk, signer, today=decided_on
                        ),
                        batch,
                    )
                    outcomes += map(dataclasses.asdict, signed)
                    if not _report(SignJob, job_id, run, outcomes=outcomes):
                        raise _Superseded
                    db.session.commit()
            _end(SignJob, job_id, run, status="done", finished_at=utcnow())
        except _Superseded:
            db.session.rollback()
            log.warning("sign job %s: run %s lost the job to another run", job_id, run)
        except Exception as e:  # the chunks committed so far stay signed and reported
            db.session.rollback()
            log.exception("sign job %s failed", job_id)
            _end(SignJob, job_id, run, status="failed", error=_failure(e), finished_at=utcnow())
        except BaseException:  # the worker is being stopped: the next one continues the job
            db.session.rollback()
            _end(SignJob, job_id, run, status="queued")
            raise


def _late(job: SignJob) -> str:
    return _(
        "This bulk sign-off was asked for on %(date)s and could not finish then; nothing more "
        "was signed. Try the rest again: those letters will carry the date of the day you do.",
        date=i18n.tanggal(job.decided_on),
    )


def _with_lock_retries(sign: Callable[[], list[Any]], batch: ops.RenderBatch) -> list[Any]:
    """Run a chunk; when it met another transaction's lock, roll it back and try again."""
    for attempt in range(1, CHUNK_TRIES + 1):
        try:
            return sign()
        except OperationalError:
            db.session.rollback()
            batch.discard()  # letters prepared in the rolled-back chunk
            if attempt == CHUNK_TRIES:
                raise
            log.warning("a bulk sign-off chunk met a lock; trying again (%s)", attempt)
            time.sleep(attempt)
    raise AssertionError("unreachable")


def recover_stale_jobs(now: datetime | None = None, stale_seconds: int = STALE_SECONDS) -> int:
    """Re-queue running jobs whose worker died (or fail them after MAX_ATTEMPTS), and hand
    queued jobs no worker took to the queue again. Returns how many jobs it handled."""
    now = now or utcnow()
    cutoff = ops.stale_cutoff(now, stale_seconds)
    handled: list[Job] = []
    for model in (BatchJob, SignJob):
        # The last sign of life: the heartbeat, or (older rows) when it was created.
        seen = func.coalesce(model.heartbeat_at, model.created_at)
        stale = db.session.execute(
            select(model).where(model.status.in_(("queued", "running")), seen < cutoff)
        ).scalars()
        for job in list(stale):
            with force_locale(getattr(job, "locale", None) or _default_locale()):
                if job.status == "queued":
                    values: dict[str, Any] = {}
                elif job.attempts >= MAX_ATTEMPTS:
                    values = {
                        "status": "failed",
                        "error": _("The worker stopped during the job (gave up after retries)."),
                        "finished_at": now,
                    }
                elif isinstance(job, SignJob) and now - job.asked_at > SIGN_JOB_MAX_DELAY:
                    values = {"status": "failed", "error": _late(job), "finished_at": now}
                else:
                    values = {"status": "queued"}
            # Only if no run reported meanwhile (the job is still as read above).
            result = db.session.execute(
                update(model)
                .where(
                    model.id == job.id,
                    model.status == job.status,
                    model.attempts == job.attempts,
                    seen < cutoff,
                )
                .values(heartbeat_at=now, **values)
                .execution_options(synchronize_session=False)
            )
            if result.rowcount == 1:
                handled.append(job)
    db.session.commit()
    for job in handled:
        db.session.refresh(job)
        if job.status == "queued":
            enqueue(job)
    return len(handled)


def _default_locale() -> str:
    return current_app.config.get("BABEL_DEFAULT_LOCALE", "id")


def cleanup_partial_files() -> int:
    """Remove temporary files a killed worker left behind."""
    removed = 0
    for part in ops.batch_dir().glob(".*.part"):
        part.unlink(missing_ok=True)
        removed += 1
    return removed
