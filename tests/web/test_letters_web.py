"""Letter pages: verification, download, receipt, batch printing, register export, settings."""

import hashlib
import io
import re
from datetime import date, timedelta

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader
from sqlalchemy import select

from coop_audit.extensions import db
from coop_audit.letters import jobs
from coop_audit.letters import operations as ops
from coop_audit.letters.formatting import tanggal
from coop_audit.models.letters import BatchJob, Letter
from coop_audit.timeutil import local_today, utcnow
from tests.conftest import csrf_token_from, jpeg

TODAY = local_today() - timedelta(days=10)
RECEIVED = TODAY + timedelta(days=2)


@pytest.fixture
def letter(app, users, make_coop):
    coop = make_coop(name="KSU Sido Makmur", status="dormant")
    made = ops.issue_letter("warning", coop, signer=users["head2"], today=TODAY)
    db.session.commit()
    return made


def issue_many(users, make_coop, n, kind="warning", **coop_kw):
    letters = ops.issue_letters(
        [ops.IssueItem(kind, make_coop(**coop_kw)) for _ in range(n)],
        signer=users["head"],
        today=TODAY,
    )
    db.session.commit()
    return letters


def post(client, path, data, page=None, **kw):
    html = client.get(page or path).get_data(as_text=True)
    return client.post(path, data={"csrf_token": csrf_token_from(html), **data}, **kw)


# --- verification ----------------------------------------------------------------------------


def test_verify_page_shows_valid_then_void_and_works_logged_out(client, auth, letter, users):
    resp = client.get(f"/verify/{letter.token}")
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200
    assert 'data-valid="true"' in html
    for shown in (letter.number, tanggal(TODAY), "KSU Sido Makmur", "Dr. Siti Rahma, M.Si."):
        assert shown in html
    assert letter.sha256 in html
    assert letter.short_code not in html and "NIP" not in html  # nothing else exposed

    auth.login("clerk")
    resp = post(
        client,
        f"/surat/{letter.id}/batal",
        {"reason": "salah alamat koperasi"},
        page=f"/surat/{letter.id}",
    )
    assert resp.status_code == 302
    auth.logout()
    html = client.get(f"/verify/{letter.token}").get_data(as_text=True)
    assert 'data-valid="false"' in html and letter.number in html


def test_a_guessed_token_is_404(client, letter):
    assert client.get("/verify/" + "A" * 32).status_code == 404
    assert client.get("/verify/" + letter.token[:-1]).status_code == 404


def test_the_short_code_can_be_typed_loosely(client, letter):
    typed = letter.short_code.lower().replace("-", " ").replace("0", "o")
    html = client.get("/verify", query_string={"code": typed}).get_data(as_text=True)
    assert 'data-valid="true"' in html and letter.number in html
    html = client.get("/verify", query_string={"code": "ZZZZZ-ZZZZZ"}).get_data(as_text=True)
    assert "No letter has this code" in html or "Tidak ada surat" in html


def test_verification_is_rate_limited(app, client, letter):
    app.extensions["letters.verify_limiter"].limit = 3
    codes = [client.get(f"/verify/{letter.token}").status_code for _ in range(5)]
    assert codes[:3] == [200, 200, 200] and codes[-1] == 429


def test_a_hostile_cooperative_name_prints_literally_in_html(client, auth, users, make_coop):
    coop = make_coop(name="<script>alert(1)</script> {{ 7*7 }}")
    hostile = ops.issue_letter("warning", coop, signer=users["head"], today=TODAY)
    db.session.commit()
    for path in (f"/verify/{hostile.token}",):
        html = client.get(path).get_data(as_text=True)
        assert "&lt;script&gt;alert(1)&lt;/script&gt; {{ 7*7 }}" in html
        assert "<script>alert(1)" not in html
    auth.login("clerk")
    for path in (f"/surat/{hostile.id}", "/surat/", f"/koperasi/{coop.id}"):
        html = client.get(path).get_data(as_text=True)
        assert "&lt;script&gt;alert(1)&lt;/script&gt; {{ 7*7 }}" in html, path
        assert "<script>alert(1)" not in html


# --- download, receipt -----------------------------------------------------------------------


