"""A clerk voids a warning that went to a wrong address; the head issues it again with a new
number, the same grounds and today's date, and the cooperative's clock waits for that letter."""

from __future__ import annotations

import io
from datetime import date

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from coop_audit.extensions import db
from coop_audit.letters import operations as ops
from coop_audit.models import HistoryEvent
from coop_audit.models.letters import Letter
from coop_audit.sanctions import operations as sanctions
from coop_audit.timeutil import local_today
from tests.conftest import csrf_token_from

ISSUED = date(2026, 11, 2)


@pytest.fixture
def voided(app, users, make_coop):
    coop = make_coop(name="KSU Sido Makmur", status="dormant")
    proposal = sanctions.propose(
        coop, "warn", users["inspector"], reason="Tidak menyelenggarakan RAT 3 tahun", today=ISSUED
    )
    sanctions.sign(proposal, users["head"], today=ISSUED)
    letter = db.session.execute(select(Letter)).scalar_one()
    ops.void_letter(letter, users["clerk"], "Salah alamat penerima")
    db.session.commit()
    return letter


def text_of(letter: Letter) -> str:
    return " ".join(
        " ".join(p.extract_text().split()) for p in PdfReader(io.BytesIO(letter.pdf)).pages
    )


def test_the_head_issues_a_voided_warning_again_with_a_new_number(client, auth, users, voided):
    auth.login("head2")  # not the proposer; the head who signed first is away
    page = client.get(f"/surat/{voided.id}").get_data(as_text=True)
    assert 'id="reissue-form"' in page
    resp = client.post(
        f"/surat/{voided.id}/terbitkan-ulang", data={"csrf_token": csrf_token_from(page)}
    )
    assert resp.status_code == 302
    new = db.session.execute(select(Letter).where(Letter.id != voided.id)).scalar_one()
    assert resp.headers["Location"].endswith(f"/surat/{new.id}")
    assert new.kind == "warning" and not new.is_void and new.seq == voided.seq + 1
    assert new.issued_on == local_today() and new.signer_id == users["head2"].id
    assert new.proposal_id == voided.proposal_id
    text = text_of(new)
    assert new.number in text and "Tidak menyelenggarakan RAT 3 tahun" in text
    # The warning clock now follows the new letter (its receipt is still to come).
    assert sanctions.latest_warning(voided.cooperative_id).id == new.id
    event = db.session.execute(
        select(HistoryEvent).where(HistoryEvent.kind == "letter_reissued")
    ).scalar_one()
    assert event.data["replaces"] == voided.number and event.data["number"] == new.number
    # Once only: the voided letter now points at its replacement.
    page = client.get(f"/surat/{voided.id}").get_data(as_text=True)
    assert 'id="reissue-form"' not in page and new.number in page
    again = client.post(
        f"/surat/{voided.id}/terbitkan-ulang",
        data={"csrf_token": csrf_token_from(page)},
        follow_redirects=True,
    )
    assert "sudah diterbitkan ulang" in again.get_data(as_text=True)
    assert db.session.execute(select(db.func.count(Letter.id))).scalar_one() == 2


def test_a_clerk_sees_that_only_the_head_can_issue_it_again(client, auth, voided):
    auth.login("clerk")
    page = client.get(f"/surat/{voided.id}").get_data(as_text=True)
    assert 'id="reissue-hint"' in page and 'id="reissue-form"' not in page
    resp = client.post(
        f"/surat/{voided.id}/terbitkan-ulang", data={"csrf_token": csrf_token_from(page)}
    )
    assert resp.status_code == 403
    assert db.session.execute(select(db.func.count(Letter.id))).scalar_one() == 1


def test_a_valid_letter_is_not_issued_again(app, users, make_coop):
    coop = make_coop(status="dormant")
    letter = ops.issue_letter("warning", coop, signer=users["head"], today=ISSUED)
    db.session.commit()
    with pytest.raises(ops.LetterError, match="dibatalkan"):
        ops.reissue_letter(letter, users["head2"], today=ISSUED)


