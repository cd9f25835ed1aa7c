"""The whole journey in headless Chromium, through the real pages (issue 8, part 1).

The clerk imports the sample register; an inspector audits an active cooperative on a phone
with a photo and it turns dormant; a warning is proposed and signed; the clerk batch-prints it
and records the receipt; time passes (the TESTING-only `?today=`); an objection is filed and
refused; the revocation is proposed and signed; the letter's verification page says valid to a
logged-out visitor; the map of active cooperatives no longer holds it.

A screenshot of every step goes to artifacts/e2e-journey/NN-step.png (kept by CI).
"""

from __future__ import annotations

import io
import re
import time
from datetime import timedelta
from pathlib import Path

import pytest
from PIL import Image, ImageDraw
from pypdf import PdfReader

from coop_audit import rules
from coop_audit.extensions import db
from coop_audit.timeutil import local_today
from tests.conftest import PASSWORD
from tests.e2e.conftest import login, submit

pytestmark = pytest.mark.e2e

REPO = Path(__file__).resolve().parents[2]
SAMPLE = REPO.parent / "shared" / "samples" / "register-karanganyar.xlsx"
SHOTS = REPO / "artifacts" / "e2e-journey"
PHONE, DESKTOP = (360, 740), (1280, 900)


class Journey:
    """Screenshots numbered in the order the steps happen."""

    def __init__(self, page, server) -> None:
        self.page, self.server, self.n = page, server, 0
        SHOTS.mkdir(parents=True, exist_ok=True)
        for old in SHOTS.glob("*.png"):
            old.unlink()

    def shot(self, step: str) -> None:
        self.n += 1
        self.page.screenshot(path=str(SHOTS / f"{self.n:02d}-{step}.png"), full_page=True)

    def go(self, path: str, today=None) -> None:
        url = self.server.at(path)
        if today is not None:
            url += ("&" if "?" in url else "?") + f"today={today.isoformat()}"
        self.page.goto(url)

    def flash(self) -> str:
        return " ".join(self.page.locator(".alert").all_inner_texts())

    def status(self) -> str:
        return self.page.get_attribute("#status-box [data-status]", "data-status")


def _users(app) -> None:
    from coop_audit.users.operations import create_user

    with app.app_context():
        for username, role, name in (
            ("staf", "clerk", "Sri Handayani"),
            ("inspektur", "inspector", "Rina Wulandari, S.E."),
            ("kadis", "head", "Drs. Bambang Sutrisno, M.M."),
        ):
            create_user(username, name, role, PASSWORD, nip="197001011995031001")
        db.session.commit()


def _photo(tmp_path: Path) -> Path:
    img = Image.new("RGB", (640, 480), (150, 140, 120))
    draw = ImageDraw.Draw(img)
    draw.rectangle((180, 120, 460, 420), fill=(90, 70, 50))  # a closed door
    draw.text((20, 20), "Kantor kosong, papan nama hilang", fill=(255, 255, 255))
    path = tmp_path / "kantor-kosong.jpg"
    img.save(path, "JPEG", quality=80)
    return path


def _active_count(page) -> int:
    return int(page.get_attribute("#result-count", "data-count"))


def _map_state(j: Journey) -> tuple[int, set[int]]:
    """(count shown for the map's default filter, ids among the points the page loaded)."""
    with j.page.expect_response(lambda r: "/klaster/peta/data" in r.url) as resp:
        j.go("/klaster/peta")
    data = resp.value.json()
    j.page.wait_for_function(
        "() => Number(document.getElementById('cluster-map').dataset.loaded) > 0"
    )
    assert data.get("mode") == "points"
    return int(j.page.get_attribute("#map-count", "data-count")), {p[0] for p in data["p"]}