def test_download_returns_exactly_the_stored_bytes(client, auth, letter):
    auth.login("inspector")
    resp = client.get(f"/surat/{letter.id}/pdf")
    assert resp.status_code == 200 and resp.mimetype == "application/pdf"
    assert hashlib.sha256(resp.data).hexdigest() == letter.sha256
    assert resp.data == db.session.get(Letter, letter.id).pdf
    assert resp.data == client.get(f"/surat/{letter.id}/pdf").data


@pytest.mark.parametrize(
    ("role", "code"), [("viewer", 403), ("inspector", 200), ("clerk", 200), ("head", 200)]
)
def test_who_sees_the_register(client, auth, users, letter, role, code):
    auth.login(role)
    assert client.get("/surat/").status_code == code
    assert client.get(f"/surat/{letter.id}/pdf").status_code == code


def test_the_register_lists_newest_first_then_by_kind_then_highest_number(
    client, auth, users, make_coop
):
    def issue(kind, days_ago, **extras):
        made = ops.issue_letter(
            kind,
            make_coop(status="dormant"),
            signer=users["head"],
            today=TODAY - timedelta(days=days_ago),
            extras=extras,
        )
        db.session.commit()
        return made.number

    oldest = issue("warning", 8)  # warning no. 1
    newest_low = issue("warning", 0)  # no. 2
    revocation = issue("revocation", 0, grounds=["tidak aktif"])  # revocation no. 1
    newest_high = issue("warning", 0)  # no. 3
    middle = issue("warning", 4)  # no. 4, issued later but dated earlier
    auth.login("clerk")
    html = client.get("/surat/").get_data(as_text=True)
    shown = re.findall(r'href="/surat/\d+">([^<]+)</a>', html)
    assert shown == [revocation, newest_high, newest_low, middle, oldest]
    assert 'id="register-order"' in html  # the page says how it is sorted
    rows = load_workbook(io.BytesIO(client.get("/surat/agenda.xlsx").data)).active
    numbers = [r[1] for r in rows.iter_rows(min_row=2, values_only=True) if r[1]]
    assert [n for n in numbers if n in shown] == shown  # the export keeps the same order


def test_clerk_records_a_receipt_with_a_scan_from_the_cooperative_page(client, auth, letter):
    auth.login("clerk")
    coop_page = f"/koperasi/{letter.cooperative_id}"
    assert f'action="/surat/{letter.id}/tanda-terima"' in client.get(coop_page).get_data(
        as_text=True
    )
    resp = post(
        client,
        f"/surat/{letter.id}/tanda-terima",
        {
            "method": "hand",
            "received_on": RECEIVED.isoformat(),
            "receiver": "Sutrisno",
            "back": "coop",
            "scan": (io.BytesIO(jpeg(size=(40, 30), gps=False)), "tanda-terima.jpg"),
        },
        page=coop_page,
        content_type="multipart/form-data",
    )
    assert resp.status_code == 302 and resp.headers["Location"].endswith(coop_page)
    stored = db.session.get(Letter, letter.id)
    assert stored.receipt_date == RECEIVED and stored.receipt_receiver == "Sutrisno"
    scan = client.get(f"/surat/{letter.id}/tanda-terima/scan")
    assert scan.status_code == 200 and scan.data.startswith(b"\xff\xd8\xff")
    scan.close()


def test_a_receipt_scan_of_the_wrong_type_is_refused_with_a_message(client, auth, letter):
    auth.login("clerk")
    resp = post(
        client,
        f"/surat/{letter.id}/tanda-terima",
        {
            "method": "post",
            "received_on": RECEIVED.isoformat(),
            "receiver": "Pak Pos",
            "scan": (io.BytesIO(b"<html>not a scan</html>"), "scan.pdf"),
        },
        page=f"/surat/{letter.id}",
        content_type="multipart/form-data",
        follow_redirects=True,
    )
    assert resp.status_code == 422  # the letter page again, the form keeping what was typed
    html = resp.get_data(as_text=True)
    assert "PDF, JPEG" in html
    assert db.session.get(Letter, letter.id).clock_start is None


# --- batch printing --------------------------------------------------------------------------


