"""A clerk imports the messy register in Chromium at phone and desktop width."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from coop_audit.extensions import db
from coop_audit.models import Cooperative
from tests.conftest import PASSWORD, SHARED
from tests.e2e.conftest import login

pytestmark = pytest.mark.e2e
MESSY = SHARED / "samples" / "register-messy.csv"


@pytest.mark.parametrize("viewport", [(360, 780), (1280, 900)], indirect=True)
def test_a_clerk_uploads_previews_and_confirms_an_import(live_server, browser_page, viewport):
    from coop_audit.users.operations import create_user

    with live_server.app.app_context():
        create_user("clerk", "Sri Handayani", "clerk", PASSWORD)
        db.session.commit()
    page = browser_page
    shots = Path(os.environ.get("SCREENSHOT_DIR", "/tmp"))
    login(page, live_server, "clerk")
    page.goto(live_server.at("/impor/"))
    page.set_input_files("input[type=file]", str(MESSY))
    page.get_by_role("button", name="Unggah dan pratinjau").click()
    page.wait_for_selector("[data-state=previewed]")
    assert "Windows-1252" in page.inner_text("[data-detected-encoding]")
    assert page.locator("tr[data-outcome=rejected]").count() == 6
    assert page.locator("[data-rejected-download]").is_visible()
    page.screenshot(path=str(shots / f"imports-preview-{viewport[0]}.png"), full_page=True)
    with live_server.app.app_context():
        assert db.session.query(Cooperative).count() == 0
    page.get_by_role("button", name="Konfirmasi impor").click()
    page.wait_for_selector("[data-state=applied]")
    page.screenshot(path=str(shots / f"imports-result-{viewport[0]}.png"), full_page=False)
    with live_server.app.app_context():
        assert db.session.query(Cooperative).count() == 8
