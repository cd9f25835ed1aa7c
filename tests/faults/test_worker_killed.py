"""A batch print whose worker process is killed (SIGKILL) in the middle of the job.

A real `flask letters worker` runs in a subprocess against a file SQLite database and a real
SqliteHuey queue file; the test kills it mid-job and checks: no file is served, the job is
re-queued and finished by the next worker, the PDF holds every letter once, and no letter
number was consumed by printing (numbers are unique and the series did not move).
"""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import pytest
from pypdf import PdfReader
from sqlalchemy import func, insert, select

from config import TestConfig
from coop_audit import create_app
from coop_audit.extensions import db
from coop_audit.letters import jobs
from coop_audit.letters import operations as ops
from coop_audit.models.letters import BatchJob, Letter, LetterSequence
from coop_audit.regions import ensure_reference_data
from coop_audit.users.operations import create_user
from tests.conftest import csrf_token_from

ROOT = Path(__file__).resolve().parents[2]
LETTERS = 1500
TODAY = date(2026, 12, 3)
PW = "correct-horse-battery"  # test users only


@pytest.fixture
def instance(tmp_path):
    paths = {
        "db": tmp_path / "coop.sqlite3",
        "huey": tmp_path / "jobs.sqlite3",
        "letters": tmp_path / "letters",
        "uploads": tmp_path / "uploads",
    }

    class Cfg(TestConfig):
        SQLALCHEMY_DATABASE_URI = f"sqlite:///{paths['db']}"
        SQLALCHEMY_ENGINE_OPTIONS = {"connect_args": {"timeout": 30}}
        HUEY_IMMEDIATE = False
        HUEY_FILE = str(paths["huey"])
        LETTER_DIR = str(paths["letters"])
        UPLOAD_DIR = str(paths["uploads"])

    app = create_app(Cfg)
    env = dict(
        os.environ,
        FLASK_APP="app.py",
        COOP_AUDIT_ENV="development",
        SECRET_KEY="worker-test",
        DATABASE_URL=Cfg.SQLALCHEMY_DATABASE_URI,
        HUEY_FILE=Cfg.HUEY_FILE,
        LETTER_DIR=Cfg.LETTER_DIR,
        UPLOAD_DIR=Cfg.UPLOAD_DIR,
        INSTANCE_PATH=str(tmp_path / "instance"),
    )
    env.pop("TEST_DATABASE_URL", None)
    with app.app_context():
        db.create_all()
        ensure_reference_data()
        db.session.commit()
        yield app, env, paths
        db.session.remove()
        db.engine.dispose()


def dormant_coop(name: str, bh_number: str):
    from coop_audit.registry.operations import create_cooperative

    return create_cooperative(
        {
            "name": name,
            "jenis": "simpan_pinjam",
            "bentuk": "primer",
            "kelompok": "KSP",
            "bh_number": bh_number,
            "bh_date": date(2010, 1, 15),
            "desa_kode": "33.13.11.2001",
            "kecamatan_kode": "33.13.11",
        },
        None,
        source="test",
        status="dormant",
    )


def seed_letters(n: int) -> tuple[list[int], object]:
    head = create_user("head", "Dr. Siti Rahma, M.Si.", "head", PW, nip="1" * 18)
    clerk = create_user("clerk", "Clerk", "clerk", PW)
    coop = dormant_coop("KSU Sido Makmur", "1/BH/XIV/I/2010")
    db.session.commit()
    (first,) = ops.issue_letters([ops.IssueItem("warning", coop)], signer=head, today=TODAY)
    db.session.commit()
    # Clone the rendered letter (rendering 1,500 PDFs would only slow the test down).
    base = {c.key: getattr(first, c.key) for c in Letter.__table__.columns if c.key != "id"}
    rows = []
    for i in range(2, n + 1):
        row = dict(base)
        row.update(
            seq=first.seq + i - 1,
            number=f"{first.number}-{i}",
            token=f"{first.token[:40]}{i:06d}",
            short_code=f"K{i:07d}",
        )
        rows.append(row)
    db.session.execute(insert(Letter), rows)
    db.session.commit()
    return [i for (i,) in db.session.execute(select(Letter.id).order_by(Letter.id))], clerk