def test_batch_print_merges_all_pages_into_one_pdf_and_marks_them_sent(
    client, auth, users, make_coop
):
    jaten = issue_many(users, make_coop, 3, desa_kode="33.13.11.2001")
    other = issue_many(users, make_coop, 2, desa_kode="33.13.01.2001")
    auth.login("clerk")
    resp = post(client, "/surat/cetak", {"kind": "warning", "kecamatan": "33.13.11", "unsent": "y"})
    assert resp.status_code == 302
    job_url = resp.headers["Location"]
    job_id = int(job_url.rstrip("/").split("/")[-1])
    assert client.get(job_url).status_code == 200
    status = client.get(f"/surat/cetak/{job_id}/status").get_json()
    assert status["status"] == "done" and status["percent"] == 100
    download = client.get(status["download"])
    pdf = download.data
    download.close()
    pages = sum(len(PdfReader(io.BytesIO(x.pdf)).pages) for x in jaten)
    reader = PdfReader(io.BytesIO(pdf))
    assert len(reader.pages) == pages
    text = "".join(p.extract_text() for p in reader.pages)
    assert all(x.number in text for x in jaten)
    assert not any(x.number in text for x in other)
    db.session.expire_all()
    assert all(db.session.get(Letter, x.id).sent_at for x in jaten)
    assert not any(db.session.get(Letter, x.id).sent_at for x in other)
    # Printed once: the "not yet sent" selection is now empty.
    html = client.get("/surat/cetak?kind=warning&kecamatan=33.13.11&unsent=1").get_data(
        as_text=True
    )
    assert 'data-count="0"' in html


def test_recent_print_runs_show_translated_states_and_a_download_only_when_done(
    client, auth, users, make_coop
):
    issue_many(users, make_coop, 2)
    waiting = ops.create_batch_job(ops.LetterFilter(kind="warning"), users["clerk"])
    db.session.commit()
    auth.login("clerk")
    html = client.get("/surat/cetak").get_data(as_text=True)
    row = re.search(rf"<tr><td>{waiting.id}</td>.*?</tr>", html, re.S).group(0)
    assert ">menunggu<" in row and "queued" not in re.sub(r"<[^>]+>", " ", row)
    assert f"/surat/cetak/{waiting.id}/unduh" not in html  # nothing to download yet
    page = client.get(f"/surat/cetak/{waiting.id}").get_data(as_text=True)
    assert f"/surat/cetak/{waiting.id}/unduh" not in page
    assert client.get(f"/surat/cetak/{waiting.id}/unduh").status_code == 404

    jobs.run_batch_job(waiting.id)
    db.session.expire_all()
    assert db.session.get(BatchJob, waiting.id).status == "done"
    html = client.get("/surat/cetak").get_data(as_text=True)
    row = re.search(rf"<tr><td>{waiting.id}</td>.*?</tr>", html, re.S).group(0)
    assert ">selesai<" in row and f"/surat/cetak/{waiting.id}/unduh" in row
    page = client.get(f"/surat/cetak/{waiting.id}").get_data(as_text=True)
    assert f'href="/surat/cetak/{waiting.id}/unduh"' in page


def test_a_batch_job_whose_worker_died_is_retried_then_failed(app, users, make_coop):
    letters = issue_many(users, make_coop, 2)
    job = ops.create_batch_job(ops.LetterFilter(kind="warning"), users["clerk"])
    job.status, job.attempts = "running", 1
    job.heartbeat_at = utcnow() - timedelta(minutes=10)
    db.session.commit()
    assert jobs.recover_stale_jobs() == 1  # re-queued, and (immediate queue) run again
    db.session.expire_all()
    job = db.session.get(BatchJob, job.id)
    assert job.status == "done" and job.attempts == 2
    assert len(PdfReader(job.result_path).pages) >= len(letters)

    dead = ops.create_batch_job(ops.LetterFilter(kind="warning"), users["clerk"])
    dead.status, dead.attempts = "running", jobs.MAX_ATTEMPTS
    dead.heartbeat_at = utcnow() - timedelta(minutes=10)
    db.session.commit()
    jobs.recover_stale_jobs()
    assert db.session.get(BatchJob, dead.id).status == "failed"


