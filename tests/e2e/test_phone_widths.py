"""Audit, letter and cooperative pages fit a 360-px phone: no sideways scroll of the page.

Long unbroken words (a pasted URL, a letter number, a SHA-256) wrap or scroll inside their own
box; the workflow diagram scrolls inside its own container with the current state in view.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from coop_audit.extensions import db
from coop_audit.timeutil import local_today
from tests.conftest import PASSWORD
from tests.e2e.conftest import login

pytestmark = pytest.mark.e2e

PHONE = (360, 740)
LONG_URL = "https://drive.google.com/file/d/1AbCdEfGhIjKlMnOpQrStUvWxYz0123456789/view?usp=sharing"


def _seed(app) -> dict[str, int]:
    from coop_audit.audits import operations as audits
    from coop_audit.letters import operations as letters
    from coop_audit.registry.operations import create_cooperative
    from coop_audit.users.operations import create_user

    today = local_today()
    with app.app_context():
        inspector = create_user("inspector", "Rina Wulandari, S.E.", "inspector", PASSWORD)
        head = create_user("head", "Drs. Bambang Sutrisno, M.M.", "head", PASSWORD)
        values = {
            "name": "Koperasi Simpan Pinjam Karya Usaha Mandiri Sejahtera Bersama",
            "jenis": "simpan_pinjam",
            "bentuk": "primer",
            "bh_number": "518/BH/XIV.15/KOP-UKM/IV/2010",
            "bh_date": date(2010, 4, 15),
            "desa_kode": "33.13.11.2001",
            "kecamatan_kode": "33.13.11",
            "member_count": 50,
            "last_rat_year": 2019,
        }
        coop = create_cooperative(values, None, source="test")
        audit = audits.start_audit(coop, inspector, today=today)
        errors = audits.save_draft(
            audit,
            {
                "office_found": False,
                "board_reachable": False,
                "books_present": False,
                "business_active": False,
                "rat_held_0": False,
                "rat_held_1": False,
                "rat_held_2": False,
                "findings": "Kantor tutup, tidak ada kegiatan sejak 2021. Foto: " + LONG_URL,
                "recommendation": "SuratPernyataanKepalaDesaNomor140/123/IV/2026TanggalLimaBelas",
                "met_persons": "Bapak Sutrisno (Sekretaris Desa), Ibu Suwarni (Bendahara)",
                "lat": -7.6,
                "lng": 111.0,
            },
            inspector,
        )
        assert not errors, errors
        audits.submit_audit(audit, inspector, today=today)
        letter = letters.issue_letter("warning", coop, signer=head, today=today - timedelta(days=3))
        coop.status = "warned"  # the letter's cooperative, as after a signed warning
        db.session.commit()
        return {"coop": coop.id, "audit": audit.id, "letter": letter.id}


def _page_width(page) -> int:
    return page.evaluate("document.documentElement.scrollWidth")


@pytest.mark.parametrize("viewport", [PHONE], indirect=True)
def test_audit_letter_and_cooperative_pages_do_not_scroll_sideways_on_a_phone(
    live_server, browser_page
):
    ids = _seed(live_server.app)
    page = browser_page
    login(page, live_server, "head")
    for path in (
        f"/audit/{ids['audit']}",
        f"/surat/{ids['letter']}",
        f"/koperasi/{ids['coop']}",
        "/surat/",
        "/surat/cetak",
        "/alur/diagram?status=warned",
    ):
        page.goto(live_server.at(path))
        page.wait_for_load_state()
        assert _page_width(page) <= PHONE[0], path
    # The long findings wrap inside the answers table instead of widening the page.
    page.goto(live_server.at(f"/audit/{ids['audit']}"))
    box = page.locator("#audit-answers").bounding_box()
    assert box is not None and box["x"] + box["width"] <= PHONE[0]


@pytest.mark.parametrize("viewport", [PHONE], indirect=True)
def test_the_workflow_diagram_scrolls_inside_its_box_with_the_current_state_in_view(
    live_server, browser_page
):
    ids = _seed(live_server.app)
    page = browser_page
    login(page, live_server, "head")
    page.goto(live_server.at(f"/koperasi/{ids['coop']}"))
    page.wait_for_load_state()
    diagram = page.locator("#coop-diagram")
    assert _page_width(page) <= PHONE[0]
    assert diagram.evaluate("el => el.scrollWidth > el.clientWidth")  # scrolls in its box
    page.wait_for_function("document.getElementById('coop-diagram').scrollLeft > 0")
    outer = diagram.bounding_box()
    current = page.locator("#coop-diagram g.current rect").bounding_box()
    assert outer is not None and current is not None
    assert (
        outer["x"] <= current["x"]
        and current["x"] + current["width"] <= outer["x"] + outer["width"]
    )


@pytest.mark.parametrize("viewport", [PHONE], indirect=True)
def test_the_capital_support_shortlist_fits_a_phone(live_server, browser_page):
    from coop_audit import demo
    from coop_audit.models import Cluster
    from coop_audit.users.operations import create_user

    with live_server.app.app_context():
        create_user("head", "Drs. Bambang Sutrisno, M.M.", "head", PASSWORD)
        demo.seed(300, 120, with_users=False)
        db.session.commit()
        clusters = [c.id for c in db.session.query(Cluster).order_by(Cluster.id)]
    page = browser_page
    login(page, live_server, "head")
    badges = 0
    for cluster in clusters:
        page.goto(live_server.at(f"/klaster/usulan?cluster={cluster}"))
        page.wait_for_load_state()
        assert _page_width(page) <= PHONE[0], cluster
        badges += page.locator("#shortlist .badge.text-bg-success").count()
    assert badges  # the "qualifies" badge, the widest thing in a row, was on the pages