def test_the_proposer_cannot_sign_the_letter_of_his_own_proposal(app, users, voided):
    """Four eyes for the letter too: the inspector who proposed the warning, since made head
    of office, does not sign it again."""
    from coop_audit.permissions import PermissionDenied

    users["inspector"].role = "head"
    db.session.commit()
    with pytest.raises(PermissionDenied):
        ops.reissue_letter(voided, users["inspector"], today=ISSUED)
    db.session.rollback()
    assert db.session.execute(select(db.func.count(Letter.id))).scalar_one() == 1


def test_a_warning_is_not_issued_again_once_the_cooperative_was_reactivated(
    client, auth, users, voided
):
    from coop_audit.models import Cooperative

    coop = db.session.get(Cooperative, voided.cooperative_id)
    proposal = sanctions.propose(
        coop, "reactivate", users["inspector"], reason="RAT 2026 sudah dilaksanakan", today=ISSUED
    )
    sanctions.sign(proposal, users["head2"], today=ISSUED)
    db.session.commit()
    assert coop.status == "active"
    with pytest.raises(ops.LetterError, match="Status koperasi telah berubah"):
        ops.reissue_letter(voided, users["head2"], today=ISSUED)
    db.session.rollback()
    auth.login("head2")
    page = client.get(f"/surat/{voided.id}").get_data(as_text=True)
    assert 'id="reissue-closed"' in page and 'id="reissue-form"' not in page


@pytest.mark.postgres
def test_two_heads_issuing_the_same_letter_again_at_once_make_one_letter(app, users, voided):
    import threading

    from coop_audit.models import User

    start = threading.Barrier(2)
    results: list[str] = []
    letter_id = voided.id  # read here: the threads must not touch this thread's session

    def head(username):
        with app.app_context():
            me = db.session.execute(select(User).where(User.username == username)).scalar_one()
            letter = db.session.get(Letter, letter_id)
            start.wait(10)
            try:
                ops.reissue_letter(letter, me, today=ISSUED)
                db.session.commit()
                results.append("issued")
            except ops.LetterError:
                db.session.rollback()
                results.append("refused")
            finally:
                db.session.remove()

    threads = [threading.Thread(target=head, args=(u,)) for u in ("head", "head2")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sorted(results) == ["issued", "refused"]
    db.session.expire_all()
    assert db.session.execute(select(db.func.count(Letter.id))).scalar_one() == 2


def test_an_objection_against_the_voided_letter_still_blocks_after_the_reissue(app, users, voided):
    """The objection was against the decision, not the paper: it keeps blocking the revocation
    once the warning is issued again (it used to be forgotten, and a revocation was signed)."""
    from coop_audit.models import Cooperative
    from coop_audit.models.workflow import Objection

    db.session.add(
        Objection(
            cooperative_id=voided.cooperative_id,
            letter_id=voided.id,
            received_on=ISSUED,
            text="Kami keberatan",
            filed_by_id=users["clerk"].id,
        )
    )
    new = ops.reissue_letter(voided, users["head2"], today=ISSUED)
    db.session.commit()
    coop = db.session.get(Cooperative, voided.cooperative_id)
    clock = sanctions.warning_clock(coop, ISSUED)
    assert clock.letter_id == new.id
    assert clock.objection_blocks and clock.pending_objection_id is not None


def test_a_voided_newest_warning_stops_the_clock_until_it_is_issued_again(app, users, voided):
    """An older warning (an earlier cycle) does not stand in for a voided newer one."""
    ops.issue_letter("warning", voided.cooperative, signer=users["head"], today=date(2025, 5, 1))
    db.session.commit()
    assert sanctions.latest_warning(voided.cooperative_id) is None


def test_a_reinstatement_letter_is_issued_again_by_a_head(app, users, make_coop):
    """A reinstatement is the head's own act (no sign-off, no second person)."""
    coop = make_coop(status="active")
    letter = ops.issue_letter("reinstatement", coop, signer=users["head"], today=ISSUED)
    ops.void_letter(letter, users["clerk"], "Salah alamat penerima")
    db.session.commit()
    new = ops.reissue_letter(letter, users["head"], today=ISSUED)
    assert new.kind == "reinstatement" and not new.is_void
