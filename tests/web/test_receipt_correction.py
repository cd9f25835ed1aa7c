"""A clerk corrects a recorded receipt (a mistyped date): the objection window follows, the
history keeps both versions and the reason, and nothing changes once a later step rests on it."""

from __future__ import annotations

from datetime import timedelta

import lxml.html
import pytest
from sqlalchemy import select

from coop_audit.extensions import db
from coop_audit.letters import operations as ops
from coop_audit.models import HistoryEvent
from coop_audit.models.letters import Letter
from coop_audit.models.workflow import Objection
from coop_audit.timeutil import local_today
from tests.conftest import csrf_token_from, pdf_bytes

TODAY = local_today()
ISSUED = TODAY - timedelta(days=20)
TYPED = ISSUED + timedelta(days=12)  # the clerk's typo
REAL = ISSUED + timedelta(days=2)


@pytest.fixture
def received(app, users, make_coop):
    coop = make_coop(name="KSU Sido Makmur", status="warned")
    letter = ops.issue_letter("warning", coop, signer=users["head2"], today=ISSUED)
    ops.record_receipt(
        letter,
        users["clerk"],
        method="hand",
        today=TODAY,
        received_on=TYPED,
        receiver="Pak Sutrisno",
        scan=pdf_bytes(),
    )
    db.session.commit()
    return letter


def correct(client, letter, **fields):
    """Post the correction form from the letter page (by hand to Pak Sutrisno unless told)."""
    html = client.get(f"/surat/{letter.id}").get_data(as_text=True)
    data = {
        "csrf_token": csrf_token_from(html),
        "method": "hand",
        "receiver": "Pak Sutrisno",
        **fields,
    }
    return client.post(
        f"/surat/{letter.id}/tanda-terima/koreksi", data=data, content_type="multipart/form-data"
    )


def correction_form(html: str):
    (form,) = lxml.html.fromstring(html).xpath('//form[@id="receipt-correction-form"]')
    return form


def test_the_clerk_corrects_a_mistyped_date_and_the_history_keeps_both(client, auth, received):
    auth.login("clerk")
    html = client.get(f"/surat/{received.id}").get_data(as_text=True)
    form = correction_form(html)  # filled with what is recorded now
    assert form.xpath('.//input[@name="received_on"]')[0].get("value") == TYPED.isoformat()
    assert form.xpath('.//input[@name="receiver"]')[0].get("value") == "Pak Sutrisno"
    scan_before = received.receipt_scan

    resp = correct(
        client,
        received,
        received_on=REAL.isoformat(),
        reason="Salah ketik: tanda terima bertanggal dua hari setelah surat.",
    )
    assert resp.status_code == 302
    db.session.expire_all()
    letter = db.session.get(Letter, received.id)
    assert letter.clock_start == REAL and letter.receipt_scan == scan_before  # scan kept
    event = db.session.execute(
        select(HistoryEvent).where(HistoryEvent.kind == "receipt_corrected")
    ).scalar_one()
    assert event.data["corrected_from"]["receipt_date"] == TYPED.isoformat()
    assert event.data["corrected_from"]["scan"] == scan_before  # still found from the history
    assert event.data["receipt_date"] == REAL.isoformat()
    assert event.data["correction_reason"].startswith("Salah ketik")
    coop_page = client.get(f"/koperasi/{received.cooperative_id}").get_data(as_text=True)
    assert "Tanda terima dikoreksi" in coop_page  # the cooperative's history names it


def test_a_correction_without_a_reason_changes_nothing(client, auth, received):
    auth.login("clerk")
    resp = correct(client, received, received_on=REAL.isoformat())
    assert resp.status_code == 422
    html = resp.get_data(as_text=True)
    form = correction_form(html)
    reason = form.xpath('.//textarea[@name="reason"]')[0]
    assert "is-invalid" in reason.get("class")
    assert "Sebutkan alasan tanda terima dikoreksi." in html
    assert form.xpath('.//input[@name="received_on"]')[0].get("value") == REAL.isoformat()
    db.session.expire_all()
    assert db.session.get(Letter, received.id).clock_start == TYPED


def test_a_receipt_an_objection_rests_on_can_no_longer_be_corrected(client, auth, users, received):
    db.session.add(
        Objection(
            cooperative_id=received.cooperative_id,
            letter_id=received.id,
            received_on=TYPED + timedelta(days=3),
            text="Kami keberatan",
            filed_by_id=users["clerk"].id,
        )
    )
    db.session.commit()
    auth.login("clerk")
    html = client.get(f"/surat/{received.id}").get_data(as_text=True)
    assert 'id="correction-closed"' in html and 'id="receipt-correction-form"' not in html
    page_token = csrf_token_from(html)
    resp = client.post(
        f"/surat/{received.id}/tanda-terima/koreksi",
        data={
            "csrf_token": page_token,
            "method": "hand",
            "received_on": REAL.isoformat(),
            "receiver": "X",
            "reason": "koreksi",
        },
        content_type="multipart/form-data",
    )
    assert resp.status_code == 409
    assert "Keberatan atas surat ini sudah dicatat" in resp.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Letter, received.id).clock_start == TYPED


def test_only_office_staff_may_correct(client, auth, received):
    auth.login("inspector")
    resp = client.post(f"/surat/{received.id}/tanda-terima/koreksi", data={})
    assert resp.status_code in (400, 403)
    db.session.expire_all()
    assert db.session.get(Letter, received.id).clock_start == TYPED


def test_a_clerk_cannot_close_the_objection_window_by_a_correction_the_head_can(
    client, auth, users, received
):
    """Moving the receipt four months back ends the window today (the sweep would then propose
    the revocation): not a clerk's change alone."""
    long_ago = TODAY - timedelta(days=125)
    letter = db.session.get(Letter, received.id)
    letter.issued_on = long_ago - timedelta(days=2)  # the letter itself is that old too
    db.session.commit()
    auth.login("clerk")
    resp = correct(client, received, received_on=long_ago.isoformat(), reason="Salah ketik")
    assert resp.status_code == 422
    assert "hanya Kepala Dinas yang dapat melakukannya" in resp.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Letter, received.id).clock_start == TYPED
    auth.logout()
    auth.login("head")
    reason = "Salah ketik; diperiksa Kepala Dinas"
    resp = correct(client, received, received_on=long_ago.isoformat(), reason=reason)
    assert resp.status_code == 302
    db.session.expire_all()
    letter = db.session.get(Letter, received.id)
    assert letter.clock_start == long_ago
    assert letter.sent_at is not None and local_today(letter.sent_at) <= long_ago
    coop_page = client.get(f"/koperasi/{received.cooperative_id}").get_data(as_text=True)
    assert "diperiksa Kepala Dinas" in coop_page  # the reason shows on the timeline


def test_the_receipt_of_an_older_warning_is_not_corrected(app, users, received):
    """A newer warning runs the cooperative's clock: the older one's receipt stays as it is."""
    newer = ops.issue_letter("warning", received.cooperative, signer=users["head"], today=TODAY)
    db.session.commit()
    assert newer.id != received.id
    assert "lebih baru" in ops.correction_closed(received)
