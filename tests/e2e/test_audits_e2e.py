"""An inspector records an audit on a phone (headless Chromium at 360 x 740)."""

from __future__ import annotations

import io
import os
import threading
from pathlib import Path

import pytest
from PIL import Image

from coop_audit.extensions import db
from coop_audit.models import Cooperative
from coop_audit.models.audits import Audit, AuditFile
from tests.conftest import PASSWORD

pytestmark = pytest.mark.e2e

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SHOTS = os.environ.get("AUDIT_SCREENSHOTS")  # a directory: keep screenshots to look at


@pytest.fixture
def audit_live_server(app):
    """Our own live server (tests/e2e/conftest.py had none when this was written)."""
    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(5)


@pytest.fixture
def phone_page():
    playwright = pytest.importorskip("playwright.sync_api")
    if not Path(CHROMIUM).exists():
        pytest.skip("chromium not installed")
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        context = browser.new_context(viewport={"width": 360, "height": 740}, locale="id-ID")
        page = context.new_page()
        page.set_default_timeout(15000)
        page.on("dialog", lambda d: d.accept())
        try:
            yield page
        finally:
            context.close()
            browser.close()


def _photo(tmp_path: Path) -> Path:
    img = Image.new("RGB", (1200, 900), (120, 90, 40))
    path = tmp_path / "kantor-kosong.jpg"
    out = io.BytesIO()
    img.save(out, "JPEG")
    path.write_bytes(out.getvalue())
    return path


def test_a_phone_audit_with_a_photo_moves_an_active_cooperative_to_dormant_and_explains_why(
    app, users, make_coop, audit_live_server, phone_page, tmp_path
):
    coop = make_coop(name="Koperasi Mati Suri", last_rat_year=2019)
    page = phone_page
    base = audit_live_server
    page.goto(f"{base}/login")
    page.fill("input[name=username]", "inspector")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.goto(f"{base}/koperasi/{coop.id}")
    page.click("#new-audit")
    page.wait_for_selector("#audit-form")
    assert page.evaluate("document.documentElement.scrollWidth") <= 360  # no sideways scroll

    page.select_option("#office_found", "no")
    page.select_option("#board_reachable", "no")
    page.select_option("#books_present", "no")
    page.select_option("#business_active", "no")
    for i in range(3):
        page.select_option(f"#rat_held_{i}", "no")
    page.fill("#lat", "-7.600000")
    page.fill("#lng", "111.000000")
    # The draft is saved on the server while typing (autosave posts the changed fields).
    with page.expect_response(lambda r: r.url.endswith("/draf") and r.status == 200):
        page.fill("#findings", "Kantor kosong; pengurus tidak dapat dihubungi sejak 2021.")
    db.session.expire_all()
    assert db.session.query(Audit).one().findings.startswith("Kantor kosong")
    page.set_input_files("#photos", str(_photo(tmp_path)))
    if SHOTS:
        page.screenshot(path=f"{SHOTS}/audit-form-360.png", full_page=True)
    page.click("#submit-audit")
    page.wait_for_selector("#audit-section")

    assert page.locator("#status-box [data-status=dormant]").count() == 1
    assert "RAT" in page.locator("#status-reason").inner_text()
    findings = page.locator("#verdict-findings").inner_text()
    assert "RAT" in findings and "Permenkop 9/2018" in findings
    assert page.locator("#audit-history [data-audit]").count() == 1
    if SHOTS:
        page.screenshot(path=f"{SHOTS}/coop-after-audit-360.png", full_page=True)

    db.session.expire_all()
    assert db.session.get(Cooperative, coop.id).status == "dormant"
    audit = db.session.query(Audit).one()
    assert audit.state == "submitted"
    assert [f.kind for f in db.session.query(AuditFile)] == ["photo"]
