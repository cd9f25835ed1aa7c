"""The import pages as a clerk uses them, broken uploads, and the register exports."""

from __future__ import annotations

import gc
import io
import os
import re
import zipfile
from pathlib import Path

import openpyxl
import pytest
from sqlalchemy import func, select

from coop_audit.extensions import db
from coop_audit.models import Cooperative, HistoryEvent
from coop_audit.models.imports import ImportBatch
from tests.conftest import SHARED, csrf_token_from

MESSY = SHARED / "samples" / "register-messy.csv"
SAMPLE = SHARED / "samples" / "register-karanganyar.xlsx"


def _count(model) -> int:
    return db.session.execute(select(func.count()).select_from(model)).scalar_one()


def _upload(client, data: bytes, name: str):
    token = csrf_token_from(client.get("/impor/").get_data(as_text=True))
    return client.post(
        "/impor/",
        data={"csrf_token": token, "file": (io.BytesIO(data), name)},
        content_type="multipart/form-data",
    )


def _uploaded_files(app) -> list[Path]:
    root = Path(app.config["UPLOAD_DIR"]) / "imports"
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def test_upload_shows_a_preview_then_the_confirmed_import_writes(app, client, auth, users):
    auth.login("clerk")
    resp = _upload(client, MESSY.read_bytes(), "register-messy.csv")
    assert resp.status_code == 302
    preview_url = resp.headers["Location"]
    assert _count(Cooperative) == 0  # a preview writes nothing to the register
    html = client.get(preview_url).get_data(as_text=True)
    assert "Windows-1252" in html and "titik koma" in html
    assert re.search(r"data-detected-header>\s*1\s*<", html)
    assert re.search(r'data-count="rejected"[^>]*>.*?<span[^>]*>6</span>', html, re.S)
    assert 'data-row="13" data-outcome="duplicate"' in html
    assert "tanggal yang sah" in html  # row messages, in Indonesian
    # Messages name the column as the file wrote it, once, and never show field codes.
    amanah = re.search(r'<tr data-row="\d+"[^>]*>(?:(?!</tr>).)*KSP Amanah.*?</tr>', html, re.S)
    assert amanah is not None
    cell = re.sub(r"<[^>]+>", "", amanah.group(0))
    assert cell.count("Tgl Badan Hukum") == 1 and "tgl_bh" not in cell
    assert not re.search(r">\s*(tgl_bh|no_bh|desa|keterangan|anggota|hp)\s*<", html)
    [file] = [p for p in _uploaded_files(app) if p.name.startswith("upload.")]
    assert not str(file).startswith(str(Path(app.root_path)))  # outside the web root

    token = preview_url.rstrip("/").rsplit("/", 1)[-1]
    csrf = csrf_token_from(html)
    done = client.post(f"/impor/{token}/terapkan", data={"csrf_token": csrf})
    assert done.status_code == 302
    assert _count(Cooperative) == 8
    result = client.get(preview_url).get_data(as_text=True)
    assert 'data-state="applied"' in result
    again = client.post(f"/impor/{token}/terapkan", data={"csrf_token": csrf})
    assert again.status_code == 302 and _count(Cooperative) == 8  # not imported twice


def test_strict_checkbox_imports_nothing_when_a_row_is_rejected(app, client, auth, users):
    auth.login("admin")
    preview_url = _upload(client, MESSY.read_bytes(), "messy.csv").headers["Location"]
    token = preview_url.rsplit("/", 1)[-1]
    csrf = csrf_token_from(client.get(preview_url).get_data(as_text=True))
    resp = client.post(
        f"/impor/{token}/terapkan", data={"csrf_token": csrf, "strict": "y"}, follow_redirects=True
    )
    assert resp.status_code == 200 and _count(Cooperative) == 0
    assert "mode ketat" in resp.get_data(as_text=True)
    assert db.session.execute(select(ImportBatch.state)).scalar_one() == "previewed"


def test_rejected_rows_download_holds_the_original_cells_and_a_message(app, client, auth, users):
    auth.login("clerk")
    preview_url = _upload(client, MESSY.read_bytes(), "messy.csv").headers["Location"]
    resp = client.get(preview_url + "/ditolak.xlsx")
    assert resp.status_code == 200
    ws = openpyxl.load_workbook(io.BytesIO(resp.data)).active
    rows = list(ws.iter_rows(values_only=True))
    assert rows[0][:2] == ("No", "Nama Koperasi") and rows[0][-1] == "Pesan"
    assert len(rows) == 1 + 6
    bad_date = next(r for r in rows if r[1] == "KSP Amanah")
    assert bad_date[5] == "13/25/2001"
    # The column as the clerk's file names it, once; never the internal code.
    assert "tgl_bh" not in bad_date[-1]
    assert bad_date[-1].count("Tgl Badan Hukum") == 1, bad_date[-1]
    assert all(isinstance(c, str) or c is None for r in rows for c in r)  # CSV cells stay text
    # The clerk fixes the date and imports only those rows again.
    resp2 = _upload(client, resp.data, "messy-ditolak.xlsx")
    assert resp2.status_code == 302
    html = client.get(resp2.headers["Location"]).get_data(as_text=True)
    assert "Pesan" in html  # the message column is reported as ignored, not imported


