"""An inspector records an audit on a phone (headless Chromium at 360 x 740)."""

from __future__ import annotations

import io
import os
from pathlib import Path

import pytest
from PIL import Image

from coop_audit.extensions import db
from coop_audit.models import Cooperative
from coop_audit.models.audits import Audit, AuditFile
from tests.conftest import PASSWORD
from tests.e2e.conftest import login

pytestmark = pytest.mark.e2e

SHOTS = os.environ.get("AUDIT_SCREENSHOTS")  # a directory: keep screenshots to look at


def _seed(app) -> int:
    from datetime import date

    from coop_audit.registry.operations import create_cooperative
    from coop_audit.users.operations import create_user

    with app.app_context():
        create_user("inspector", "Test Inspector", "inspector", PASSWORD)
        coop = create_cooperative(
            {
                "name": "Koperasi Mati Suri",
                "jenis": "simpan_pinjam",
                "bentuk": "primer",
                "bh_number": "1/BH/XIV/I/2010",
                "bh_date": date(2010, 1, 15),
                "desa_kode": "33.13.11.2001",
                "kecamatan_kode": "33.13.11",
                "member_count": 50,
                "last_rat_year": 2019,
            },
            None,
            source="test",
        )
        db.session.commit()
        return coop.id


def _photo(tmp_path: Path) -> Path:
    img = Image.new("RGB", (1200, 900), (120, 90, 40))
    path = tmp_path / "kantor-kosong.jpg"
    out = io.BytesIO()
    img.save(out, "JPEG")
    path.write_bytes(out.getvalue())
    return path


@pytest.mark.parametrize("viewport", [(360, 740)], indirect=True)
def test_a_phone_audit_with_a_photo_moves_an_active_cooperative_to_dormant_and_explains_why(
    live_server, browser_page, tmp_path
):
    app = live_server.app
    coop_id = _seed(app)
    page = browser_page
    page.on("dialog", lambda d: d.accept())
    login(page, live_server, "inspector")
    page.goto(live_server.at(f"/koperasi/{coop_id}"))
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
    # Text the server refuses (a NUL byte, as pasted from some programs) is named as such, not
    # reported as a lost connection and retried forever.
    with page.expect_response(lambda r: r.url.endswith("/draf") and r.status == 400):
        page.fill("#findings", "Kantor\x00kosong")
    page.wait_for_function(
        "document.getElementById('autosave-status').textContent.includes('karakter')"
    )
    # The draft is saved on the server while typing (autosave posts the changed fields).
    with page.expect_response(lambda r: r.url.endswith("/draf") and r.status == 200):
        page.fill("#findings", "Kantor kosong; pengurus tidak dapat dihubungi sejak 2021.")
    with app.app_context():
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

    with app.app_context():
        assert db.session.get(Cooperative, coop_id).status == "dormant"
        assert db.session.query(Audit).one().state == "submitted"
        assert [f.kind for f in db.session.query(AuditFile)] == ["photo"]
        assert len(list(Path(app.config["UPLOAD_DIR"]).rglob("*.jpg"))) == 2  # photo + thumb


@pytest.mark.parametrize("viewport", [(390, 844)], indirect=True)
def test_the_village_head_checkbox_sits_on_its_label_line(live_server, browser_page):
    coop_id = _seed(live_server.app)
    page = browser_page
    login(page, live_server, "inspector")
    page.goto(live_server.at(f"/koperasi/{coop_id}"))
    page.click("#new-audit")
    page.wait_for_selector("#audit-form")
    box = page.locator("#village_head_statement").bounding_box()
    label = page.locator("label[for=village_head_statement]").bounding_box()
    legend = page.locator("legend", has_text="Kepala desa").bounding_box()
    assert box and label and legend
    assert box["y"] >= legend["y"] + legend["height"] - 1  # below its legend, not beside it
    assert (
        abs((box["y"] + box["height"] / 2) - (label["y"] + label["height"] / 2)) < label["height"]
    )
    assert box["x"] < label["x"]  # and to the left of its label
