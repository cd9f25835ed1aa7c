"""The head signs several proposals at once on a phone: select all, sign, read the outcome."""

from __future__ import annotations

import pytest

from coop_audit.extensions import db
from tests.e2e.conftest import login, submit

pytestmark = pytest.mark.e2e

TODAY = "2026-06-01"


@pytest.fixture
def proposals(live_server):
    from datetime import date

    from coop_audit.registry.operations import create_cooperative
    from coop_audit.sanctions import operations as sanctions
    from coop_audit.users.operations import create_user
    from tests.conftest import PASSWORD

    with live_server.app.app_context():
        users = {
            username: create_user(username, name, role, PASSWORD, nip="197001011995031001")
            for username, role, name in (
                ("inspektur", "inspector", "Rina Wulandari, S.E."),
                ("kadis", "head", "Drs. Bambang Sutrisno, M.M."),
            )
        }
        names = []
        for i, name in enumerate(("KSP Sido Rukun", "KSU Tani Makmur", "Kopwan Melati")):
            coop = create_cooperative(
                {
                    "name": name,
                    "jenis": "simpan_pinjam",
                    "bentuk": "primer",
                    "bh_number": f"{i + 1}/BH/XIV/III/2001",
                    "bh_date": date(2001, 3, 5),
                    "desa_kode": "33.13.11.2001",
                    "kecamatan_kode": "33.13.11",
                    "last_rat_year": 2019,
                },
                None,
                source="test",
                status="dormant",
            )
            sanctions.propose(
                coop, "warn", users["inspektur"], reason="Tidak RAT", today=date(2026, 6, 1)
            )
            names.append(name)
        db.session.commit()
        return names


@pytest.mark.parametrize("viewport", [(360, 740)], indirect=True)
def test_the_head_selects_all_signs_and_reads_what_was_signed(live_server, browser_page, proposals):
    page = browser_page
    login(page, live_server, "kadis")
    page.goto(live_server.at(f"/alur/persetujuan?today={TODAY}"))
    assert page.locator("#pending input[name=proposal_id]:checked").count() == 0
    page.check("#pick-all")
    assert page.locator("#pending input[name=proposal_id]:checked").count() == 3
    # Unticking one leaves "select all" half-ticked; ticking it again completes it.
    first = page.locator("#pending input[name=proposal_id]").first
    first.uncheck()
    assert page.evaluate("document.getElementById('pick-all').indeterminate")
    assert not page.is_checked("#pick-all")
    first.check()
    assert page.is_checked("#pick-all")
    submit(page, "#bulk-sign")

    assert "/alur/persetujuan/massal/" in page.url
    assert page.get_attribute("#sign-job", "data-status") == "done"
    assert "Ditandatangani: 3" in page.inner_text("#signed-count")
    signed = page.inner_text("#signed")
    assert all(name in signed for name in proposals)
    assert page.locator("#refused").count() == 0
    # The page fits the phone: nothing wider than the screen.
    assert page.evaluate("document.documentElement.scrollWidth") <= 360

    page.goto(live_server.at(f"/alur/persetujuan?today={TODAY}"))
    assert page.locator("#pending-empty").is_visible()
    assert page.locator("#sign-jobs a").count() == 1
    # The letters just issued; ticking "not yet sent" filters at once, like the selects.
    page.goto(live_server.at("/surat/"))
    with page.expect_navigation():
        page.check("#unsent")
    assert "unsent=1" in page.url and page.is_checked("#unsent")
    assert "unsent=1" in page.get_attribute("a[href*='/surat/cetak']", "href")
