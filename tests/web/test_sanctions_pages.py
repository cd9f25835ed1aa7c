"""Sanction workflow pages through the test client: who may do what, and what they see."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from coop_audit.extensions import db
from coop_audit.models import Cooperative
from coop_audit.models.workflow import Proposal, SignJob
from coop_audit.sanctions import operations as ops
from tests.conftest import csrf_token_from
from tests.integration.sanctions_helpers import add_warning_letter

TODAY = date(2026, 6, 1)


def _proposal(make_coop, users, status="dormant", trigger="warn"):
    coop = make_coop(status=status)
    p = ops.propose(coop, trigger, users["inspector"], reason="Tidak aktif 3 tahun", today=TODAY)
    db.session.commit()
    return coop, p


def _csrf(client, path="/alur/persetujuan"):
    return csrf_token_from(client.get(path).get_data(as_text=True))


def test_head_signs_from_the_queue(client, auth, users, make_coop):
    coop, p = _proposal(make_coop, users)
    auth.login("head")
    html = client.get("/alur/persetujuan").get_data(as_text=True)
    assert coop.name in html and f'id="sign-{p.id}"' in html
    r = client.post(
        f"/alur/usulan/{p.id}/tandatangani?today=2026-06-01",
        data={"csrf_token": _csrf(client)},
        follow_redirects=True,
    )
    assert r.status_code == 200
    assert db.session.get(Cooperative, coop.id).status == "warned"


@pytest.mark.parametrize("role", ["clerk", "inspector", "viewer", "admin"])
def test_only_heads_reach_the_sign_endpoint(client, auth, users, make_coop, role):
    coop, p = _proposal(make_coop, users)
    auth.login(role)
    token = auth.csrf("/dasbor")
    r = client.post(f"/alur/usulan/{p.id}/tandatangani", data={"csrf_token": token})
    assert r.status_code in (403, 302)
    assert db.session.get(Cooperative, coop.id).status == "dormant"


def test_head_cannot_sign_own_proposal_on_the_web(client, auth, users, make_coop):
    coop, p = _proposal(make_coop, users)
    p.proposed_by_id = users["head"].id
    db.session.commit()
    auth.login("head")
    html = client.get("/alur/persetujuan").get_data(as_text=True)
    assert f'id="sign-{p.id}"' not in html  # no button ...
    r = client.post(  # ... and the server refuses anyway
        f"/alur/usulan/{p.id}/tandatangani",
        data={"csrf_token": csrf_token_from(html)},
        follow_redirects=True,
    )
    assert "sendiri" in r.get_data(as_text=True)
    assert db.session.get(Cooperative, coop.id).status == "dormant"


def test_bulk_sign_runs_as_a_job_whose_page_reports_each_item(client, auth, users, make_coop):
    c1, p1 = _proposal(make_coop, users)
    c2, p2 = _proposal(make_coop, users)
    ops.refuse(p2, users["head2"], reason="Kurang bukti", today=TODAY)
    db.session.commit()
    auth.login("head")
    r = client.post(
        "/alur/persetujuan/massal",
        data={"csrf_token": _csrf(client), "proposal_id": [str(p1.id), str(p2.id), str(p1.id)]},
    )
    assert r.status_code == 303 and "/alur/persetujuan/massal/" in r.headers["Location"]
    page = client.get(r.headers["Location"])
    html = page.get_data(as_text=True)
    # The queue runs inline under tests: the page shows the finished job.
    assert 'data-status="done"' in html
    assert "Ditandatangani: 1" in html
    refused = html[html.index('id="refused"') :]
    assert c2.name in refused and "Sudah ditolak" in refused
    assert c1.name in html[html.index('id="signed"') :]
    assert db.session.get(Proposal, p1.id).state == "signed"
    assert db.session.get(Proposal, p2.id).state == "refused"
    # The queue links the head to the job; another head does not see it.
    assert f"/alur/persetujuan/massal/{r.headers['Location'].rsplit('/', 1)[-1]}" in (
        client.get("/alur/persetujuan").get_data(as_text=True)
    )
    status = client.get(r.headers["Location"] + "/status").get_json()
    assert status["status"] == "done" and status["signed"] == 1 and status["total"] == 2
    auth.logout()
    auth.login("head2")
    assert client.get(r.headers["Location"]).status_code == 404
    assert client.get(r.headers["Location"] + "/status").status_code == 404


def test_bulk_sign_without_a_tick_changes_nothing(client, auth, users, make_coop):
    _c1, p1 = _proposal(make_coop, users)
    auth.login("head")
    r = client.post(
        "/alur/persetujuan/massal",
        data={"csrf_token": _csrf(client)},
        follow_redirects=True,
    )
    assert "Centang" in r.get_data(as_text=True)
    assert db.session.get(Proposal, p1.id).state == "pending"
    assert db.session.execute(db.select(db.func.count(SignJob.id))).scalar_one() == 0


def test_refusal_without_reason_is_explained(client, auth, users, make_coop):
    _coop, p = _proposal(make_coop, users)
    auth.login("head")
    r = client.post(
        f"/alur/usulan/{p.id}/tolak",
        data={"csrf_token": _csrf(client), "reason": ""},
        follow_redirects=True,
    )
    assert "alasan" in r.get_data(as_text=True).lower()
    assert db.session.get(Proposal, p.id).state == "pending"


def test_inspector_proposes_from_the_cooperative_page(client, auth, users, make_coop):
    coop = make_coop(status="dormant")
    auth.login("inspector")
    page = client.get(f"/koperasi/{coop.id}").get_data(as_text=True)
    assert 'id="workflow-section"' in page and 'data-trigger="warn"' in page
    assert 'aria-current="true"' in page and 'data-state="dormant"' in page
    form = client.get(f"/alur/koperasi/{coop.id}/usul/warn").get_data(as_text=True)
    r = client.post(
        f"/alur/koperasi/{coop.id}/usul/warn",
        data={
            "csrf_token": csrf_token_from(form),
            "reason": "Tidak RAT 2022-2024",
            "legal_ground": "UU 25/1992 Pasal 47",
            "evidence": "Audit 20-05-2026\nSurat kepala desa",
        },
    )
    assert r.status_code == 303
    p = db.session.query(Proposal).one()
    assert p.trigger == "warn" and len(p.evidence) == 2


def test_propose_without_reason_names_the_field(client, auth, users, make_coop):
    coop = make_coop(status="dormant")
    auth.login("inspector")
    form = client.get(f"/alur/koperasi/{coop.id}/usul/warn").get_data(as_text=True)
    r = client.post(
        f"/alur/koperasi/{coop.id}/usul/warn",
        data={"csrf_token": csrf_token_from(form), "reason": ""},
    )
    assert r.status_code == 422
    assert "invalid-feedback" in r.get_data(as_text=True)
    assert db.session.query(Proposal).count() == 0


def test_revocation_proposal_refused_while_window_open(client, auth, users, make_coop):
    coop = make_coop(status="warned")
    add_warning_letter(
        coop, users["head"], issued_on=date(2026, 1, 2), receipt_date=date(2026, 1, 10)
    )
    db.session.commit()
    auth.login("clerk")
    form = client.get(f"/alur/koperasi/{coop.id}/usul/revoke?today=2026-03-10").get_data(
        as_text=True
    )
    assert "10-03-2026" in form or "10 Maret 2026" in form
    r = client.post(
        f"/alur/koperasi/{coop.id}/usul/revoke?today=2026-03-10",
        data={"csrf_token": csrf_token_from(form), "reason": "Lewat waktu"},
    )
    assert r.status_code == 422
    assert db.session.query(Proposal).count() == 0


def test_clerk_records_objection_and_head_decides(client, auth, users, make_coop):
    coop = make_coop(status="warned")
    add_warning_letter(
        coop, users["head"], issued_on=date(2026, 1, 2), receipt_date=date(2026, 1, 10)
    )
    db.session.commit()
    auth.login("clerk")
    form = client.get(f"/alur/koperasi/{coop.id}/keberatan?today=2026-02-01").get_data(as_text=True)
    r = client.post(
        f"/alur/koperasi/{coop.id}/keberatan?today=2026-02-01",
        data={
            "csrf_token": csrf_token_from(form),
            "received_on": "2026-01-30",
            "text": "Kami sudah RAT",
        },
    )
    assert r.status_code == 303
    objection = ops.pending_objection(coop.id)
    auth.logout()
    auth.login("head")
    page = client.get(f"/alur/keberatan/{objection.id}").get_data(as_text=True)
    r = client.post(
        f"/alur/keberatan/{objection.id}?today=2026-02-10",
        data={"csrf_token": csrf_token_from(page), "decision": "accept", "reasons": "Sah"},
    )
    assert r.status_code == 303
    assert db.session.get(Cooperative, coop.id).status == "active"


def test_objection_with_bad_date_names_the_field(client, auth, users, make_coop):
    coop = make_coop(status="warned")
    auth.login("clerk")
    form = client.get(f"/alur/koperasi/{coop.id}/keberatan").get_data(as_text=True)
    r = client.post(
        f"/alur/koperasi/{coop.id}/keberatan",
        data={"csrf_token": csrf_token_from(form), "received_on": "kemarin", "text": "x"},
    )
    assert r.status_code == 422
    assert "invalid-feedback" in r.get_data(as_text=True)


def test_deadlines_dashboard_lists_overdue_and_missing_receipts(client, auth, users, make_coop):
    a = make_coop(status="warned", name="Koperasi Tanpa Tanda Terima")
    add_warning_letter(a, users["head"], issued_on=date(2026, 1, 2))
    b = make_coop(status="warned", name="Koperasi Terlambat")
    add_warning_letter(b, users["head"], issued_on=date(2026, 1, 2), receipt_date=date(2026, 1, 10))
    db.session.commit()
    auth.login("viewer")
    html = client.get("/alur/tenggat?today=2026-06-01").get_data(as_text=True)
    no_receipt = html.split('id="no-receipt-table"')[1].split("</table>")[0]
    overdue = html.split('id="overdue-table"')[1].split("</table>")[0]
    assert "Koperasi Tanpa Tanda Terima" in no_receipt
    assert "Koperasi Terlambat" in overdue
    assert client.get("/dasbor").status_code == 200


def test_recently_decided_lists_the_latest_decision_first(client, auth, users, make_coop):
    """Decisions recorded out of order (a late entry for an earlier day) still list by date."""
    decided = {}
    for day, refuse in (
        (date(2026, 5, 10), False),
        (date(2026, 5, 25), True),
        (date(2026, 5, 15), False),
    ):
        coop = make_coop(status="dormant", name=f"Koperasi Putusan {day.day}")
        p = ops.propose(
            coop, "warn", users["inspector"], reason="Tidak aktif", today=date(2026, 5, 1)
        )
        if refuse:
            ops.refuse(p, users["head"], reason="Bukti kurang", today=day)
        else:
            ops.sign(p, users["head"], today=day)
        db.session.commit()
        decided[day] = coop.name
    auth.login("head")
    html = client.get("/alur/persetujuan").get_data(as_text=True)
    recent = html.split('id="recent"')[1].split("</table>")[0]
    positions = [recent.index(decided[d]) for d in sorted(decided, reverse=True)]
    assert positions == sorted(positions)


def _visible_text(html: str) -> str:
    import re

    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


@pytest.mark.parametrize(
    ("lang", "expected", "repeated"),
    [
        ("id", "diusulkan otomatis oleh pengingat tenggat", "otomatis) otomatis"),
        ("en", "proposed automatically by the deadline reminder", "otomatis) automatic"),
    ],
)
def test_a_sweep_proposal_says_once_that_it_was_automatic(
    client, auth, users, make_coop, lang, expected, repeated
):
    from coop_audit.sanctions import deadlines

    ready = make_coop(status="warned", name="Koperasi Siap Cabut")
    add_warning_letter(
        ready, users["head"], issued_on=date(2026, 1, 2), receipt_date=date(2026, 1, 10)
    )
    db.session.commit()
    assert deadlines.sweep(TODAY).proposals_new
    db.session.commit()
    auth.login("head")
    if lang != "id":
        client.post(f"/language/{lang}", data={"csrf_token": _csrf(client)})
    text = _visible_text(client.get("/alur/persetujuan").get_data(as_text=True))
    assert expected in text
    assert repeated not in text and "pengingat otomatis" not in text


def test_diagram_page_highlights_the_state_and_has_no_script(client, auth, users):
    auth.login("viewer")
    html = client.get("/alur/diagram?status=warned").get_data(as_text=True)
    assert '<g class="state current" data-state="warned"' in html
    assert html.count('class="edge"') == 6
    assert "cdn" not in html.lower()


def test_settings_page_admin_only_and_validates(client, auth, users):
    auth.login("head")
    assert client.get("/alur/pengaturan").status_code == 403
    auth.logout()
    auth.login("admin")
    page = client.get("/alur/pengaturan").get_data(as_text=True)
    data = {
        "csrf_token": csrf_token_from(page),
        "objection_window_months": "3",
        "announcement_window_months": "3",
        "objection_decision_months": "1",
        "revocation_deadline_months": "4",
        "no_receipt_alert_days": "abc",
    }
    assert client.post("/alur/pengaturan", data=data).status_code == 422
    data["no_receipt_alert_days"] = "14"
    assert client.post("/alur/pengaturan", data=data).status_code == 303
    assert ops.rule_settings().objection_window_months == 3


def test_a_proposal_form_the_role_may_not_send_is_refused_when_opened(
    client, auth, users, make_coop
):
    coop = make_coop(status="dormant")
    auth.login("head")  # a head signs warnings; an inspector proposes them
    assert client.get(f"/alur/koperasi/{coop.id}/usul/warn").status_code == 403
    auth.logout()
    auth.login("inspector")
    assert client.get(f"/alur/koperasi/{coop.id}/usul/warn").status_code == 200


@pytest.mark.parametrize(
    ("lang", "expected"),
    [
        ("id", "Surat peringatan belum ada tanda terima: Koperasi Tanpa Tanda Terima"),
        ("en", "Warning with no proof of receipt: Koperasi Tanpa Tanda Terima"),
    ],
)
def test_sweep_reminders_read_in_the_readers_language(
    client, auth, users, make_coop, lang, expected
):
    from coop_audit.sanctions import deadlines

    coop = make_coop(status="warned", name="Koperasi Tanpa Tanda Terima")
    add_warning_letter(coop, users["head"], issued_on=date(2026, 1, 2))
    db.session.commit()
    assert deadlines.sweep(TODAY).reminders_new  # raised by the sweep, in Indonesian
    db.session.commit()
    auth.login("viewer")
    if lang != "id":
        client.post(f"/language/{lang}", data={"csrf_token": _csrf(client, "/alur/tenggat")})
    html = client.get(f"/alur/tenggat?today={TODAY}").get_data(as_text=True)
    reminders = _visible_text(html.split('id="reminders"')[1].split("</ul>")[0])
    assert expected in reminders


def test_a_reminder_dealt_with_leaves_the_page_at_once_and_is_resolved_by_the_next_sweep(
    client, auth, users, make_coop
):
    from coop_audit.letters import operations as letters
    from coop_audit.models.workflow import Reminder
    from coop_audit.sanctions import deadlines

    coop = make_coop(status="warned", name="Koperasi Sudah Terima")
    letter = add_warning_letter(coop, users["head"], issued_on=date(2026, 1, 2))
    db.session.commit()
    deadlines.sweep(TODAY)
    db.session.commit()
    auth.login("clerk")

    def reminders() -> str:
        html = client.get(f"/alur/tenggat?today={TODAY}").get_data(as_text=True)
        return html.split('id="reminders"')[1].split("</ul>")[0] if 'id="reminders"' in html else ""

    assert "Koperasi Sudah Terima" in reminders()
    letters.record_receipt(
        letter,
        users["clerk"],
        method="hand",
        today=TODAY,
        received_on=date(2026, 1, 10),
        receiver="Pak Lurah",
    )
    db.session.commit()
    assert "Koperasi Sudah Terima" not in reminders()  # before any sweep
    result = deadlines.sweep(TODAY)
    db.session.commit()
    assert result.reminders_resolved >= 1
    resolved = db.session.execute(
        select(Reminder).where(Reminder.cooperative_id == coop.id, Reminder.kind == "no_receipt")
    ).scalar_one()
    assert resolved.resolved_on == TODAY


@pytest.mark.parametrize("bad", ["²", "٣٩", "-1", "99999999999999999999", "2147483648", "12a"])
def test_bulk_sign_refuses_a_value_that_is_not_a_proposal_number(
    client, auth, users, make_coop, bad
):
    _c1, p1 = _proposal(make_coop, users)
    auth.login("head")
    r = client.post(
        "/alur/persetujuan/massal",
        data={"csrf_token": _csrf(client), "proposal_id": [str(p1.id), bad]},
        follow_redirects=True,
    )
    assert r.status_code == 200
    assert "Bukan nomor usulan" in r.get_data(as_text=True)
    assert db.session.get(Proposal, p1.id).state == "pending"  # nothing was queued or signed
    assert db.session.execute(db.select(db.func.count(SignJob.id))).scalar_one() == 0


def test_a_bulk_sign_off_reports_in_the_language_of_the_head(client, auth, users, make_coop):
    _c1, p1 = _proposal(make_coop, users)
    auth.login("head")
    client.post("/language/en", data={"csrf_token": _csrf(client)})
    r = client.post(
        "/alur/persetujuan/massal",
        data={"csrf_token": _csrf(client), "proposal_id": [str(p1.id), "123456"]},
        follow_redirects=True,
    )
    html = r.get_data(as_text=True)
    assert "Proposal no. 123456 does not exist." in html
    assert "Proposal no. 123456: Proposal no. 123456" not in html  # said once
    assert "Signed: 1" in html


def test_a_stopped_bulk_sign_off_can_be_tried_again_by_its_head(
    client, auth, users, make_coop, monkeypatch
):
    from coop_audit.letters import jobs

    _c1, p1 = _proposal(make_coop, users)
    _c2, p2 = _proposal(make_coop, users)
    job = jobs.create_sign_job([p1.id, p2.id], users["head"], TODAY)
    job.status, job.error = "failed", "disk full"
    db.session.commit()
    auth.login("head")
    page = client.get(f"/alur/persetujuan/massal/{job.id}").get_data(as_text=True)
    assert "disk full" in page and "Belum ditangani: 2 usulan" in page
    r = client.post(
        f"/alur/persetujuan/massal/{job.id}/ulangi", data={"csrf_token": csrf_token_from(page)}
    )
    assert r.status_code == 303
    db.session.expire_all()  # the job ran in its own session (inline under tests)
    assert 'data-status="done"' in client.get(r.headers["Location"]).get_data(as_text=True)
    assert {db.session.get(Proposal, p.id).state for p in (p1, p2)} == {"signed"}
    # A finished job is not run again.
    r = client.post(
        f"/alur/persetujuan/massal/{job.id}/ulangi",
        data={"csrf_token": csrf_token_from(page)},
        follow_redirects=True,
    )
    assert "Hanya tanda tangan massal yang berhenti" in r.get_data(as_text=True)


def test_the_status_of_a_job_without_progress_for_a_while_says_it_may_have_stalled(
    client, auth, users, make_coop
):
    from datetime import timedelta

    from coop_audit.letters import jobs
    from coop_audit.timeutil import utcnow

    _c1, p1 = _proposal(make_coop, users)
    job = jobs.create_sign_job([p1.id], users["head"], TODAY)
    job.status, job.heartbeat_at = "running", utcnow() - timedelta(seconds=40)
    db.session.commit()
    auth.login("head")
    status = client.get(f"/alur/persetujuan/massal/{job.id}/status").get_json()
    assert status["status"] == "running" and status["stalled"] is True


def test_a_bulk_sign_off_sent_again_says_those_were_signed_before_not_refused(
    client, auth, users, make_coop
):
    """The head pressed Back after a bulk sign-off and sent it again: the second job finds
    them signed. That is reported apart, not in red as "Not signed"; the first job's page
    links each signed proposal to its letter."""
    from coop_audit.models.letters import Letter

    c1, p1 = _proposal(make_coop, users)
    _c2, p2 = _proposal(make_coop, users)
    auth.login("head")
    data = {"csrf_token": _csrf(client), "proposal_id": [str(p1.id), str(p2.id)]}
    first = client.post("/alur/persetujuan/massal", data=data).headers["Location"]
    db.session.expire_all()
    html = client.get(first).get_data(as_text=True)
    letter = db.session.execute(select(Letter).where(Letter.proposal_id == p1.id)).scalar_one()
    signed = html[html.index('id="signed"') :]
    assert f'href="/surat/{letter.id}">{letter.number}</a>' in signed and c1.name in signed

    again = client.post("/alur/persetujuan/massal", data=data).headers["Location"]
    db.session.expire_all()
    html = client.get(again).get_data(as_text=True)
    assert 'id="refused"' not in html
    before = html[html.index('id="already-signed"') :]
    assert "Sudah ditandatangani sebelumnya" in before and "Sudah ditandatangani oleh" in before
    assert c1.name in before
    assert db.session.execute(select(db.func.count(Letter.id))).scalar_one() == 2


def test_a_job_no_worker_has_taken_for_a_while_says_it_may_have_stalled(
    client, auth, users, make_coop
):
    from datetime import timedelta

    from coop_audit.letters import jobs
    from coop_audit.timeutil import utcnow

    _c1, p1 = _proposal(make_coop, users)
    job = jobs.create_sign_job([p1.id], users["head"], TODAY)  # never handed to a worker
    job.heartbeat_at = utcnow() - timedelta(seconds=40)
    db.session.commit()
    auth.login("head")
    status = client.get(f"/alur/persetujuan/massal/{job.id}/status").get_json()
    assert status["status"] == "queued" and status["stalled"] is True
    queue = client.get("/alur/persetujuan").get_data(as_text=True)
    assert f"#{job.id} (0/1, menunggu)" in queue


def test_a_refusal_reason_that_is_too_long_is_named_not_called_an_expired_form(
    client, auth, users, make_coop
):
    _c, p = _proposal(make_coop, users)
    auth.login("head")
    html = client.get("/alur/persetujuan").get_data(as_text=True)
    assert f'id="reason-{p.id}" maxlength="4000"' in html  # the browser stops at the limit
    r = client.post(
        f"/alur/usulan/{p.id}/tolak",
        data={"csrf_token": csrf_token_from(html), "reason": "x" * 4500},
        follow_redirects=True,
    )
    page = r.get_data(as_text=True)
    assert "Alasan penolakan: Isian tidak boleh lebih dari 4000 karakter." in page
    assert "kedaluwarsa" not in page
    assert db.session.get(Proposal, p.id).state == "pending"
