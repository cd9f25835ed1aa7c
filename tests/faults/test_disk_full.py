"""A full disk while storing an upload: refused with a message, no row, no partial file."""

from __future__ import annotations

import builtins
import errno
from pathlib import Path

import pytest
from sqlalchemy import func, select

from coop_audit.extensions import db

web = pytest.importorskip("tests.web.test_audits_web")
uploads = pytest.importorskip("coop_audit.audits.uploads")
AuditFile = pytest.importorskip("coop_audit.models.audits").AuditFile


class HalfWrittenFile:
    """A real file that takes half the bytes, then reports ENOSPC (what a full disk does)."""

    def __init__(self, fh) -> None:
        self.fh = fh

    def write(self, data) -> int:
        self.fh.write(data[: len(data) // 2])
        self.fh.flush()
        raise OSError(errno.ENOSPC, "No space left on device")

    def __getattr__(self, name):
        return getattr(self.fh, name)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.fh.close()


def test_an_upload_on_a_full_disk_is_refused_and_leaves_nothing(
    app, client, auth, users, make_coop, monkeypatch
):
    auth.login("inspector")
    audit_id = web.start(client, make_coop())
    token = web.form_token(client, audit_id)
    real_open = builtins.open
    upload_dir = str(Path(app.config["UPLOAD_DIR"]).resolve())

    def full_disk_open(file, mode="r", *a, **kw):
        fh = real_open(file, mode, *a, **kw)
        if any(m in mode for m in "wxa") and str(Path(file).resolve()).startswith(upload_dir):
            return HalfWrittenFile(fh)
        return fh

    monkeypatch.setattr(builtins, "open", full_disk_open)
    resp = web.post_multipart(
        client,
        f"/audit/{audit_id}/ubah",
        {"csrf_token": token, "action": "upload", "photos": [(web.jpeg(), "kantor.jpg")]},
    )
    monkeypatch.undo()
    html = resp.get_data(as_text=True)
    assert resp.status_code in (400, 507, 503), resp.status_code
    assert "kantor.jpg" in html or "penuh" in html.lower() or "ruang" in html.lower()
    assert db.session.execute(select(func.count()).select_from(AuditFile)).scalar_one() == 0
    leftovers = [p for p in Path(upload_dir).rglob("*") if p.is_file()]
    assert leftovers == [], leftovers
