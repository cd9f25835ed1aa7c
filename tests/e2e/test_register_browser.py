"""A head logs in with a real browser and narrows the register by kecamatan and village."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from coop_audit.demo import seed
from coop_audit.extensions import db
from coop_audit.users.operations import create_user
from tests.conftest import PASSWORD
from tests.e2e.conftest import login

pytestmark = pytest.mark.e2e
ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"
ARTIFACTS.mkdir(parents=True, exist_ok=True)


def _count(page) -> int:
    return int(page.locator("#result-count").get_attribute("data-count"))


@pytest.mark.parametrize("viewport", [(1280, 900), (360, 740)], indirect=True)
def test_head_filters_the_register_by_kecamatan_and_village(live_server, browser_page, viewport):
    with live_server.app.app_context():
        seed(300, 80, 11, with_users=False)
        create_user("kadis", "Drs. Kepala Dinas", "head", PASSWORD)
        db.session.commit()
    page = browser_page
    login(page, live_server, "kadis")
    assert "/dasbor" in page.url
    assert page.locator('[data-stat="total"] .display-6').inner_text() == "300"

    page.goto(live_server.at("/koperasi/"))
    assert _count(page) == 300
    page.screenshot(path=str(ARTIFACTS / f"register-{viewport[0]}px.png"), full_page=True)
    toggle = page.locator("[data-bs-target='#more-filters']")
    if toggle.is_visible():  # on a phone the filters fold away behind one button
        assert not page.locator("#kecamatan").is_visible()
        toggle.click()
        page.locator("#kecamatan").wait_for(state="visible")
    page.select_option("#kecamatan", "33.13.11")  # Jaten; the form submits itself
    page.wait_for_url(re.compile(r"kecamatan=33\.13\.11"))
    jaten = _count(page)
    assert 0 < jaten < 300
    # The village list now only offers Jaten's villages.
    villages = page.locator("#desa option").evaluate_all("os => os.map(o => o.value)")
    assert all(v == "" or v.startswith("33.13.11.") for v in villages)
    page.select_option("#desa", villages[1])
    page.wait_for_url(re.compile(r"desa=" + re.escape(villages[1])))
    assert _count(page) <= jaten
    rows = page.locator("table.table-register tbody tr[data-coop-id]").count()
    assert rows == min(_count(page), 50)

    # The filtered list is a shareable link: opening it again gives the same result.
    shared = page.url
    page.goto(live_server.at("/koperasi/"))
    page.goto(shared)
    assert page.locator("#desa").input_value() == villages[1]
