"""The core sanction journey in headless Chromium: warn, sign, receipt, clock runs out, revoke."""

from __future__ import annotations

import os

import pytest

from coop_audit.extensions import db
from tests.e2e.conftest import login, submit

pytestmark = pytest.mark.e2e

WARN_DAY, RECEIPT_DAY, REVOKE_DAY = "2026-06-01", "2026-06-05", "2026-08-10"


@pytest.fixture
def journey_data(live_server):
    from datetime import date

    from coop_audit.registry.operations import create_cooperative
    from coop_audit.users.operations import create_user
    from tests.conftest import PASSWORD

    with live_server.app.app_context():
        for username, role, name in (
            ("inspektur", "inspector", "Rina Wulandari, S.E."),
            ("kadis", "head", "Drs. Bambang Sutrisno, M.M."),
            ("staf", "clerk", "Sri Handayani"),
        ):
            create_user(username, name, role, PASSWORD, nip="197001011995031001")
        coop = create_cooperative(
            {
                "name": "KSP Sido Rukun Jaten",
                "jenis": "simpan_pinjam",
                "bentuk": "primer",
                "bh_number": "12/BH/XIV/III/2001",
                "bh_date": date(2001, 3, 5),
                "desa_kode": "33.13.11.2001",
                "kecamatan_kode": "33.13.11",
                "last_rat_year": 2019,
            },
            None,
            source="test",
            status="dormant",
        )
        db.session.commit()
        return coop.id


def test_inspector_warns_head_signs_clerk_receipts_head_revokes(
    live_server, browser_page, journey_data, tmp_path
):
    page, coop_id = browser_page, journey_data
    coop_url = live_server.at(f"/koperasi/{coop_id}")

    # 1. The inspector proposes a warning from the cooperative's page.
    login(page, live_server, "inspektur")
    page.goto(f"{coop_url}?today={WARN_DAY}")
    page.click("#coop-moves a[data-trigger=warn]")
    page.fill("textarea[name=reason]", "Tidak menyelenggarakan RAT 2022-2024")
    page.fill("textarea[name=evidence]", "Pemeriksaan 20-05-2026\nSurat keterangan kepala desa")
    submit(page, "#propose-submit")
    assert page.locator("#coop-pending").is_visible()

    # 2. The head signs it in the queue.
    login(page, live_server, "kadis")
    page.goto(live_server.at(f"/alur/persetujuan?today={WARN_DAY}"))
    submit(page, page.locator("#pending button[id^=sign-]").first)
    assert page.locator(".alert-success").count() >= 1
    page.goto(coop_url)
    assert page.locator("#status-box [data-status=warned]").is_visible()

    # 3. The clerk records the proof of receipt (the letters feature's form on the page).
    login(page, live_server, "staf")
    page.goto(coop_url)
    receipt = page.locator("#coop-letters details").first
    if receipt.count() == 0:
        pytest.skip("letters feature not installed: no receipt form on the cooperative page")
    receipt.locator("summary").click()
    form = receipt.locator("form")
    form.locator("input[name=received_on]").fill(RECEIPT_DAY)
    form.locator("input[name=receiver]").fill("Slamet Raharjo (ketua)")
    submit(page, form.locator("button[type=submit]"))
    assert page.locator("#clock-start").is_visible()
    # A clerk sees no sign button anywhere.
    assert page.locator("[id^=coop-sign-]").count() == 0

    # 4. Time passes: the objection window (2 months from 5 June) is over on 10 August.
    page.goto(f"{coop_url}?today={REVOKE_DAY}")
    page.click("#coop-moves a[data-trigger=revoke]")
    page.fill("textarea[name=reason]", "Masa keberatan berakhir tanpa keberatan")
    submit(page, "#propose-submit")
    assert page.locator("#coop-pending").is_visible()

    # 5. The head signs the revocation.
    login(page, live_server, "kadis")
    page.goto(live_server.at(f"/alur/persetujuan?today={REVOKE_DAY}"))
    submit(page, page.locator("#pending button[id^=sign-]").first)

    # 6. The timeline shows every step; the diagram highlights the new state.
    page.goto(coop_url)
    assert page.locator("#status-box [data-status=license_revoked]").is_visible()
    kinds = page.locator("#timeline li[data-kind]").evaluate_all(
        "els => els.map(e => e.dataset.kind)"
    )
    ours = [k for k in reversed(kinds) if k in ("proposed", "signed", "receipt")]
    assert ours == ["proposed", "signed", "receipt", "proposed", "signed"]
    assert page.locator("#coop-diagram g.current[data-state=license_revoked]").count() == 1
    if os.environ.get("E2E_SCREENSHOTS"):
        page.screenshot(path=os.environ["E2E_SCREENSHOTS"] + "/journey-coop.png", full_page=True)
