"""The audit form's refusals, as an inspector reads them: the right numbers, at the right field,
all of them in one answer, each once; and a refused post changes nothing."""

from __future__ import annotations

from datetime import date

import lxml.html
import pytest
from sqlalchemy import func, select

from coop_audit.audits import uploads
from coop_audit.extensions import db
from coop_audit.models.audits import Audit, AuditFile
from tests.web.test_audits_web import (
    form_token,
    jpeg,
    pdf_bytes,
    post_multipart,
    start,
    stored_files,
)

MB = 1024 * 1024
TODAY = date(2026, 12, 4)
REQUIRED = ("visit_date", "office_found", "board_reachable", "business_active", "findings")


@pytest.fixture
def draft(app, client, auth, users, make_coop, monkeypatch):
    """An inspector's fresh draft, on a fixed today."""
    from coop_audit.audits import views

    monkeypatch.setattr(views, "today", lambda: TODAY)
    auth.login("inspector")
    audit_id = start(client, make_coop())
    return audit_id, form_token(client, audit_id)


def send(client, draft, action: str, **fields):
    """Post the audit form of `draft` with `action` and these fields (files as lists)."""
    audit_id, token = draft
    return post_multipart(
        client, f"/audit/{audit_id}/ubah", {"csrf_token": token, "action": action, **fields}
    )


def at_field(html: str, name: str) -> tuple[bool, list[str]]:
    """(outlined in red, the messages shown with it) for the form field `name`."""
    doc = lxml.html.fromstring(html)
    (el,) = doc.xpath(f'//form[@id="audit-form"]//*[@name="{name}"][not(@type="hidden")]')
    messages = el.getparent().xpath('./div[contains(@class, "invalid-feedback")]')
    return "is-invalid" in (el.get("class") or ""), [m.text_content().strip() for m in messages]


def flagged(html: str) -> set[str]:
    """The fields outlined in red."""
    doc = lxml.html.fromstring(html)
    red = '//form[@id="audit-form"]//*[contains(concat(" ", @class, " "), " is-invalid ")]'
    return {el.get("name") for el in doc.xpath(red)}


def audit_row(audit_id: int) -> Audit:
    audit = db.session.get(Audit, audit_id)
    db.session.refresh(audit)
    return audit


def no_files(app) -> bool:
    count = db.session.execute(select(func.count()).select_from(AuditFile)).scalar_one()
    return count == 0 and stored_files(app) == []


# ---------------------------------------------------------------- file sizes


@pytest.mark.parametrize(
    ("field", "name", "data", "message"),
    [
        (
            "documents",
            "big.pdf",
            b"%PDF-1.7\n" + bytes(21 * MB - 9),
            "big.pdf terlalu besar untuk dokumen (21.0 MB; paling besar 20 MB).",
        ),
        (
            "documents",
            "pas.pdf",
            b"%PDF-1.7\n" + bytes(20 * MB - 8),  # one byte over
            "pas.pdf terlalu besar untuk dokumen (20.1 MB; paling besar 20 MB).",
        ),
        (
            "photos",
            "besar.jpg",
            b"\xff\xd8\xff\xe0" + bytes(25 * MB - 4),  # over the read limit too
            "besar.jpg terlalu besar untuk foto (25.0 MB; paling besar 15 MB).",
        ),
        (
            "photos",
            "foto.jpg",
            b"\xff\xd8\xff\xe0" + bytes(16 * MB - 4),
            "foto.jpg terlalu besar untuk foto (16.0 MB; paling besar 15 MB).",
        ),
    ],
    ids=["pdf_21mb", "pdf_one_byte_over", "photo_25mb", "photo_16mb"],
)
def test_an_oversize_file_is_refused_stating_its_real_size(
    app, client, draft, field, name, data, message
):
    audit_id = draft[0]
    resp = send(client, draft, "upload", findings="Kantor buka.", **{field: [(data, name)]})
    html = resp.get_data(as_text=True)
    assert resp.status_code == 400
    assert at_field(html, field) == (True, [message])
    # What was typed is still in the form, and nothing of the post was kept.
    assert "Kantor buka." in html
    assert audit_row(audit_id).findings is None
    assert no_files(app)


def test_a_large_upload_is_not_kept_whole_in_memory_to_measure_it():
    import io

    stream = io.BytesIO(b"%PDF-1.7\n" + bytes(30 * MB))
    data, size = uploads.read_upload(stream)
    assert size == 30 * MB + 9
    assert len(data) == max(uploads.PHOTO_MAX_BYTES, uploads.PDF_MAX_BYTES) + 1


# ---------------------------------------------------------------- which field


NOT_A_FILE_WE_TAKE = "notes.txt bukan foto JPEG, PNG atau HEIC maupun dokumen PDF"