def test_a_failing_merge_leaves_no_file_and_no_download(
    app, client, auth, users, make_coop, monkeypatch
):
    issue_many(users, make_coop, 2)

    def broken(_pdfs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(ops.render, "merge_pdfs", broken)
    auth.login("clerk")
    resp = post(client, "/surat/cetak", {"kind": "warning", "kecamatan": ""})
    job_id = int(resp.headers["Location"].rstrip("/").split("/")[-1])
    status = client.get(f"/surat/cetak/{job_id}/status").get_json()
    assert status["status"] == "failed" and "RuntimeError" in status["error"]
    assert "disk full" not in status["error"]  # details go to the log, not to the page
    assert client.get(f"/surat/cetak/{job_id}/unduh").status_code == 404
    assert list(ops.batch_dir().iterdir()) == []
    assert db.session.execute(select(Letter).where(Letter.sent_at.is_not(None))).first() is None


def test_cli_batch_writes_one_pdf(app, runner, users, make_coop, tmp_path):
    letters = issue_many(users, make_coop, 3, kind="revocation")
    out = tmp_path / "cetak.pdf"
    result = runner.invoke(
        args=[
            "letters",
            "batch",
            "--kind",
            "revocation",
            "--unsent",
            "--kecamatan",
            "Jaten",
            "--out",
            str(out),
        ]
    )
    assert result.exit_code == 0, result.output
    assert len(PdfReader(out).pages) == sum(
        len(PdfReader(io.BytesIO(x.pdf)).pages) for x in letters
    )
    again = runner.invoke(
        args=["letters", "batch", "--kind", "revocation", "--unsent", "--out", str(out)]
    )
    assert again.exit_code == 1 and "no valid letter" in again.output
    bad = runner.invoke(
        args=[
            "letters",
            "batch",
            "--kind",
            "revocation",
            "--kecamatan",
            "Atlantis",
            "--out",
            str(out),
        ]
    )
    assert bad.exit_code == 1 and "--kecamatan" in bad.output and "Traceback" not in bad.output


# --- register export, settings ---------------------------------------------------------------


def test_register_export_keeps_numbers_as_text_and_defuses_formulas(client, auth, users, make_coop):
    coop = make_coop(name='=HYPERLINK("http://x")', bh_number="+62/BH/2010")
    ops.issue_letter("warning", coop, signer=users["head"], today=TODAY)
    db.session.commit()
    auth.login("clerk")
    resp = client.get("/surat/agenda.xlsx")
    assert resp.status_code == 200
    ws = load_workbook(io.BytesIO(resp.data)).active
    row = [c.value for c in ws[2]]
    assert row[1] == f"500.3/1/DKUKTESDM/{TODAY.year}" and ws.cell(2, 2).number_format == "@"
    assert row[4] == '\'=HYPERLINK("http://x")'
    assert row[5] == "'+62/BH/2010"
    assert ws.cell(2, 5).data_type == "s"


def test_settings_index_lists_the_letter_settings_and_admin_saves_them(client, auth, users):
    auth.login("admin")
    html = client.get("/pengaturan/").get_data(as_text=True)
    assert "/surat/pengaturan" in html
    page = client.get("/surat/pengaturan").get_data(as_text=True)
    data = {
        "letterhead_lines": "PEMERINTAH KABUPATEN KARANGANYAR\nDINAS KOPERASI",
        "place": "Karanganyar",
        "classification_code": "518",
        "unit_code": "DINKOP",
        "number_pattern": "{code}/{seq}/{year}",
        "decision_number_pattern": "{code}/{seq}/KEP/{year}",
        "signer_title": "KEPALA DINAS KOPERASI",
        "signer_prefix": "a.n.",
        "signer_position": "Sekretaris",
        "page_size": "F4",
        "mengingat": "UU 25/1992\nPP 17/1994",
        "tembusan": "Bupati",
        "csrf_token": csrf_token_from(page),
    }
    resp = client.post("/surat/pengaturan", data=data)
    assert resp.status_code == 302
    s = ops.current_settings()
    assert s["page_size"] == "F4" and s["mengingat"] == ["UU 25/1992", "PP 17/1994"]
    data["number_pattern"] = "{code}/{nomor}"
    html = client.post("/surat/pengaturan", data=data).get_data(as_text=True)
    assert "nomor" in html and "is-invalid" in html
    assert ops.current_settings()["number_pattern"] == "{code}/{seq}/{year}"


def test_only_admins_reach_settings(client, auth, users):
    auth.login("head")
    assert client.get("/pengaturan/").status_code == 403
    assert client.get("/surat/pengaturan").status_code == 403


def test_a_logo_that_is_not_an_image_is_refused(client, auth, users):
    auth.login("admin")
    resp = post(
        client,
        "/surat/pengaturan/logo",
        {"logo": (io.BytesIO(b"GIF89a fake"), "logo.png")},
        page="/surat/pengaturan",
        content_type="multipart/form-data",
        follow_redirects=True,
    )
    assert resp.status_code == 200
    assert "PNG" in resp.get_data(as_text=True)
    assert ops.current_settings()["logo"] == ""


# --- the upward proposal ---------------------------------------------------------------------


def test_head_issues_the_proposal_from_its_page(client, auth, users, make_coop):
    revoked = make_coop(name="KUD Lama", status="license_revoked")
    ops.issue_letter("revocation", revoked, signer=users["head"], today=TODAY)
    db.session.commit()
    auth.login("head")
    page = client.get("/surat/usulan").get_data(as_text=True)
    assert "KUD Lama" in page
    resp = client.post(
        "/surat/usulan",
        data={
            "csrf_token": csrf_token_from(page),
            "coop_id": str(revoked.id),
            "addressee": "Menteri Koperasi\ndi\nJakarta",
            "reason": "",
        },
    )
    assert resp.status_code == 302
    letter = db.session.execute(select(Letter).where(Letter.kind == "proposal")).scalar_one()
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(letter.pdf)).pages)
    assert "KUD Lama" in text and re.sub(r"\s", "", letter.number) in re.sub(r"\s", "", text)


