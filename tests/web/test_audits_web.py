"""Field audits through the web: recording, autosave, uploads, submission, append-only, pages."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from sqlalchemy import event, func, select

from coop_audit.extensions import db
from coop_audit.models import Cooperative, HistoryEvent
from coop_audit.models.audits import Audit, AuditAmendment, AuditFile, SubmittedAuditChanged
from tests.conftest import csrf_token_from, jpeg, pdf_bytes

IN_KARANGANYAR = ("-7.600000", "111.000000")


def post_multipart(client, url, fields: dict):
    """A multipart POST encoded in memory (the test client spools big bodies to a temp file
    it never closes, which pytest reports as an unraisable ResourceWarning)."""
    from werkzeug.datastructures import FileStorage, MultiDict
    from werkzeug.test import encode_multipart

    values = MultiDict()
    for key, value in fields.items():
        items = value if isinstance(value, list) else [value]
        for item in items:
            if isinstance(item, tuple):
                item = FileStorage(io.BytesIO(item[0]), filename=item[1])
            values.add(key, item)
    boundary, body = encode_multipart(values)
    return client.post(url, data=body, content_type=f"multipart/form-data; boundary={boundary}")


def stored_files(app) -> list[Path]:
    root = Path(app.config["UPLOAD_DIR"])
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def start(client, coop) -> int:
    page = client.get(f"/koperasi/{coop.id}").get_data(as_text=True)
    resp = client.post(f"/audit/baru/{coop.id}", data={"csrf_token": csrf_token_from(page)})
    assert resp.status_code == 302, resp.get_data(as_text=True)[:500]
    return int(re.search(r"/audit/(\d+)/ubah", resp.headers["Location"]).group(1))


def form_token(client, audit_id) -> str:
    return csrf_token_from(client.get(f"/audit/{audit_id}/ubah").get_data(as_text=True))


DORMANT_ANSWERS = {
    "office_found": "no",
    "board_reachable": "no",
    "books_present": "no",
    "business_active": "no",
    "rat_held_0": "no",
    "rat_held_1": "no",
    "rat_held_2": "no",
    "findings": "Kantor kosong, papan nama hilang, pengurus tidak dapat dihubungi.",
    "recommendation": "Ditetapkan tidak aktif.",
    "lat": IN_KARANGANYAR[0],
    "lng": IN_KARANGANYAR[1],
}


@pytest.fixture
def inspector(auth, users):
    auth.login("inspector")
    return users["inspector"]


def test_an_inspector_records_a_draft_and_autosave_keeps_each_field(client, inspector, make_coop):
    coop = make_coop()
    audit_id = start(client, coop)
    token = form_token(client, audit_id)
    resp = client.post(
        f"/audit/{audit_id}/draf",
        data={"findings": "Kantor tutup", "member_count": "abc", "office_found": "no"},
        headers={"X-CSRFToken": token},
    )
    body = resp.get_json()
    assert resp.status_code == 200
    assert set(body["saved"]) == {"findings", "office_found"}
    assert "member_count" in body["errors"]
    audit = db.session.get(Audit, audit_id)
    db.session.refresh(audit)
    assert audit.findings == "Kantor tutup"
    assert audit.office_found is False
    # Only the posted fields change: the visit date set at the start is kept.
    assert audit.visit_date is not None
    html = client.get(f"/audit/{audit_id}/ubah").get_data(as_text=True)
    assert "Kantor tutup" in html


def test_autosave_without_the_csrf_token_is_refused(client, inspector, make_coop):
    coop = make_coop()
    audit_id = start(client, coop)
    resp = client.post(f"/audit/{audit_id}/draf", data={"findings": "x"})
    assert resp.status_code == 400
    assert db.session.get(Audit, audit_id).findings is None


def test_autosave_of_text_the_server_refuses_answers_json_naming_the_problem(
    client, inspector, make_coop
):
    audit_id = start(client, make_coop())
    resp = client.post(
        f"/audit/{audit_id}/draf",
        data={"findings": "Kantor\x00tutup"},
        headers={"X-CSRFToken": form_token(client, audit_id), "Accept": "application/json"},
    )
    assert resp.status_code == 400
    assert "karakter yang tidak diizinkan" in resp.get_json()["message"]
    assert db.session.get(Audit, audit_id).findings is None


def test_a_position_outside_karanganyar_is_not_saved(client, inspector, make_coop):
    audit_id = start(client, make_coop())
    token = form_token(client, audit_id)
    resp = client.post(
        f"/audit/{audit_id}/draf",
        data={"lat": "-6.2", "lng": "106.8"},  # Jakarta
        headers={"X-CSRFToken": token},
    )
    assert "lat" in resp.get_json()["errors"]
    assert db.session.get(Audit, audit_id).lat is None


BAD_UPLOADS = {
    "elf_named_jpg": ("foto.jpg", b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 500),
    "empty": ("kosong.jpg", b""),
    "thirty_mb_photo": ("besar.jpg", b"\xff\xd8\xff\xe0" + b"\x00" * (30 * 1024 * 1024)),
    "path_traversal": ("../../etc/passwd", b"root:x:0:0:root:/root:/bin/bash\n"),
    "damaged_jpeg": ("rusak.jpg", b"\xff\xd8\xff\xe0" + b"garbage" * 100),
}


@pytest.mark.parametrize("case", list(BAD_UPLOADS))
def test_bad_uploads_are_refused_with_a_message_and_nothing_is_stored(
    app, client, inspector, make_coop, case
):
    name, data = BAD_UPLOADS[case]
    audit_id = start(client, make_coop())
    token = form_token(client, audit_id)
    resp = post_multipart(
        client,
        f"/audit/{audit_id}/ubah",
        {
            "csrf_token": token,
            "action": "upload",
            "findings": "should not be saved either",
            "photos": [(data, name)],
        },
    )
    html = resp.get_data(as_text=True)
    assert resp.status_code == 400
    assert "upload-error" in html
    shown = name.rsplit("/", 1)[-1]
    assert shown in html
    assert stored_files(app) == []
    assert db.session.execute(select(func.count()).select_from(AuditFile)).scalar_one() == 0
    audit = db.session.get(Audit, audit_id)
    db.session.refresh(audit)
    assert audit.findings is None
    assert not Path("/etc/passwd.jpg").exists()


def test_a_good_photo_and_pdf_are_stored_under_random_names_with_sha256_and_thumbnail(
    app, client, inspector, make_coop
):
    import hashlib

    audit_id = start(client, make_coop())
    token = form_token(client, audit_id)
    photo = jpeg()
    resp = client.post(
        f"/audit/{audit_id}/ubah",
        data={
            "csrf_token": token,
            "action": "upload",
            "photos": [(io.BytesIO(photo), "../../kantor depan.jpg")],
            "documents": [(io.BytesIO(pdf_bytes()), "surat kades.pdf")],
        },
        content_type="multipart/form-data",
    )
    assert resp.status_code == 302
    files = db.session.execute(select(AuditFile).order_by(AuditFile.id)).scalars().all()
    assert [f.kind for f in files] == ["photo", "document"]
    p = files[0]
    assert p.sha256 == hashlib.sha256(photo).hexdigest()
    assert p.display_name == "kantor depan.jpg"
    assert "kantor" not in p.stored_name and re.fullmatch(r"[0-9a-f]{32}\.jpg", p.stored_name)
    assert p.thumb_name and (p.exif_lat, p.exif_lng) == (-7.6, pytest.approx(111.0083333))
    on_disk = {f.name for f in stored_files(app)}
    assert {p.stored_name, p.thumb_name, files[1].stored_name} == on_disk
    # The audit's position came from the photo's EXIF (none was entered).
    audit = db.session.get(Audit, audit_id)
    db.session.refresh(audit)
    assert audit.lat == -7.6
    # Served to logged-in users only.
    with client.get(f"/audit/berkas/{p.id}") as full:
        assert full.data == photo
        assert full.headers["X-Content-Type-Options"] == "nosniff"
    with client.get(f"/audit/berkas/{p.id}/kecil") as small:
        assert small.mimetype == "image/jpeg"
    client.post("/logout", data={"csrf_token": token})
    anon = client.get(f"/audit/berkas/{p.id}")
    assert anon.status_code in (302, 401)


@pytest.mark.parametrize("role", ["viewer", "clerk"])
def test_a_viewer_or_clerk_cannot_record_an_audit(client, auth, users, make_coop, role):
    coop = make_coop()
    draft = Audit(cooperative_id=coop.id, state="draft", created_by_id=users["inspector"].id)
    db.session.add(draft)
    db.session.commit()
    auth.login(role)
    token = csrf_token_from(client.get(f"/koperasi/{coop.id}").get_data(as_text=True))
    assert client.post(f"/audit/baru/{coop.id}", data={"csrf_token": token}).status_code == 403
    assert client.get(f"/audit/{draft.id}/ubah").status_code == 403
    resp = client.post(
        f"/audit/{draft.id}/ubah",
        data={"csrf_token": token, "action": "submit", **DORMANT_ANSWERS},
    )
    assert resp.status_code == 403
    resp = client.post(
        f"/audit/{draft.id}/draf", data={"findings": "x"}, headers={"X-CSRFToken": token}
    )
    assert resp.status_code == 403
    assert db.session.execute(select(func.count()).select_from(Audit)).scalar_one() == 1
    assert "new-audit" not in client.get(f"/koperasi/{coop.id}").get_data(as_text=True)


def test_the_operation_refuses_a_clerk_even_without_the_view(app, users, make_coop):
    from coop_audit.audits.operations import start_audit
    from coop_audit.permissions import PermissionDenied
    from coop_audit.timeutil import local_today

    with pytest.raises(PermissionDenied):
        start_audit(make_coop(), users["clerk"], today=local_today())


def submit(client, audit_id, answers=DORMANT_ANSWERS, **files):
    token = form_token(client, audit_id)
    data = {"csrf_token": token, "action": "submit", **answers}
    data.update(files)
    return post_multipart(client, f"/audit/{audit_id}/ubah", data)


def test_dormancy_evidence_moves_an_active_cooperative_to_dormant_and_its_page_explains_why(
    client, inspector, make_coop
):
    coop = make_coop(last_rat_year=2019)
    audit_id = start(client, coop)
    resp = submit(client, audit_id, photos=[(jpeg(), "kantor.jpg")])
    assert resp.status_code == 302, resp.get_data(as_text=True)[:2000]
    db.session.expire_all()
    coop = db.session.get(Cooperative, coop.id)
    assert coop.status == "dormant"
    assert "RAT" in coop.status_reason
    kinds = [
        e.kind
        for e in db.session.execute(
            select(HistoryEvent).where(HistoryEvent.cooperative_id == coop.id)
        ).scalars()
    ]
    assert "audit_submitted" in kinds and "dormancy_recorded" in kinds
    dormancy = db.session.execute(
        select(HistoryEvent).where(HistoryEvent.kind == "dormancy_recorded")
    ).scalar_one()
    assert dormancy.evidence[0]["audit_id"] == audit_id
    assert "Permenkop 9/2018" in dormancy.legal_ground
    html = client.get(f"/koperasi/{coop.id}").get_data(as_text=True)
    assert 'data-status="dormant"' in html
    assert 'id="verdict-findings"' in html
    assert 'data-code="no_rat"' in html and 'data-code="not_found"' in html
    assert "Permenkop 9/2018" in html
    assert f"/audit/{audit_id}" in html
    assert db.session.execute(select(func.count()).select_from(AuditFile)).scalar_one() == 1


def test_a_submission_missing_required_answers_is_refused_naming_the_fields(
    client, inspector, make_coop
):
    coop = make_coop()
    audit_id = start(client, coop)
    resp = submit(client, audit_id, answers={"findings": ""})
    html = resp.get_data(as_text=True)
    assert resp.status_code == 400
    assert html.count("invalid-feedback") >= 3
    assert db.session.get(Audit, audit_id).state == "draft"
    assert db.session.get(Cooperative, coop.id).status == "active"


def test_nobody_can_edit_a_submitted_audit(app, client, auth, users, make_coop):
    auth.login("inspector")
    coop = make_coop(last_rat_year=2019)
    audit_id = start(client, coop)
    assert submit(client, audit_id).status_code == 302
    for who in ("inspector", "admin"):
        auth.logout()
        auth.login(who)
        token = csrf_token_from(client.get(f"/audit/{audit_id}").get_data(as_text=True))
        assert client.get(f"/audit/{audit_id}/ubah").status_code == 302
        resp = client.post(
            f"/audit/{audit_id}/ubah",
            data={"csrf_token": token, "action": "save", "findings": "rewritten"},
        )
        assert resp.status_code == 409
        resp = client.post(
            f"/audit/{audit_id}/draf",
            data={"findings": "rewritten"},
            headers={"X-CSRFToken": token},
        )
        assert resp.status_code == 409
        resp = post_multipart(
            client,
            f"/audit/{audit_id}/ubah",
            {"csrf_token": token, "action": "upload", "photos": [(jpeg(), "a.jpg")]},
        )
        assert resp.status_code == 409
    db.session.expire_all()
    audit = db.session.get(Audit, audit_id)
    assert audit.findings == DORMANT_ANSWERS["findings"]
    assert stored_files(app) == []
    # Not even through the ORM.
    audit.findings = "rewritten in code"
    with pytest.raises(SubmittedAuditChanged):
        db.session.flush()
    db.session.rollback()
    db.session.delete(db.session.get(Audit, audit_id))
    with pytest.raises(SubmittedAuditChanged):
        db.session.flush()
    db.session.rollback()


def test_an_amendment_records_a_reason_and_leaves_the_audit_unchanged(client, inspector, make_coop):
    coop = make_coop(last_rat_year=2019)
    audit_id = start(client, coop)
    submit(client, audit_id)
    token = csrf_token_from(client.get(f"/audit/{audit_id}").get_data(as_text=True))
    resp = client.post(
        f"/audit/{audit_id}/amandemen", data={"csrf_token": token, "reason": "", "note": "x"}
    )
    assert resp.status_code == 400
    resp = client.post(
        f"/audit/{audit_id}/amandemen",
        data={"csrf_token": token, "reason": "Salah ketik", "note": "Anggota 35, bukan 53."},
    )
    assert resp.status_code == 302
    am = db.session.execute(select(AuditAmendment)).scalar_one()
    assert am.reason == "Salah ketik"
    assert "Salah ketik" in client.get(f"/audit/{audit_id}").get_data(as_text=True)
    assert db.session.execute(
        select(HistoryEvent).where(HistoryEvent.kind == "audit_amended")
    ).scalar_one()


def test_evidence_of_life_on_a_dormant_cooperative_proposes_reactivation(
    client, inspector, make_coop
):
    from coop_audit.models.workflow import Proposal

    coop = make_coop(status="dormant", last_rat_year=2019)
    audit_id = start(client, coop)
    alive = {
        "office_found": "yes",
        "board_reachable": "yes",
        "books_present": "yes",
        "board_complete": "yes",
        "business_active": "yes",
        "rat_held_0": "yes",
        "rat_held_1": "yes",
        "rat_held_2": "yes",
        "findings": "RAT kembali diselenggarakan, unit simpan pinjam berjalan.",
    }
    assert submit(client, audit_id, answers=alive).status_code == 302
    proposal = db.session.execute(select(Proposal)).scalar_one()
    assert proposal.trigger == "reactivate" and proposal.state == "pending"
    assert proposal.evidence[0]["audit_id"] == audit_id
    assert db.session.get(Cooperative, coop.id).status == "dormant"  # the head signs


def test_the_register_list_shows_verdicts_without_a_query_per_row(
    app, client, auth, users, make_coop
):
    for i in range(12):
        make_coop(last_rat_year=2019 if i % 2 else 2025)
    auth.login("viewer")
    client.get("/koperasi/")  # warm caches
    statements: list[str] = []
    listener = lambda *a: statements.append(a[2])  # noqa: E731
    event.listen(db.engine, "before_cursor_execute", listener)
    html = client.get("/koperasi/").get_data(as_text=True)
    event.remove(db.engine, "before_cursor_execute", listener)
    assert html.count("verdict-badge") == 12
    assert len([s for s in statements if "FROM audit" in s]) == 1


def test_the_due_list_filters_by_kecamatan_and_village(client, auth, users, make_coop):
    a = make_coop(name="Koperasi Jaten", desa_kode="33.13.11.2001")
    b = make_coop(name="Koperasi Lain", desa_kode="33.13.01.2001")
    auth.login("inspector")
    html = client.get("/audit/jadwal").get_data(as_text=True)
    assert a.name in html and b.name in html
    html = client.get("/audit/jadwal?kecamatan=33.13.11").get_data(as_text=True)
    assert a.name in html and b.name not in html
    html = client.get("/audit/jadwal?kecamatan=33.13.11&desa=33.13.11.2002").get_data(as_text=True)
    assert a.name not in html
    auth.logout()
    auth.login("clerk")
    assert client.get("/audit/jadwal").status_code == 403


def test_a_recent_audit_takes_a_cooperative_off_the_due_list_and_counts_on_the_dashboard(
    client, inspector, make_coop
):
    coop = make_coop(name="Koperasi Diperiksa", last_rat_year=2019)
    make_coop(name="Koperasi Belum")
    audit_id = start(client, coop)
    submit(client, audit_id)
    html = client.get("/audit/jadwal").get_data(as_text=True)
    assert "Koperasi Belum" in html and "Koperasi Diperiksa" not in html
    dash = client.get("/dasbor").get_data(as_text=True)
    assert 'id="audit-campaign"' in dash
    assert re.search(r'id="campaign-total">\s*1 / 2', dash)


def test_the_berita_acara_is_a_one_page_pdf_with_the_photos(client, inspector, make_coop):
    from pypdf import PdfReader

    coop = make_coop(name="Koperasi Sumber Rejeki", last_rat_year=2019)
    audit_id = start(client, coop)
    submit(client, audit_id, photos=[(jpeg(), "kantor.jpg")])
    resp = client.get(f"/audit/{audit_id}/berita-acara.pdf")
    assert resp.status_code == 200 and resp.mimetype == "application/pdf"
    reader = PdfReader(io.BytesIO(resp.data))
    assert len(reader.pages) == 1
    text = reader.pages[0].extract_text()
    assert "BERITA ACARA PEMERIKSAAN" in text
    assert "Koperasi Sumber Rejeki" in text
    assert "kantor.jpg" in text
    assert reader.pages[0].images  # the photo is embedded


@pytest.mark.parametrize("role", ["viewer", "clerk", "head", "admin"])
def test_read_only_staff_read_the_audit_its_pdf_and_evidence_but_cannot_amend(
    client, auth, inspector, make_coop, role
):
    coop = make_coop(last_rat_year=2019)
    audit_id = start(client, coop)
    submit(client, audit_id, photos=[(jpeg(), "kantor.jpg")])
    file_id = db.session.execute(select(AuditFile.id)).scalar_one()
    auth.logout()
    auth.login(role)
    html = client.get(f"/audit/{audit_id}").get_data(as_text=True)
    assert 'id="report-pdf"' in html  # the page offers the PDF it can open
    pdf = client.get(f"/audit/{audit_id}/berita-acara.pdf")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    for url in (f"/audit/berkas/{file_id}", f"/audit/berkas/{file_id}/kecil"):
        with client.get(url) as resp:
            assert resp.status_code == 200, url
    if role in ("viewer", "clerk", "head"):
        assert "Add an amendment" not in html and "amandemen" not in html
        resp = client.post(
            f"/audit/{audit_id}/amandemen",
            data={"csrf_token": csrf_token_from(html) or auth.csrf("/dasbor"), "reason": "x"},
        )
        assert resp.status_code == 403
        assert (
            db.session.execute(select(func.count()).select_from(AuditAmendment)).scalar_one() == 0
        )


@pytest.mark.parametrize(
    ("lang", "badge", "doubled"),
    [
        ("id", "Ditemukan bukti tidak aktif", "tidak aktif tidak aktif"),
        ("en", "Dormancy evidence found", "found dormant"),
    ],
)
def test_the_verdict_badge_is_followed_by_its_reasons_not_the_kind_again(
    client, auth, inspector, make_coop, lang, badge, doubled
):
    coop = make_coop(last_rat_year=2019)
    audit_id = start(client, coop)
    submit(client, audit_id)
    if lang != "id":
        token = csrf_token_from(client.get("/dasbor").get_data(as_text=True))
        client.post(f"/language/{lang}", data={"csrf_token": token})
    for url in (f"/audit/{audit_id}", f"/koperasi/{coop.id}"):
        html = client.get(url).get_data(as_text=True)
        text = " ".join(re.sub(r"<[^>]+>", " ", html).split())
        assert badge in text, url
        assert doubled not in text.lower(), url
        # The badge is followed by the reasons, never by the kind word again.
        assert not re.search(re.escape(badge) + r" (tidak aktif|dormant)\b", text, re.I), url
    # The status reason recorded for the dormancy reads on its own after the badge too.
    assert db.session.get(Cooperative, coop.id).status_reason.startswith("Tidak menyelenggarakan")


def test_the_audit_page_shows_unknown_answers_as_unknown_not_as_no(client, inspector, make_coop):
    coop = make_coop(last_rat_year=2019)
    audit_id = start(client, coop)
    submit(client, audit_id)
    html = client.get(f"/audit/{audit_id}").get_data(as_text=True)
    row = re.search(r'<tr data-fy="\d+">.*?</tr>', html).group(0)
    assert "notulen" not in row and "hadir" not in row