@pytest.mark.parametrize(("field", "other"), [("documents", "photos"), ("photos", "documents")])
def test_a_refused_file_is_shown_at_the_field_that_received_it(app, client, draft, field, other):
    resp = send(client, draft, "upload", **{field: [(b"rapat hari senin\n", "notes.txt")]})
    html = resp.get_data(as_text=True)
    assert resp.status_code == 400
    invalid, messages = at_field(html, field)
    assert invalid and len(messages) == 1 and messages[0].startswith(NOT_A_FILE_WE_TAKE)
    assert at_field(html, other) == (False, [])
    assert no_files(app)


def test_bad_files_in_both_fields_are_each_shown_at_their_own(app, client, draft):
    resp = send(
        client,
        draft,
        "upload",
        photos=[(jpeg(), "kantor.jpg"), (b"", "kosong.jpg")],
        documents=[(b"%PDF-1.7\n" + bytes(21 * MB), "big.pdf")],
    )
    html = resp.get_data(as_text=True)
    assert resp.status_code == 400
    assert at_field(html, "photos") == (True, ["kosong.jpg kosong (0 bita)."])
    invalid, messages = at_field(html, "documents")
    assert invalid and [m.split(" (")[0] for m in messages] == [
        "big.pdf terlalu besar untuk dokumen"
    ]
    assert no_files(app)  # the good photo was not kept either


def test_too_many_files_is_shown_at_the_field_that_received_them(app, client, draft, monkeypatch):
    monkeypatch.setattr(uploads, "FILES_PER_AUDIT", 0)
    resp = send(client, draft, "upload", documents=[(pdf_bytes(), "surat.pdf")])
    html = resp.get_data(as_text=True)
    assert resp.status_code == 400
    assert at_field(html, "documents") == (True, ["Paling banyak 0 berkas per pemeriksaan."])
    assert at_field(html, "photos") == (False, [])
    assert "Belum terkirim" not in html  # an upload is not a submission
    assert no_files(app)


# ---------------------------------------------------------------- submitting


BLANK = {"office_found": "", "board_reachable": "", "business_active": "", "findings": ""}


def test_a_blank_submit_flags_every_missing_answer(client, draft):
    resp = send(client, draft, "submit", visit_date="", **BLANK)
    assert resp.status_code == 400
    assert flagged(resp.get_data(as_text=True)) == set(REQUIRED)


@pytest.mark.parametrize(
    ("entry", "field", "message"),
    [
        ({"visit_date": "2027-01-10"}, "visit_date", "Tanggal ini belum terjadi (di masa depan)."),
        ({"rat_date_0": "2027-01-10"}, "rat_date_0", "Tanggal ini belum terjadi (di masa depan)."),
        ({"member_count": "banyak"}, "member_count", None),
        ({"lat": "-6.2", "lng": "106.8"}, "lat", "Titik ini berada di luar Kabupaten Karanganyar."),
    ],
    ids=["future_visit", "future_rat", "not_a_number", "outside_regency"],
)
def test_a_refused_submit_names_each_problem_once_and_every_missing_answer(
    client, draft, entry, field, message
):
    audit_id = draft[0]
    before = audit_row(audit_id)
    stored = (before.visit_date, before.inspectors, before.rat, before.lat)
    resp = send(
        client,
        draft,
        "submit",
        inspectors="Budi Santoso",
        recommendation="Perlu pembinaan.",
        **BLANK,
        **entry,
    )
    html = resp.get_data(as_text=True)
    assert resp.status_code == 400
    assert "Belum terkirim" in html
    invalid, messages = at_field(html, field)
    assert invalid and len(messages) == 1
    if message:
        assert messages == [message]
    missing = set(REQUIRED) - {"visit_date"} if field != "visit_date" else set(REQUIRED)
    assert flagged(html) == missing | {field}
    # The form keeps what was typed; the database keeps what it had.
    for value in entry.values():
        assert f'value="{value}"' in html
    assert "Budi Santoso" in html and "Perlu pembinaan." in html
    after = audit_row(audit_id)
    assert after.state == "draft"
    assert (after.visit_date, after.inspectors, after.rat, after.lat) == stored
    assert after.recommendation is None


def test_a_saved_draft_names_a_bad_entry_once_and_keeps_the_rest(client, draft):
    audit_id = draft[0]
    resp = send(
        client,
        draft,
        "save",
        visit_date="2027-01-10",
        member_count="banyak",
        findings="Kantor buka.",
    )
    html = resp.get_data(as_text=True)
    assert resp.status_code == 400
    assert at_field(html, "visit_date") == (True, ["Tanggal ini belum terjadi (di masa depan)."])
    assert at_field(html, "member_count") == (True, ["Harus berupa bilangan bulat."])
    assert flagged(html) == {"visit_date", "member_count"}
    after = audit_row(audit_id)
    assert (after.visit_date, after.findings) == (TODAY, "Kantor buka.")