def test_the_whole_journey_from_import_to_revoked_letter_verified(
    live_server, browser_page, tmp_path
):
    page = browser_page
    page.on("dialog", lambda d: d.accept())
    page.route(lambda url: "tile.openstreetmap.org" in url, lambda route: route.abort())
    j = Journey(page, live_server)
    _users(live_server.app)

    # Dates of the journey: the audit, warning and receipt happen today (the receipt may not
    # lie in the future); then time passes through ?today=, which only TESTING honours.
    t0 = local_today()
    objection_day = t0 + timedelta(days=20)
    decision_day = t0 + timedelta(days=27)
    deadline = rules.objection_deadline(t0)
    revoke_day = deadline + timedelta(days=1)
    assert decision_day < deadline

    # 1. The clerk imports the sample register: upload, preview, confirm.
    login(page, live_server, "staf")
    j.go("/impor/")
    page.set_input_files("input[type=file]", str(SAMPLE))
    started = time.monotonic()
    page.get_by_role("button", name="Unggah dan pratinjau").click()
    page.wait_for_selector("[data-state=previewed]", timeout=60_000)
    preview_seconds = time.monotonic() - started
    badge = "[data-count={}] .badge"
    assert page.inner_text(badge.format("created")).strip() == "1163"
    assert page.inner_text(badge.format("rejected")).strip() == "0"
    j.shot("import-preview")
    started = time.monotonic()
    page.get_by_role("button", name="Konfirmasi impor").click()
    page.wait_for_selector("[data-state=applied]", timeout=60_000)
    apply_seconds = time.monotonic() - started
    j.shot("import-applied")
    print(f"\nimport of 1,163 rows: preview {preview_seconds:.1f} s, confirm {apply_seconds:.1f} s")

    # 2. Pick an active cooperative with coordinates from the register; note the map first.
    j.go("/koperasi/?status=active")
    active_before = _active_count(page)
    assert active_before == 250
    j.go("/koperasi/?status=active&location=with")
    row = page.locator("tbody tr[data-coop-id]").first
    coop_id = int(row.get_attribute("data-coop-id"))
    coop_name = row.locator("td a").first.inner_text().strip()
    assert row.locator("[data-status=active]").count() == 1
    j.shot("register-active")
    map_before, ids_before = _map_state(j)
    assert map_before == active_before and coop_id in ids_before
    j.shot("map-before")
    coop_path = f"/koperasi/{coop_id}"

    # ... an inspector on a phone records an audit with a photo showing dormancy.
    page.set_viewport_size({"width": PHONE[0], "height": PHONE[1]})
    login(page, live_server, "inspektur")
    j.go(coop_path)
    assert j.status() == "active"
    page.click("#new-audit")
    page.wait_for_selector("#audit-form")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE[0]
    page.select_option("#office_found", "no")
    page.select_option("#board_reachable", "no")
    page.select_option("#books_present", "no")
    page.select_option("#business_active", "no")
    for i in range(3):
        page.select_option(f"#rat_held_{i}", "no")
    page.fill("#findings", "Kantor tidak ditemukan; pengurus tidak dapat dihubungi; tanpa usaha.")
    page.set_input_files("#photos", str(_photo(tmp_path)))
    j.shot("audit-form-phone")
    page.click("#submit-audit")
    page.wait_for_selector("#audit-section")
    assert "Koperasi kini tercatat tidak aktif (mati suri)" in j.flash()
    assert j.status() == "dormant"
    assert "mati suri" in page.inner_text("#status-box")
    assert "RAT" in page.inner_text("#status-reason")
    findings = page.inner_text("#verdict-findings")
    assert "RAT" in findings
    assert page.locator("#audit-history [data-audit]").count() == 1
    j.shot("coop-dormant-phone")

    # 3. The inspector proposes a warning; the head signs it (desktop).
    page.set_viewport_size({"width": DESKTOP[0], "height": DESKTOP[1]})
    j.go(coop_path, today=t0)
    page.click("#coop-moves a[data-trigger=warn]")
    page.fill("textarea[name=reason]", "Tidak menyelenggarakan RAT tiga tahun buku terakhir")
    page.fill("textarea[name=evidence]", f"Berita acara pemeriksaan {t0:%d-%m-%Y}\nFoto kantor")
    submit(page, "#propose-submit")
    assert "Usulan dikirim" in j.flash()
    assert page.locator("#coop-pending").is_visible()
    j.shot("warning-proposed")

    login(page, live_server, "kadis")
    j.go("/alur/persetujuan", today=t0)
    submit(page, page.locator("#pending button[id^=sign-]").first)
    assert f"Ditandatangani: {coop_name}" in j.flash()
    j.go(coop_path)
    assert j.status() == "warned"
    warning = page.locator("#coop-letters li", has_text="Surat peringatan").first
    warning_number = warning.locator("a[href^='/surat/']").first.inner_text().strip()
    j.shot("warning-signed")

    # 4. The clerk batch-prints the unsent warnings and downloads the PDF ...
    login(page, live_server, "staf")
    j.go("/surat/cetak?kind=warning&unsent=1")
    assert page.get_attribute("#batch-count", "data-count") == "1"
    page.get_by_role("button", name="Siapkan PDF").click()
    page.wait_for_selector("#batch-job[data-status=done]")
    assert "Selesai." in page.inner_text("#batch-job [data-text]")
    download = page.locator("#batch-job [data-download]")
    assert download.is_visible()
    j.shot("batch-printed")
    pdf = page.request.get(live_server.at(download.get_attribute("href")))
    assert pdf.ok and pdf.headers["content-type"] == "application/pdf"
    text = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.body())).pages)
    assert warning_number in text and coop_name.split()[-1] in text
    j.go("/surat/cetak?kind=warning&unsent=1")
    assert page.get_attribute("#batch-count", "data-count") == "0"  # printed = sent

    # ... then records the proof of receipt on the warning letter's page.
    j.go(coop_path)
    page.locator("#coop-letters li", has_text="Surat peringatan").locator(
        f"a:text-is('{warning_number}')"
    ).click()
    form = page.locator("form[data-receipt-form]")
    form.locator("select[name=method]").select_option("hand")
    form.locator("input[name=received_on]").fill(t0.isoformat())
    form.locator("input[name=receiver]").fill("Slamet Raharjo (ketua)")
    submit(page, form.get_by_role("button", name="Simpan tanda terima"))
    assert f"Tanda terima surat {warning_number} telah dicatat" in j.flash()
    assert "Slamet Raharjo" in page.inner_text("dl")
    j.shot("receipt-recorded")

    # 5. Time passes: within the window the clerk files an objection; the head refuses it.
    j.go(coop_path, today=objection_day)
    assert "masa berjalan" in page.inner_text("#objection-deadline")
    page.click("#record-objection")
    page.fill("textarea[name=text]", "Pengurus menyatakan koperasi masih menjalankan usaha.")
    page.fill("input[name=document]", "Surat keberatan pengurus")
    submit(page, "#objection-form button[type=submit]")
    assert "Keberatan dicatat" in j.flash()
    assert "menunggu keputusan" in page.inner_text("#coop-objections")
    j.shot("objection-filed")

    login(page, live_server, "kadis")
    j.go(coop_path, today=decision_day)
    objection_path = page.get_attribute("#coop-objections a", "href")
    j.go(objection_path, today=decision_day)
    page.select_option("select[name=decision]", "reject")
    page.fill(
        "textarea[name=reasons]",
        "Tidak ada bukti RAT maupun kegiatan usaha; kantor tidak ditemukan saat pemeriksaan.",
    )
    submit(page, "#decide-form button[type=submit]")
    assert "Keberatan telah diputus" in j.flash()
    assert "ditolak" in page.inner_text("#coop-objections")
    assert j.status() == "warned"
    j.shot("objection-refused")

    # 6. After the window the inspector proposes the revocation; the head signs it.
    login(page, live_server, "inspektur")
    j.go(coop_path, today=revoke_day)
    assert "masa berakhir" in page.inner_text("#objection-deadline")
    page.click("#coop-moves a[data-trigger=revoke]")
    page.fill("textarea[name=reason]", "Masa keberatan berakhir; keberatan ditolak")
    submit(page, "#propose-submit")
    assert "Usulan dikirim" in j.flash()
    j.shot("revocation-proposed")

    login(page, live_server, "kadis")
    j.go(coop_path, today=revoke_day)
    submit(page, page.locator("#coop-pending button[id^=coop-sign-]"))
    assert f"Ditandatangani: {coop_name}" in j.flash()
    assert j.status() == "license_revoked"
    assert "Izin dicabut" in page.inner_text("#status-box")
    revocation = page.locator("#coop-letters li", has_text="Keputusan pencabutan izin")
    assert revocation.count() == 1
    verify_path = revocation.locator("a[href^='/verify/']").get_attribute("href")
    j.shot("revoked")

    # 7. Anyone (logged out) opens the letter's verification page: it says valid.
    page.context.clear_cookies()
    j.go(verify_path)
    result = page.locator("#verify-result")
    assert result.get_attribute("data-valid") == "true"
    assert "SAH" in result.inner_text() and coop_name in result.inner_text()
    assert "Keputusan pencabutan izin" in result.inner_text()
    assert page.locator("form:has(input[name=password])").count() == 0
    j.shot("verify-valid")

    # 8. The map's default filter (active) no longer holds the cooperative.
    login(page, live_server, "kadis")
    map_after, ids_after = _map_state(j)
    assert map_after == map_before - 1 and coop_id not in ids_after
    j.shot("map-after")
    j.go("/koperasi/?status=active")
    assert _active_count(page) == active_before - 1
    assert re.search(r"\b249\b", page.inner_text("#result-count"))
