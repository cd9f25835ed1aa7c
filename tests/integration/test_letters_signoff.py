"""Letters issued by the sanction workflow's sign-off, in its transaction; concurrent numbering."""

import io
import os
import threading
from datetime import date

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from coop_audit.extensions import db
from coop_audit.letters import operations as ops
from coop_audit.models import Cooperative, User
from coop_audit.models.letters import Letter, LetterSequence

sanctions = pytest.importorskip("coop_audit.sanctions.operations")
TODAY = date(2026, 12, 3)


def propose_warning(coop, users):
    return sanctions.propose(
        coop,
        "warn",
        users["inspector"],
        reason="Tidak menyelenggarakan RAT 3 tahun buku berturut-turut",
        evidence=[{"type": "audit", "label": "Berita Acara Pemeriksaan 12 Oktober 2026"}],
        today=TODAY,
    )


def test_signing_a_warning_issues_the_letter_in_the_same_transaction(app, users, make_coop):
    coop = make_coop(name="KSU Sido Makmur", status="dormant")
    proposal = propose_warning(coop, users)
    db.session.commit()
    sanctions.sign(proposal, users["head2"], today=TODAY)
    letter = db.session.execute(select(Letter)).scalar_one()
    assert letter.proposal_id == proposal.id and letter.kind == "warning"
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(letter.pdf)).pages)
    assert "Tidak menyelenggarakan RAT" in text and "Berita Acara Pemeriksaan" in text
    db.session.rollback()  # the sign-off fails later: no letter, no number used
    assert db.session.execute(select(Letter)).first() is None
    assert db.session.get(LetterSequence, ("surat", 2026)) is None


def test_a_pending_proposal_has_a_draft_preview(client, auth, users, make_coop):
    coop = make_coop(status="dormant")
    proposal = propose_warning(coop, users)
    db.session.commit()
    auth.login("head")
    resp = client.get(f"/surat/pratinjau/{proposal.id}")
    assert resp.status_code == 200 and resp.mimetype == "application/pdf"
    assert "DRAF" in "".join(p.extract_text() for p in PdfReader(io.BytesIO(resp.data)).pages)
    assert db.session.execute(select(Letter)).first() is None
    sanctions.sign(proposal, users["head2"], today=TODAY)
    db.session.commit()
    assert client.get(f"/surat/pratinjau/{proposal.id}").status_code == 404


@pytest.mark.postgres
def test_fifty_parallel_signoffs_get_fifty_consecutive_numbers(app, users, make_coop):
    if not os.environ.get("TEST_DATABASE_URL", "").startswith("postgresql"):
        pytest.skip("needs PostgreSQL (TEST_DATABASE_URL)")
    proposals = [propose_warning(make_coop(status="dormant"), users).id for _ in range(50)]
    db.session.commit()
    head_id = users["head2"].id
    barrier = threading.Barrier(50)
    errors: list[BaseException] = []

    def sign(proposal_id: int) -> None:
        with app.app_context():
            try:
                proposal = db.session.get(sanctions.Proposal, proposal_id)
                head = db.session.get(User, head_id)
                db.session.commit()  # give the connection back while the others line up
                barrier.wait(timeout=30)
                sanctions.sign(proposal, head, today=TODAY)
                db.session.commit()
            except BaseException as e:  # reported below
                db.session.rollback()
                errors.append(e)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=sign, args=(pid,)) for pid in proposals]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    db.session.expire_all()
    seqs = sorted(db.session.execute(select(Letter.seq).where(Letter.kind == "warning")).scalars())
    assert seqs == list(range(1, 51))
    assert db.session.get(LetterSequence, ("surat", 2026)).last_seq == 50
    warned = db.session.execute(select(Cooperative).where(Cooperative.status == "warned")).all()
    assert len(warned) == 50


@pytest.mark.postgres
def test_fifty_parallel_direct_issues_get_fifty_consecutive_numbers(app, users, make_coop):
    if not os.environ.get("TEST_DATABASE_URL", "").startswith("postgresql"):
        pytest.skip("needs PostgreSQL (TEST_DATABASE_URL)")
    coop_ids = [make_coop().id for _ in range(50)]
    head_id = users["head"].id
    barrier = threading.Barrier(50)
    numbers: list[str] = []

    def issue(coop_id: int) -> None:
        with app.app_context():
            try:
                coop = db.session.get(Cooperative, coop_id)
                head = db.session.get(User, head_id)
                db.session.commit()  # give the connection back while the others line up
                barrier.wait(timeout=30)
                letter = ops.issue_letter("revocation", coop, signer=head, today=TODAY)
                db.session.commit()
                numbers.append(letter.number)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=issue, args=(cid,)) for cid in coop_ids]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(set(numbers)) == 50
    seqs = sorted(db.session.execute(select(Letter.seq)).scalars())
    assert seqs == list(range(1, 51))


def test_a_revocation_states_the_warnings_grounds_not_the_sweeps_reason(app, users, make_coop):
    """Menimbang (a) says why the cooperative is inactive; the sweep's "objection window is
    over" is clause (b). It once printed "1) Masa keberatan ... berakhir ....;" in (a)."""
    from datetime import timedelta

    from coop_audit.sanctions import deadlines

    coop = make_coop(name="KSU Sido Makmur", status="dormant")
    warned_on = TODAY - timedelta(days=120)
    sanctions.sign(propose_warning(coop, users), users["head2"], today=warned_on)
    warning = db.session.execute(select(Letter)).scalar_one()
    warning.receipt_date = warned_on + timedelta(days=2)
    db.session.commit()
    deadlines.sweep(TODAY)  # the objection window is over: the sweep proposes revocation
    db.session.commit()
    proposal = db.session.execute(
        select(sanctions.Proposal).where(sanctions.Proposal.trigger == "revoke")
    ).scalar_one()
    assert proposal.by_sweep
    sanctions.sign(proposal, users["head2"], today=TODAY)
    db.session.commit()
    revocation = db.session.execute(select(Letter).where(Letter.kind == "revocation")).scalar_one()
    text = " ".join(
        " ".join(p.extract_text().split()) for p in PdfReader(io.BytesIO(revocation.pdf)).pages
    )
    ground_a = text.split("dinilai tidak aktif dengan alasan:")[1].split("bahwa kepada")[0]
    assert "1) Tidak menyelenggarakan RAT 3 tahun buku berturut-turut;" in ground_a
    assert "keberatan" not in ground_a and ".;" not in text
