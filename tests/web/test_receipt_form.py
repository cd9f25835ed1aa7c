"""The receipt form on a letter's page, as a clerk reads it: a refused post comes back with what
was typed, every mistake at its field in one answer, and nothing stored."""

from __future__ import annotations

import io
from datetime import timedelta
from pathlib import Path

import lxml.html
import pytest
from sqlalchemy import func, select

from coop_audit.extensions import db
from coop_audit.letters import operations as ops
from coop_audit.models import HistoryEvent
from coop_audit.models.letters import Letter
from coop_audit.timeutil import local_today
from tests.conftest import csrf_token_from, jpeg

TODAY = local_today()
ISSUED = TODAY - timedelta(days=10)
RECEIVED = ISSUED + timedelta(days=2)
JPEG = jpeg(size=(40, 30), gps=False)

# What the clerk sees at each field, in Indonesian (the office's default language).
FUTURE = "Tanggal tidak boleh melewati hari ini."
BEFORE_ISSUE = "Tanggal tidak boleh sebelum tanggal surat."
NO_DATE = "Isi tanggal surat diterima."
NO_RECEIVER = "Isi nama penerima surat."
NO_ANNOUNCEMENT = "Isi tanggal mulai pengumuman."
NOT_A_SCAN = "Pindaian harus berupa berkas PDF, JPEG atau PNG."
BANNER = "Tidak ada yang disimpan: mohon perbaiki isian yang ditandai merah."


@pytest.fixture
def letter(app, users, make_coop):
    coop = make_coop(name="KSU Sido Makmur", status="dormant")
    made = ops.issue_letter("warning", coop, signer=users["head2"], today=ISSUED)
    db.session.commit()
    return made


@pytest.fixture
def clerk(auth, users):
    auth.login("clerk")


def send(client, letter, page: str | None = None, **fields):
    """Post the receipt form the way the browser does, from the letter page (or `page`)."""
    html = client.get(page or f"/surat/{letter.id}").get_data(as_text=True)
    data = {"csrf_token": csrf_token_from(html), "method": "hand", **fields}
    return client.post(
        f"/surat/{letter.id}/tanda-terima", data=data, content_type="multipart/form-data"
    )


def receipt_form(html: str):
    (form,) = lxml.html.fromstring(html).xpath("//form[@data-receipt-form]")
    return form


def at_field(html: str, name: str) -> tuple[bool, list[str]]:
    """(outlined in red, the messages shown with it) for the receipt form's field `name`."""
    (el,) = receipt_form(html).xpath(f'.//*[@name="{name}"][not(@type="hidden")]')
    messages = el.getparent().xpath('.//div[contains(@class, "invalid-feedback")]')
    return "is-invalid" in (el.get("class") or ""), [m.text_content().strip() for m in messages]


def flagged(html: str) -> set[str]:
    red = './/*[contains(concat(" ", @class, " "), " is-invalid ")]'
    return {el.get("name") for el in receipt_form(html).xpath(red)}


def typed(html: str, name: str) -> str:
    (el,) = receipt_form(html).xpath(f'.//*[@name="{name}"]')
    if el.tag == "select":
        return el.value
    return el.get("value") or ""


def receipt_rows() -> int:
    return db.session.scalar(
        select(func.count()).select_from(HistoryEvent).where(HistoryEvent.kind == "receipt")
    )


def stored_scans(app) -> list[Path]:
    folder = Path(app.config["UPLOAD_DIR"]) / "receipts"
    return sorted(folder.iterdir()) if folder.exists() else []


def assert_nothing_stored(app, letter) -> None:
    stored = db.session.get(Letter, letter.id)
    db.session.refresh(stored)
    assert stored.clock_start is None
    assert stored.receipt_method is None and stored.receipt_receiver is None
    assert stored.receipt_scan is None and stored.sent_at is None
    assert receipt_rows() == 0
    assert stored_scans(app) == []