def test_count_again_counts_the_selection_as_chosen_and_starts_nothing(
    client, auth, users, make_coop
):
    issue_many(users, make_coop, 3, desa_kode="33.13.11.2001")  # Jaten
    issue_many(users, make_coop, 2, desa_kode="33.13.01.2001")
    auth.login("clerk")
    html = client.get("/surat/cetak").get_data(as_text=True)
    assert 'data-count="5"' in html
    resp = post(
        client,
        "/surat/cetak",
        {"kind": "", "kecamatan": "33.13.11", "unsent": "y", "action": "count"},
    )
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200 and "alert-danger" not in html
    assert 'data-count="3"' in html
    assert re.search(r'<option selected value="33.13.11">|<option value="33.13.11" selected', html)
    assert db.session.execute(select(BatchJob)).first() is None
    # The chosen selection is what "Prepare the PDF" then prints.
    resp = post(client, "/surat/cetak", {"kind": "", "kecamatan": "33.13.11", "unsent": "y"})
    assert resp.status_code == 302
    job = db.session.execute(select(BatchJob)).scalar_one()
    assert job.total == 3


def test_the_register_export_gives_the_sending_day_in_jakarta(client, auth, letter):
    """Sent at 05:30 WIB on 5 December is 22:30 UTC on the 4th: the office's day is the 5th."""
    from datetime import UTC, datetime

    letter.sent_at = datetime(2026, 12, 4, 22, 30, tzinfo=UTC)
    db.session.commit()
    auth.login("clerk")
    rows = load_workbook(io.BytesIO(client.get("/surat/agenda.xlsx").data)).active
    header = [c.value for c in rows[1]]
    row = next(r for r in rows.iter_rows(min_row=2, values_only=True) if r[1] == letter.number)
    assert row[header.index("Dikirim")].date() == date(2026, 12, 5)


def test_a_receipt_on_a_letter_not_marked_sent_dates_the_sending_no_later_than_receipt(
    client, auth, users, letter
):
    """The clerk forgot to mark the letter sent and records its receipt days later: the letter
    left by the receipt day at the latest, not on the day the receipt was typed in."""
    assert letter.sent_at is None
    ops.record_receipt(
        letter,
        users["clerk"],
        method="hand",
        today=local_today(),
        received_on=RECEIVED,
        receiver="Sutrisno",
    )
    db.session.commit()
    db.session.refresh(letter)
    assert local_today(letter.sent_at) <= RECEIVED


def test_printing_copies_only_leaves_the_letters_unsent(client, auth, users, make_coop):
    """Printing the revocations again for the archive must not date them as sent today."""
    letters = issue_many(users, make_coop, 2, desa_kode="33.13.11.2001")
    auth.login("clerk")
    resp = post(
        client,
        "/surat/cetak",
        {"kind": "warning", "kecamatan": "33.13.11", "unsent": "y", "copies": "y"},
    )
    job_id = int(resp.headers["Location"].rstrip("/").split("/")[-1])
    status = client.get(f"/surat/cetak/{job_id}/status").get_json()
    assert status["status"] == "done" and status["download"]
    db.session.expire_all()
    assert not any(db.session.get(Letter, x.id).sent_at for x in letters)
    page = client.get("/surat/cetak").get_data(as_text=True)
    assert 'name="copies"' in page and "jangan tandai sebagai sudah dikirim" in page
