"""Bulk sign-off jobs: chunks, the render pool, failures and a worker killed mid-run."""

from __future__ import annotations

import io
from datetime import date, timedelta

import pytest
from pypdf import PdfReader
from sqlalchemy import select, update

from coop_audit import history
from coop_audit.extensions import db
from coop_audit.letters import jobs
from coop_audit.models import Cooperative
from coop_audit.models.letters import Letter
from coop_audit.models.workflow import Proposal, SignJob
from coop_audit.sanctions import operations as sanctions
from coop_audit.timeutil import utcnow

TODAY = date(2026, 12, 3)


def warn_proposals(make_coop, users, n):
    coops = [make_coop(name=f"KSU Tunas Harapan {i:02d}", status="dormant") for i in range(n)]
    ids = [
        sanctions.propose(c, "warn", users["inspector"], reason="Tidak RAT 3 tahun", today=TODAY).id
        for c in coops
    ]
    db.session.commit()
    return coops, ids


def pdf_text(pdf: bytes) -> str:
    return " ".join(" ".join(p.extract_text().split()) for p in PdfReader(io.BytesIO(pdf)).pages)


def test_a_bulk_sign_job_signs_in_chunks_and_renders_the_letters_in_a_pool(
    app, users, make_coop, monkeypatch
):
    app.config["LETTER_RENDER_WORKERS"] = 2
    monkeypatch.setattr(jobs, "SIGN_CHUNK", 10)  # 18 proposals: chunks of 10 and 8
    coops, ids = warn_proposals(make_coop, users, 18)
    refused = sanctions.propose(
        make_coop(status="dormant"), "warn", users["inspector"], reason="x", today=TODAY
    )
    sanctions.refuse(refused, users["head2"], reason="Kurang bukti", today=TODAY)
    db.session.commit()

    job = jobs.create_sign_job([*ids[:5], refused.id, *ids[5:], 999_999], users["head"], TODAY)
    db.session.commit()
    jobs.run_sign_job(job.id)

    db.session.refresh(job)
    assert job.status == "done" and job.total == 20 and job.signed == 18
    by_id = {o["proposal_id"]: o for o in job.outcomes}
    assert not by_id[refused.id]["ok"] and "Sudah ditolak" in by_id[refused.id]["message"]
    assert not by_id[999_999]["ok"]
    assert [o["proposal_id"] for o in job.outcomes] == job.proposal_ids  # in the order ticked
    letters = list(db.session.execute(select(Letter).order_by(Letter.seq)).scalars())
    # Numbered in the order ticked, consecutively; each PDF is its own cooperative's letter.
    assert [letter.seq for letter in letters] == list(range(1, 19))
    assert [letter.proposal_id for letter in letters] == ids
    for letter, coop in zip(letters, coops, strict=True):
        text = pdf_text(letter.pdf)
        assert coop.name in text and letter.number in text
    assert {c.status for c in db.session.execute(select(Cooperative)).scalars()} == {
        "warned",
        "dormant",
    }
    assert history.verify().ok


def test_a_failing_chunk_marks_the_job_failed_and_changes_nothing(
    app, users, make_coop, monkeypatch
):
    _coops, ids = warn_proposals(make_coop, users, 3)
    real = sanctions.sign_many

    def broken(chunk, signer, *, today):
        real(chunk, signer, today=today)
        raise RuntimeError("disk full")

    monkeypatch.setattr(sanctions, "sign_many", broken)
    job = jobs.create_sign_job(ids, users["head"], TODAY)
    db.session.commit()
    jobs.run_sign_job(job.id)

    db.session.refresh(job)
    assert job.status == "failed" and job.outcomes == []
    # The head reads what kind of error stopped it, in his language; the details are logged.
    assert job.error == "Kesalahan internal menghentikan pekerjaan ini (RuntimeError)."
    assert {p.state for p in db.session.execute(select(Proposal)).scalars()} == {"pending"}
    assert db.session.execute(select(Letter)).first() is None