def test_a_future_date_and_a_text_file_are_both_reported_and_the_typing_is_kept(
    app, client, clerk, letter
):
    future = TODAY + timedelta(days=3)
    resp = send(
        client,
        letter,
        method="post",
        received_on=future.isoformat(),
        receiver="Pak Sutrisno",
        scan=(io.BytesIO(b"just some notes"), "catatan.txt"),
    )

    assert resp.status_code == 422
    html = resp.get_data(as_text=True)
    assert at_field(html, "received_on") == (True, [FUTURE])
    assert at_field(html, "scan") == (True, [NOT_A_SCAN])
    assert flagged(html) == {"received_on", "scan"}
    assert typed(html, "method") == "post"
    assert typed(html, "received_on") == future.isoformat()
    assert typed(html, "receiver") == "Pak Sutrisno"
    # A browser cannot refill a file input: the page says so, naming the file.
    (again,) = receipt_form(html).xpath(".//*[@data-choose-again]")
    assert "Pilih ulang" in again.text_content() and "catatan.txt" in again.text_content()
    assert BANNER in html
    assert_nothing_stored(app, letter)


@pytest.mark.parametrize(
    ("fields", "errors"),
    [
        ({}, {"received_on": NO_DATE, "receiver": NO_RECEIVER}),
        ({"receiver": "   "}, {"received_on": NO_DATE, "receiver": NO_RECEIVER}),
        (
            {"received_on": (ISSUED - timedelta(days=1)).isoformat(), "receiver": "Sutrisno"},
            {"received_on": BEFORE_ISSUE},
        ),
        (
            {"received_on": "2026-02-30", "receiver": ""},
            {"received_on": "Tanggal tidak sah", "receiver": NO_RECEIVER},
        ),
        ({"received_on": RECEIVED.isoformat(), "receiver": "x" * 121}, {"receiver": "120"}),
        ({"method": "announcement"}, {"announced_on": NO_ANNOUNCEMENT}),
        (
            {"method": "announcement", "announced_on": (TODAY + timedelta(days=3)).isoformat()},
            {"announced_on": FUTURE},
        ),
        ({"method": "pigeon"}, {"method": "Pilih cara penyampaian surat."}),
    ],
    ids=[
        "nothing-typed",
        "blank-receiver",
        "before-issue",
        "impossible-date",
        "long-receiver",
        "no-announcement-date",
        "future-announcement",
        "unknown-method",
    ],
)
def test_each_refusal_is_shown_at_its_field_and_stores_nothing(
    app, client, clerk, letter, fields, errors
):
    resp = send(client, letter, **fields)

    assert resp.status_code == 422
    html = resp.get_data(as_text=True)
    assert flagged(html) == set(errors)
    for name, message in errors.items():
        red, shown = at_field(html, name)
        assert red and len(shown) == 1 and message in shown[0], (name, shown)
    for name, value in fields.items():
        if name != "method":
            assert typed(html, name) == value
    assert_nothing_stored(app, letter)


def test_an_announcement_comes_back_as_an_announcement(client, clerk, letter):
    resp = send(client, letter, method="announcement", received_on="", receiver="")

    html = resp.get_data(as_text=True)
    form = receipt_form(html)
    assert typed(html, "method") == "announcement"
    # Shown without JavaScript too: the announcement date, not the receiver and receipt date.
    assert form.xpath(".//*[@data-receipt-announced]")[0].get("hidden") is None
    assert all(el.get("hidden") is not None for el in form.xpath(".//*[@data-receipt-delivered]"))


def test_a_refusal_of_the_operation_is_shown_at_the_field_it_names_and_rolled_back(
    app, client, clerk, letter, monkeypatch
):
    real = ops.record_receipt

    def record_then_refuse(*args, **kw):
        real(*args, **kw)  # the letter and the history are changed in the session...
        raise ops.LetterError("Nama penerima tidak dikenal.", "receiver")  # ...then refused

    monkeypatch.setattr(ops, "record_receipt", record_then_refuse)
    resp = send(client, letter, received_on=RECEIVED.isoformat(), receiver="Sutrisno")

    assert resp.status_code == 422
    html = resp.get_data(as_text=True)
    assert at_field(html, "receiver") == (True, ["Nama penerima tidak dikenal."])
    assert typed(html, "receiver") == "Sutrisno"
    assert typed(html, "received_on") == RECEIVED.isoformat()
    assert_nothing_stored(app, letter)


def test_a_refusal_of_the_whole_action_is_a_message_on_the_page(app, client, clerk, letter, users):
    ops.void_letter(letter, users["clerk"], "Salah alamat koperasi")
    db.session.commit()

    # Whatever the fields say, even unreadable ones, the reason given is the letter's state.
    for fields in (
        {"received_on": RECEIVED.isoformat(), "receiver": "Sutrisno"},
        {"received_on": "zz"},
    ):
        resp = send(client, letter, **fields)
        assert resp.status_code == 422
        html = resp.get_data(as_text=True)
        assert "Surat yang dibatalkan tidak dapat dicatat diterima." in html
        assert "ditandai merah" not in html
    assert_nothing_stored(app, letter)


