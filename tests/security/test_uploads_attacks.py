"""Uploads: the type is decided by content (not name or Content-Type), sizes are capped, and
client file names (../, NUL, control characters) never reach the file system."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from sqlalchemy import func, select

from coop_audit.extensions import db
from tests.conftest import csrf_token_from

web = pytest.importorskip("tests.web.test_audits_web")
AuditFile = pytest.importorskip("coop_audit.models.audits").AuditFile


def files_on_disk(app) -> list[Path]:
    root = Path(app.config["UPLOAD_DIR"])
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


def count_files() -> int:
    return db.session.execute(select(func.count()).select_from(AuditFile)).scalar_one()


@pytest.fixture
def draft(app, client, auth, users, make_coop):
    auth.login("inspector")
    audit_id = web.start(client, make_coop())
    return audit_id, web.form_token(client, audit_id)


def upload(client, audit_id, token, name, data, field="photos"):
    return web.post_multipart(
        client,
        f"/audit/{audit_id}/ubah",
        {"csrf_token": token, "action": "upload", field: [(data, name)]},
    )


@pytest.mark.parametrize(
    "name, data",
    [
        ("foto.jpg", b"<html><script>alert(1)</script></html>"),  # HTML named .jpg
        ("foto.jpg", b"MZ\x90\x00" + b"\x00" * 200),  # a Windows program named .jpg
        ("scan.pdf", b"#!/bin/sh\nrm -rf /\n"),  # a script named .pdf
        ("foto.svg", b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>'),
        ("foto.jpg", b"\xff\xd8\xff" + b"not really a jpeg" * 10),  # right magic, broken body
    ],
)
def test_files_are_judged_by_content_not_by_name(app, client, draft, name, data):
    audit_id, token = draft
    for field in ("photos", "documents"):
        resp = upload(client, audit_id, token, name, data, field)
        assert resp.status_code == 400, (name, field)
        assert name in resp.get_data(as_text=True)
    assert count_files() == 0 and files_on_disk(app) == []


@pytest.mark.parametrize(
    "client_name",
    [
        "../../../etc/cron.d/evil.jpg",
        "..\\..\\boot.ini.jpg",
        "a\x00.php.jpg",
        "/absolute/path.jpg",
        "....//x.jpg",
        ".htaccess.jpg",
        "CON.jpg",
    ],
)
def test_client_file_names_never_become_paths(app, client, draft, client_name):
    audit_id, token = draft
    resp = upload(client, audit_id, token, client_name, web.jpeg(gps=False))
    assert resp.status_code in (302, 400)
    root = Path(app.config["UPLOAD_DIR"]).resolve()
    for p in files_on_disk(app):
        assert p.resolve().is_relative_to(root)
        assert re.fullmatch(r"[0-9a-f]{32}(\.thumb)?\.jpg", p.name), p.name
    assert not Path("/etc/cron.d/evil.jpg").exists()
    for f in db.session.execute(select(AuditFile)).scalars():
        assert "/" not in f.display_name and "\\" not in f.display_name
        assert "\x00" not in f.display_name and not f.display_name.startswith(".")


def test_a_request_over_the_size_limit_is_refused_with_a_page(app, client, draft):
    audit_id, token = draft
    app.config["MAX_CONTENT_LENGTH"] = 64 * 1024
    form_page = f"http://localhost/audit/{audit_id}/ubah"
    big = web.jpeg(gps=False) + b"\0" * 100_000
    client.environ_base["HTTP_REFERER"] = form_page
    resp = upload(client, audit_id, token, "big.jpg", big)
    assert resp.status_code == 413
    html = resp.get_data(as_text=True)
    assert "<html" in html.lower() and "64 KB" in html and "Tidak ada yang disimpan" in html
    assert f'href="/audit/{audit_id}/ubah"' in html  # back to the form the file came from
    assert count_files() == 0 and files_on_disk(app) == []
    # Only a page of this site is offered as the way back.
    client.environ_base["HTTP_REFERER"] = "https://evil.example/x"
    resp = upload(client, audit_id, token, "big.jpg", big)
    assert resp.status_code == 413 and "evil.example" not in resp.get_data(as_text=True)


def test_a_photo_over_the_photo_limit_is_refused_naming_the_file(app, client, draft, monkeypatch):
    from coop_audit.audits import uploads

    monkeypatch.setattr(uploads, "PHOTO_MAX_BYTES", 2000)
    audit_id, token = draft
    resp = upload(client, audit_id, token, "besar.jpg", web.jpeg(size=(600, 600), gps=False))
    assert resp.status_code == 400
    assert "besar.jpg" in resp.get_data(as_text=True)
    assert count_files() == 0 and files_on_disk(app) == []


@pytest.mark.parametrize(
    "data",
    [
        b"<svg onload=alert(1)>",
        b"\x89PNG\r\n\x1a\n" + b"not a png body" * 20,  # the right first bytes, then noise
    ],
)
def test_the_letter_logo_must_really_be_an_image(app, client, auth, users, data):
    from coop_audit import settings

    auth.login("admin")
    page = client.get("/surat/pengaturan")
    if page.status_code == 404:
        pytest.skip("letters settings not installed")
    token = csrf_token_from(page.get_data(as_text=True))
    before = settings.get("letters.logo")
    resp = web.post_multipart(
        client,
        "/surat/pengaturan/logo",
        {"csrf_token": token, "logo": [(data, "logo.png")]},
    )
    assert resp.status_code in (302, 400)
    assert settings.get("letters.logo") == before
    html = client.get("/surat/pengaturan").get_data(as_text=True)
    assert "PNG" in html and "JPEG" in html


def test_a_register_upload_that_is_not_a_spreadsheet_is_refused(app, client, auth, users):
    auth.login("admin")
    page = client.get("/impor/")
    if page.status_code == 404:
        pytest.skip("imports not installed")
    token = csrf_token_from(page.get_data(as_text=True))
    resp = web.post_multipart(
        client,
        "/impor/",
        {"csrf_token": token, "file": [(b"PK\x03\x04 not a zip at all", "register.xlsx")]},
    )
    assert resp.status_code == 400
    assert "<html" in resp.get_data(as_text=True).lower()
    imports_dir = Path(app.config["UPLOAD_DIR"]) / "imports"
    assert not imports_dir.exists() or not any(imports_dir.rglob("*.xlsx"))