def _zip_bomb() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        with z.open("xl/sharedStrings.xml", "w") as fh:
            chunk = b" " * (1 << 20)
            for _ in range(110):
                fh.write(chunk)
    return buf.getvalue()


def _truncated_xlsx() -> bytes:
    return SAMPLE.read_bytes()[:40_000]


BROKEN = {
    "random bytes": (os.urandom(5000), "register.xlsx", "rusak"),
    "random bytes as csv": (bytes(range(256)) * 20, "register.csv", "bukan"),
    "truncated xlsx": (None, "register.xlsx", "rusak"),
    "empty file": (b"", "register.csv", None),
    "zip bomb": (None, "bom.xlsx", "terlalu besar"),
    "legacy xls": (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 4000, "lama.xls", ".xlsx"),
    "pdf": (b"%PDF-1.4\n" + b"x" * 500, "register.pdf", "PDF"),
}


@pytest.mark.parametrize("kind", list(BROKEN))
def test_a_broken_upload_gets_a_clear_message_and_writes_nothing(app, client, auth, users, kind):
    data, name, words = BROKEN[kind]
    if kind == "truncated xlsx":
        data = _truncated_xlsx()
    elif kind == "zip bomb":
        data = _zip_bomb()
    auth.login("clerk")
    events = _count(HistoryEvent)
    resp = _upload(client, data, name)
    html = resp.get_data(as_text=True)
    assert resp.status_code == 400, (kind, resp.status_code)
    assert "data-import-error" in html
    if words:
        assert words in html, kind
    assert _count(Cooperative) == 0 and _count(ImportBatch) == 0
    assert _count(HistoryEvent) == events
    assert _uploaded_files(app) == []


# Werkzeug's test client spools a large request body into a temporary file it never closes;
# collect it inside the test so its ResourceWarning is not blamed on the next test.
LARGE_BODY = pytest.mark.filterwarnings(
    "ignore::ResourceWarning", "ignore::pytest.PytestUnraisableExceptionWarning"
)


@LARGE_BODY
def test_a_file_over_50_mb_is_refused_with_a_message(app, client, auth, users):
    auth.login("clerk")
    big = b"Nama Koperasi;Jenis\n" + b"x" * (50 * 1024 * 1024)
    resp = _upload(client, big, "besar.csv")
    assert resp.status_code == 413
    assert "50 MB" in resp.get_data(as_text=True)
    assert _count(ImportBatch) == 0 and _uploaded_files(app) == []
    del resp
    gc.collect()


@LARGE_BODY
def test_a_body_over_the_server_limit_gets_the_friendly_upload_page(app, client, auth, users):
    auth.login("clerk")
    token = csrf_token_from(client.get("/impor/").get_data(as_text=True))
    huge = io.BytesIO(b"x" * (61 * 1024 * 1024))
    resp = client.post(
        "/impor/",
        data={"csrf_token": token, "file": (huge, "besar.xlsx")},
        content_type="multipart/form-data",
    )
    html = resp.get_data(as_text=True)
    assert resp.status_code == 413
    assert "data-import-error" in html and 'type="file"' in html
    del resp, huge
    gc.collect()


def test_no_file_chosen_is_a_message_not_an_error(app, client, auth, users):
    auth.login("clerk")
    token = csrf_token_from(client.get("/impor/").get_data(as_text=True))
    resp = client.post("/impor/", data={"csrf_token": token})
    assert resp.status_code == 400 and "data-import-error" in resp.get_data(as_text=True)


@pytest.mark.parametrize("role", ["viewer", "inspector", "head"])
def test_only_admins_and_clerks_reach_the_import_pages(client, auth, users, role):
    auth.login(role)
    assert client.get("/impor/").status_code == 403


def test_the_register_page_offers_exports_to_every_role(app, client, auth, users, make_coop):
    make_coop(name="KSP Ekspor")
    auth.login("viewer")
    html = client.get("/koperasi/?status=active").get_data(as_text=True)
    assert "/ekspor/register.xlsx?status=active" in html
    assert "/ekspor/register.csv?status=active" in html


def test_exports_follow_the_register_filter(app, client, auth, users, make_coop):
    make_coop(name="KSP Aktif Satu", desa_kode="33.13.11.2001")
    make_coop(name="KSP Tidur Dua", desa_kode="33.13.11.2002", status="dormant")
    auth.login("viewer")
    csv = client.get("/ekspor/register.csv?status=dormant")
    assert csv.status_code == 200 and csv.data.startswith(b"\xef\xbb\xbf")
    assert csv.headers["Content-Type"] == "text/csv; charset=utf-8"
    text = csv.data.decode("utf-8-sig")
    assert "KSP Tidur Dua" in text and "KSP Aktif Satu" not in text
    assert "attachment" in csv.headers["Content-Disposition"]
    xlsx = client.get("/ekspor/register.xlsx?q=aktif")
    ws = openpyxl.load_workbook(io.BytesIO(xlsx.data)).active
    names = [r[1] for r in ws.iter_rows(min_row=2, values_only=True)]
    assert names == ["KSP Aktif Satu"]