def test_the_refused_page_is_the_letter_page(client, clerk, letter):
    page = client.get(f"/surat/{letter.id}").get_data(as_text=True)
    refused = send(client, letter).get_data(as_text=True)

    for part in (letter.number, letter.sha256, f"/surat/{letter.id}/batal", "Unduh PDF"):
        assert part in page and part in refused


def test_a_refusal_from_the_cooperative_page_keeps_its_way_back(client, clerk, letter):
    coop_page = f"/koperasi/{letter.cooperative_id}"
    resp = send(client, letter, page=coop_page, back="coop", receiver="Sutrisno")

    assert resp.status_code == 422
    html = resp.get_data(as_text=True)
    assert at_field(html, "received_on") == (True, [NO_DATE])
    assert typed(html, "back") == "coop" and typed(html, "receiver") == "Sutrisno"

    fixed = send(client, letter, back="coop", received_on=RECEIVED.isoformat(), receiver="Sutrisno")
    assert fixed.status_code == 302 and fixed.headers["Location"].endswith(coop_page)


def test_a_good_receipt_is_stored_and_redirects_to_the_letter(app, client, clerk, letter):
    resp = send(
        client,
        letter,
        method="post",
        received_on=RECEIVED.isoformat(),
        receiver="Pak Pos",
        scan=(io.BytesIO(JPEG), "tanda-terima.jpg"),
    )

    assert resp.status_code == 302 and resp.headers["Location"].endswith(f"/surat/{letter.id}")
    stored = db.session.get(Letter, letter.id)
    assert stored.receipt_method == "post" and stored.receipt_date == RECEIVED
    assert stored.receipt_receiver == "Pak Pos" and stored.receipt_scan
    assert receipt_rows() == 1 and len(stored_scans(app)) == 1
    page = client.get(resp.headers["Location"]).get_data(as_text=True)
    assert f"Tanda terima surat {letter.number} telah dicatat." in page
    # Recorded once: only its correction is offered now, folded away.
    assert f'action="/surat/{letter.id}/tanda-terima"' not in page
    assert '<details class="mt-3" id="correct-receipt">' in page


def test_the_messages_follow_the_users_language(client, clerk, letter, users):
    users["clerk"].locale = "en"
    db.session.commit()

    resp = send(client, letter, receiver="Sutrisno")

    html = resp.get_data(as_text=True)
    assert at_field(html, "received_on") == (True, ["Give the date the letter was received."])
    assert "Nothing was saved: please correct the fields marked in red." in html


def _huge_png() -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("1", (8000, 8000), 1).save(out, "PNG")  # 64 megapixels: a 1200 dpi A4 scan
    return out.getvalue()


DAMAGED = "Berkas pindaian ini rusak: tidak dapat dibuka sebagai PDF atau gambar."
TOO_MANY_PIXELS = (
    "Berkas pindaian ini memiliki terlalu banyak piksel (paling banyak 60 juta): simpan "
    "dengan resolusi lebih rendah (300 dpi sudah cukup)."
)


@pytest.mark.parametrize(
    "name, data, message",
    [
        ("scan.pdf", b"%PDF-1.7\n" + bytes(range(256)) * 20, DAMAGED),  # a header, then noise
        ("scan.jpg", b"\xff\xd8\xff\xe0" + b"broken" * 100, DAMAGED),
        ("scan.png", _huge_png(), TOO_MANY_PIXELS),  # named as such, not as damaged
    ],
)
def test_a_scan_that_does_not_open_is_refused_and_nothing_is_recorded(
    app, client, clerk, letter, name, data, message
):
    resp = send(
        client,
        letter,
        method="hand",
        received_on=RECEIVED.isoformat(),
        receiver="Pak Sutrisno",
        scan=(io.BytesIO(data), name),
    )
    assert resp.status_code == 422
    assert at_field(resp.get_data(as_text=True), "scan") == (True, [message])
    db.session.expire_all()
    assert db.session.get(Letter, letter.id).clock_start is None
    assert stored_scans(app) == []