def start_worker(env, log: Path, *, mark: bool = False) -> subprocess.Popen:
    """`flask letters worker`; with `mark`, its environment (inherited by the render pool)
    holds WORKER_MARK=<its pid>."""
    flask = str(ROOT / ".venv/bin/flask")
    argv = [flask, "letters", "worker"]
    if mark:
        argv = ["/bin/sh", "-c", f'WORKER_MARK=$$ exec "{flask}" letters worker']
    with open(log, "ab") as out:  # the child keeps its own copy of the descriptor
        return subprocess.Popen(
            argv,
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def job_state(job_id: int) -> tuple[str, int, str | None]:
    db.session.rollback()
    db.session.expire_all()
    job = db.session.get(BatchJob, job_id)
    return job.status, job.progress, job.result_path


def wait_for(predicate, timeout: float, proc=None, log: Path | None = None):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        value = predicate()
        if value:
            return value
        if proc is not None and proc.poll() is not None:
            pytest.fail(f"worker exited early: {log.read_text()[-2000:] if log else ''}")
        time.sleep(0.02)
    pytest.fail(f"timed out; worker log: {log.read_text()[-2000:] if log else ''}")


def run_worker_until(done, env, log: Path, timeout: float = 120) -> None:
    """A fresh worker runs until `done()`, then is stopped."""
    worker = start_worker(env, log)
    try:
        wait_for(done, timeout, worker, log)
    finally:
        os.killpg(worker.pid, signal.SIGTERM)
        try:
            worker.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(worker.pid, signal.SIGKILL)
            worker.wait(10)


@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL")
def test_a_worker_killed_mid_batch_leaves_no_half_pdf_and_the_job_is_retried(instance):
    app, env, paths = instance
    ids, clerk = seed_letters(LETTERS)
    numbers_before = db.session.execute(select(func.count(func.distinct(Letter.number)))).scalar()
    sequence_before = [(s.kind, s.year, s.last_seq) for s in db.session.query(LetterSequence)]
    job = ops.create_batch_job(ops.LetterFilter(kind="warning"), clerk)
    db.session.commit()
    jobs.enqueue(job)  # into the real SqliteHuey file
    job_id = job.id
    log = paths["db"].with_name("worker.log")

    worker = start_worker(env, log)
    try:
        # Mid-job: running, some letters read, not finished.
        wait_for(
            lambda: (s := job_state(job_id))[0] == "running" and 0 < s[1] < LETTERS,
            60,
            worker,
            log,
        )
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait(10)
    finally:
        if worker.poll() is None:
            os.killpg(worker.pid, signal.SIGKILL)
            worker.wait(10)

    status, _progress, result = job_state(job_id)
    assert status == "running" and result is None  # nothing claims to be finished
    finished = [p for p in Path(paths["letters"], "batches").glob("*.pdf")]
    assert finished == []  # at most a hidden .part file, never a servable PDF
    client = app.test_client()
    token = csrf_token_from(client.get("/login").get_data(as_text=True))
    client.post("/login", data={"username": "clerk", "password": PW, "csrf_token": token})
    assert client.get(f"/surat/cetak/{job_id}").status_code == 200
    assert client.get(f"/surat/cetak/{job_id}/unduh").status_code == 404
    assert db.session.execute(select(Letter).where(Letter.sent_at.is_not(None))).first() is None

    # The operator's recovery (or the next worker after STALE_SECONDS) re-queues it...
    assert jobs.recover_stale_jobs(stale_seconds=0) == 1
    assert job_state(job_id)[0] == "queued"
    # ...and a fresh worker finishes it.
    run_worker_until(lambda: job_state(job_id)[0] in ("done", "failed"), env, log)

    db.session.expire_all()
    job = db.session.get(BatchJob, job_id)
    assert job.status == "done" and job.attempts == 2, (job.status, job.error)
    assert len(PdfReader(io.BytesIO(Path(job.result_path).read_bytes())).pages) >= LETTERS
    with client.get(f"/surat/cetak/{job_id}/unduh") as served:
        assert served.status_code == 200 and served.data.startswith(b"%PDF")
    assert list(Path(paths["letters"], "batches").glob(".*.part")) == []  # cleaned at start
    # Printing consumed no letter numbers: same numbers, all distinct, series unchanged.
    assert db.session.execute(select(func.count(Letter.id))).scalar() == LETTERS
    assert (
        db.session.execute(select(func.count(func.distinct(Letter.number)))).scalar()
        == numbers_before
        == LETTERS
    )
    assert [(s.kind, s.year, s.last_seq) for s in db.session.query(LetterSequence)] == (
        sequence_before
    )
    sent = db.session.execute(
        select(func.count(Letter.id)).where(Letter.sent_at.is_not(None))
    ).scalar()
    assert sent == LETTERS


def render_workers_of(pid: int) -> list[int]:
    """Render-pool processes (forkserver children) started for the worker process `pid`."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes()
            environ = (entry / "environ").read_bytes()
        except OSError:
            continue
        if b"multiprocessing.forkserver" in cmdline and f"WORKER_MARK={pid}".encode() in environ:
            found.append(int(entry.name))
    return found


@pytest.mark.skipif(sys.platform != "linux", reason="SIGKILL and /proc")
def test_a_bulk_sign_worker_killed_mid_job_leaves_no_renderers_and_the_job_resumes(instance):
    """SIGKILL to the job process alone (the render pool's processes are not signalled): the
    renderers notice and exit, the chunk in flight is rolled back, and the next worker signs
    the rest with consecutive numbers."""
    from coop_audit.history import verify
    from coop_audit.models.workflow import Proposal, SignJob
    from coop_audit.sanctions import operations as sanctions

    app, env, paths = instance
    head = create_user("head", "Dr. Siti Rahma, M.Si.", "head", PW, nip="1" * 18)
    inspector = create_user("inspector", "Inspector", "inspector", PW)
    ids = []
    for i in range(60):
        coop = dormant_coop(f"KSU Sido Makmur {i:02d}", f"{i + 1}/BH/XIV/I/2010")
        ids.append(sanctions.propose(coop, "warn", inspector, reason="Tidak RAT", today=TODAY).id)
    db.session.commit()
    job = jobs.create_sign_job(ids, head, TODAY)
    db.session.commit()
    jobs.enqueue(job)
    job_id = job.id
    log = paths["db"].with_name("sign-worker.log")

    def state() -> tuple[str, int]:
        db.session.rollback()
        db.session.expire_all()
        job = db.session.get(SignJob, job_id)
        return job.status, job.progress

    worker_env = dict(env, LETTER_RENDER_WORKERS="2")
    worker = start_worker(worker_env, log, mark=True)
    try:
        wait_for(lambda: state()[0] == "running" and 0 < state()[1] < 60, 120, worker, log)
        wait_for(lambda: render_workers_of(worker.pid), 30, worker, log)
        os.kill(worker.pid, signal.SIGKILL)  # the job process only
        worker.wait(10)
        # The renderers see their parent gone and exit (they used to wait for work forever).
        end = time.monotonic() + 15
        while render_workers_of(worker.pid) and time.monotonic() < end:
            time.sleep(0.2)
        assert render_workers_of(worker.pid) == []
    finally:
        for pid in render_workers_of(worker.pid):
            os.kill(pid, signal.SIGKILL)
        if worker.poll() is None:
            os.killpg(worker.pid, signal.SIGKILL)
            worker.wait(10)

    status, progress = state()
    assert status == "running" and progress % jobs.SIGN_CHUNK == 0  # whole chunks only
    signed = db.session.execute(
        select(func.count(Proposal.id)).where(Proposal.state == "signed")
    ).scalar()
    assert signed == progress  # the chunk in flight was rolled back with its letters

    assert jobs.recover_stale_jobs(stale_seconds=0) == 1
    run_worker_until(lambda: state()[0] in ("done", "failed"), worker_env, log, timeout=180)
    db.session.expire_all()
    job = db.session.get(SignJob, job_id)
    assert job.status == "done" and job.signed == 60 and job.attempts == 2, job.error
    seqs = db.session.execute(select(Letter.seq).order_by(Letter.seq)).scalars().all()
    assert seqs == list(range(1, 61))
    assert verify().ok
