"""Bulk sign-off jobs: chunks, the render pool, failures and a worker killed mid-run."""

from __future__ import annotations

import io
from datetime import date, timedelta

import pytest
from pypdf import PdfReader
from sqlalchemy import select

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
    assert job.status == "failed" and job.error == "disk full" and job.outcomes == []
    assert {p.state for p in db.session.execute(select(Proposal)).scalars()} == {"pending"}
    assert db.session.execute(select(Letter)).first() is None


def test_a_worker_killed_mid_job_is_retried_without_signing_anything_twice(
    app, users, make_coop, monkeypatch
):
    monkeypatch.setattr(jobs, "SIGN_CHUNK", 2)
    _coops, ids = warn_proposals(make_coop, users, 5)
    real = sanctions.sign_many
    calls = []

    def dies_in_the_second_chunk(chunk, signer, *, today):
        calls.append(chunk)
        outcomes = real(chunk, signer, today=today)
        if len(calls) == 2:
            raise KeyboardInterrupt  # the worker process stops: no handler runs
        return outcomes

    monkeypatch.setattr(sanctions, "sign_many", dies_in_the_second_chunk)
    job = jobs.create_sign_job(ids, users["head"], TODAY)
    db.session.commit()
    with pytest.raises(KeyboardInterrupt):
        jobs.run_sign_job(job.id)
    db.session.rollback()  # what the database does with a dead connection's transaction

    db.session.refresh(job)
    assert job.status == "running" and job.progress == 2  # the first chunk stayed committed
    assert db.session.execute(select(db.func.count(Letter.id))).scalar_one() == 2

    monkeypatch.setattr(sanctions, "sign_many", real)
    later = utcnow() + timedelta(seconds=jobs.STALE_SECONDS + 1)
    assert jobs.recover_stale_jobs(now=later) == 1  # re-queued; the queue runs it inline here

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