def test_a_worker_stopped_mid_job_puts_it_back_and_the_next_signs_nothing_twice(
    app, users, make_coop, monkeypatch
):
    """Ctrl-C or a service stop (SIGINT) in the middle of a chunk: that chunk is rolled back,
    the job is queued again, and the next run continues after the committed chunks. (A worker
    killed outright is tests/faults/test_worker_killed.py.)"""
    monkeypatch.setattr(jobs, "SIGN_CHUNK", 2)
    _coops, ids = warn_proposals(make_coop, users, 5)
    real = sanctions.sign_many
    calls = []

    def dies_in_the_second_chunk(chunk, signer, *, today):
        calls.append(chunk)
        outcomes = real(chunk, signer, today=today)
        if len(calls) == 2:
            raise KeyboardInterrupt  # the worker is being stopped
        return outcomes

    monkeypatch.setattr(sanctions, "sign_many", dies_in_the_second_chunk)
    job = jobs.create_sign_job(ids, users["head"], TODAY)
    db.session.commit()
    with pytest.raises(KeyboardInterrupt):
        jobs.run_sign_job(job.id)

    db.session.refresh(job)
    assert job.status == "queued" and job.progress == 2  # the first chunk stayed committed
    assert db.session.execute(select(db.func.count(Letter.id))).scalar_one() == 2

    monkeypatch.setattr(sanctions, "sign_many", real)
    later = utcnow() + timedelta(seconds=jobs.STALE_SECONDS + 1)
    # No worker took it for a while: the worker's recovery hands it to the queue again (which
    # runs it inline here).
    assert jobs.recover_stale_jobs(now=later) == 1

    db.session.refresh(job)
    assert job.status == "done" and job.attempts == 2 and job.signed == 5
    assert [o["proposal_id"] for o in job.outcomes] == ids
    seqs = [
        letter.seq for letter in db.session.execute(select(Letter).order_by(Letter.seq)).scalars()
    ]
    assert seqs == [1, 2, 3, 4, 5]  # the killed chunk's numbers were never used: no gap
    assert history.verify().ok


def test_a_job_that_keeps_dying_is_failed_after_the_retries(app, users, make_coop):
    _coops, ids = warn_proposals(make_coop, users, 1)
    job = jobs.create_sign_job(ids, users["head"], TODAY)
    job.status, job.attempts, job.heartbeat_at = "running", jobs.MAX_ATTEMPTS, utcnow()
    db.session.commit()
    later = utcnow() + timedelta(seconds=jobs.STALE_SECONDS + 1)
    assert jobs.recover_stale_jobs(now=later) == 1
    db.session.refresh(job)
    assert job.status == "failed" and "berhenti" in job.error
    assert db.session.get(Proposal, ids[0]).state == "pending"


def test_the_job_page_lists_the_job_for_its_head_only(client, auth, users, make_coop):
    _coops, ids = warn_proposals(make_coop, users, 2)
    job = jobs.create_sign_job(ids, users["head"], TODAY)
    db.session.commit()
    auth.login("head")
    page = client.get(f"/alur/persetujuan/massal/{job.id}").get_data(as_text=True)
    assert 'data-status="queued"' in page and "Menunggu pekerja antrean" in page
    assert client.get(f"/alur/persetujuan/massal/{job.id}/status").get_json()["progress"] == 0
    assert db.session.get(SignJob, job.id).status == "queued"


def test_a_run_that_lost_its_job_to_a_recovery_undoes_its_chunk_and_stops(
    app, users, make_coop, monkeypatch
):
    """A slow but living worker whose job was re-queued (its heartbeat looked stale) must not
    report next to the run that took the job over: its chunk is rolled back at its report."""
    monkeypatch.setattr(jobs, "SIGN_CHUNK", 2)
    _coops, ids = warn_proposals(make_coop, users, 5)
    job = jobs.create_sign_job(ids, users["head"], TODAY)
    db.session.commit()
    real = sanctions.sign_many
    calls = []

    def taken_over_during_the_second_chunk(chunk, signer, *, today):
        calls.append(chunk)
        if len(calls) == 2:  # what recover_stale_jobs does, from another connection
            with db.engine.begin() as other:
                other.execute(update(SignJob).where(SignJob.id == job.id).values(status="queued"))
        return real(chunk, signer, today=today)

    monkeypatch.setattr(sanctions, "sign_many", taken_over_during_the_second_chunk)
    jobs.run_sign_job(job.id)

    db.session.expire_all()
    job = db.session.get(SignJob, job.id)
    assert len(calls) == 2  # it stopped at the failed report
    assert job.status == "queued" and [o["proposal_id"] for o in job.outcomes] == ids[:2]
    assert [p.state for p in map(lambda i: db.session.get(Proposal, i), ids)] == [
        "signed",
        "signed",
        "pending",
        "pending",
        "pending",
    ]

    monkeypatch.setattr(sanctions, "sign_many", real)
    jobs.run_sign_job(job.id)  # the run that took it over
    db.session.refresh(job)
    assert job.status == "done" and job.signed == 5 and job.attempts == 2
    seqs = db.session.execute(select(Letter.seq).order_by(Letter.seq)).scalars().all()
    assert seqs == [1, 2, 3, 4, 5]  # the undone chunk's numbers were taken again, no gap
    assert history.verify().ok


def test_a_job_runs_once_when_queued_twice(app, users, make_coop):
    _coops, ids = warn_proposals(make_coop, users, 2)
    job = jobs.create_sign_job(ids, users["head"], TODAY)
    db.session.commit()
    jobs.run_sign_job(job.id)
    jobs.run_sign_job(job.id)  # a second task for the same job (re-handed while waiting)
    db.session.refresh(job)
    assert job.status == "done" and job.attempts == 1 and job.progress == 2


def test_a_queued_job_no_worker_took_is_handed_to_the_queue_again(app, users, make_coop):
    _coops, ids = warn_proposals(make_coop, users, 2)
    job = jobs.create_sign_job(ids, users["head"], TODAY)  # its task was lost (queue down)
    db.session.commit()
    assert jobs.recover_stale_jobs() == 0  # just queued: left alone
    later = utcnow() + timedelta(seconds=jobs.STALE_SECONDS + 1)
    assert jobs.recover_stale_jobs(now=later) == 1
    db.session.refresh(job)
    assert job.status == "done" and job.signed == 2


def test_a_disabled_head_signs_nothing_through_his_job(app, users, make_coop):
    _coops, ids = warn_proposals(make_coop, users, 2)
    job = jobs.create_sign_job(ids, users["head"], TODAY)
    users["head"].enabled = False  # the admin disabled the account after the head asked
    db.session.commit()
    jobs.run_sign_job(job.id)
    db.session.refresh(job)
    assert job.status == "done" and job.signed == 0
    assert all("dinonaktifkan" in o["message"] for o in job.outcomes)
    assert {p.state for p in db.session.execute(select(Proposal)).scalars()} == {"pending"}


def test_a_job_is_not_continued_long_after_the_head_asked(app, users, make_coop):
    """Its letters would carry that day's date: it stops, and the head's retry dates them on
    the day he asks again."""
    _coops, ids = warn_proposals(make_coop, users, 2)
    job = jobs.create_sign_job(ids, users["head"], TODAY)
    db.session.commit()
    jobs.run_sign_job(job.id, now=utcnow() + jobs.SIGN_JOB_MAX_DELAY + timedelta(minutes=1))
    db.session.refresh(job)
    assert job.status == "failed" and "3 Desember 2026" in job.error and job.progress == 0
    assert {p.state for p in db.session.execute(select(Proposal)).scalars()} == {"pending"}

    jobs.retry_sign_job(job, date(2026, 12, 7))
    db.session.commit()
    jobs.run_sign_job(job.id)
    db.session.refresh(job)
    assert job.status == "done" and job.signed == 2
    issued = db.session.execute(select(Letter.issued_on)).scalars().all()
    assert issued == [date(2026, 12, 7)] * 2


def test_a_recovery_writes_the_failure_in_the_heads_language(app, users, make_coop):
    _coops, ids = warn_proposals(make_coop, users, 1)
    job = jobs.create_sign_job(ids, users["head"], TODAY, locale="en")
    job.status, job.attempts, job.heartbeat_at = "running", jobs.MAX_ATTEMPTS, utcnow()
    db.session.commit()
    later = utcnow() + timedelta(seconds=jobs.STALE_SECONDS + 1)
    with app.test_request_context(headers={"Accept-Language": "id"}):
        assert jobs.recover_stale_jobs(now=later) == 1
    db.session.refresh(job)
    assert job.error == "The worker stopped during the job (gave up after retries)."


@pytest.mark.postgres
def test_two_heads_signing_overlapping_selections_do_not_deadlock(
    app, users, make_coop, monkeypatch
):
    """Each job locks its chunk's proposals in id order before taking letter numbers; locked
    one by one in the order ticked, job B held p7 while waiting for the number counter and
    job A held the counter while waiting for p7 (PostgreSQL: deadlock detected)."""
    import threading
    import time

    _coops, ids = warn_proposals(make_coop, users, 12)
    first = jobs.create_sign_job(ids, users["head"], TODAY)
    second = jobs.create_sign_job(ids[6:], users["head2"], TODAY)
    db.session.commit()
    job_ids = [first.id, second.id]
    real = sanctions._prepare_sign

    def slow_prepare(proposal, signer, today):
        record = real(proposal, signer, today)
        time.sleep(0.05)
        return record

    monkeypatch.setattr(sanctions, "_prepare_sign", slow_prepare)
    monkeypatch.setattr(jobs, "CHUNK_TRIES", 1)  # a deadlock would fail the job, not be retried
    start = threading.Barrier(2)

    def worker(job_id):
        with app.app_context():
            start.wait(10)
            jobs.run_sign_job(job_id)
            db.session.remove()

    threads = [threading.Thread(target=worker, args=(j,)) for j in job_ids]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    db.session.expire_all()
    done = [db.session.get(SignJob, j) for j in job_ids]
    assert [j.status for j in done] == ["done", "done"], [j.error for j in done]
    # Each proposal signed once, by one of them; the other reports it as already signed.
    assert sum(j.signed for j in done) == 12
    seqs = db.session.execute(select(Letter.seq).order_by(Letter.seq)).scalars().all()
    assert seqs == list(range(1, 13))
