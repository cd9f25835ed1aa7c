"""The cluster map in headless Chromium with the tile servers blocked (an office offline)."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest

from coop_audit import demo
from coop_audit.extensions import db
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
SHOTS = os.environ.get("MAP_SCREENSHOTS")  # a directory: keep screenshots to look at

# Markers drawn on the map: single markers plus the counts written in the group rings.
RENDERED = """() => {
  const singles = document.querySelectorAll('#cluster-map .coop-marker').length;
  let grouped = 0;
  document.querySelectorAll('#cluster-map .coop-ring text').forEach(t => {
    grouped += parseInt(t.textContent.replace(/\\D/g, ''), 10) || 0;
  });
  return singles + grouped;
}"""
SETTLED = f"""(expected) => {{
  const map = document.getElementById('cluster-map');
  if (map.querySelector('.leaflet-zoom-anim, .leaflet-cluster-anim')
      || map.classList.contains('leaflet-zoom-anim')) return false;
  const n = ({RENDERED})();
  return n === expected ? n : false;
}}"""


@pytest.fixture
def map_live_server(app):
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
def map_browser():
    playwright = pytest.importorskip("playwright.sync_api")
    if not Path(CHROMIUM).exists():
        pytest.skip("chromium not installed")
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            yield browser
        finally:
            browser.close()


def _page(browser, width: int, height: int, blocked: list[str]):
    context = browser.new_context(viewport={"width": width, "height": height}, locale="id-ID")
    page = context.new_page()
    page.set_default_timeout(15000)

    def block(route):
        blocked.append(route.request.url)
        route.abort()

    page.route("**/tile.openstreetmap.org/**", block)
    page.route(lambda url: "tile.openstreetmap.org" in url, block)
    return context, page


def _login(page, base: str) -> None:
    page.goto(f"{base}/login")
    page.fill("input[name=username]", "viewer")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(lambda u: "/login" not in u)


def _markers_for(page) -> tuple[int, int, int]:
    """(markers drawn, cooperatives without location, count shown) once the map settled."""
    page.wait_for_function(
        "() => Number(document.getElementById('cluster-map').dataset.loaded) > 0"
    )
    expected = int(page.get_attribute("#map-markers", "data-markers"))
    # Counted while no zoom or cluster animation runs: mid-animation, markercluster keeps the
    # old and the new icons in the page at once.
    drawn = page.wait_for_function(SETTLED, arg=expected, timeout=10000).json_value()
    without = int(page.get_attribute("#without-location", "data-count"))
    shown = int(page.get_attribute("#map-count", "data-count"))
    return drawn, without, shown


def _register_count(page) -> int:
    page.click("#open-register")
    page.wait_for_selector("#result-count")
    return int(page.get_attribute("#result-count", "data-count"))


def test_map_markers_match_the_register_for_a_filter_offline(
    app, users, map_live_server, map_browser
):
    demo.seed(300, 120, with_users=False)
    db.session.commit()
    blocked: list[str] = []
    context, page = _page(map_browser, 1280, 900, blocked)
    base = map_live_server
    _login(page, base)

    page.goto(f"{base}/klaster/peta")
    markers, without, shown = _markers_for(page)
    assert markers > 0 and markers + without == shown == 120
    # The outlines come from our own GeoJSON: drawn with the tile servers unreachable.
    assert page.locator("#cluster-map .leaflet-overlay-pane path").count() >= 1 + 17 + 177
    assert blocked, "the map asked for tiles (and they were blocked)"
    if SHOTS:
        page.screenshot(path=f"{SHOTS}/map-desktop.png")
    assert _register_count(page) == shown

    # Change a filter on the map page: the count changes and still matches the register.
    page.goto(f"{base}/klaster/peta")
    page.wait_for_function(
        "() => Number(document.getElementById('cluster-map').dataset.loaded) > 0"
    )
    page.select_option("#status", "all")
    page.wait_for_url(lambda u: "status=all" in u)
    markers_all, without_all, shown_all = _markers_for(page)
    assert shown_all == 300 != shown
    assert markers_all + without_all == shown_all
    assert _register_count(page) == shown_all

    page.goto(f"{base}/klaster/peta?status=active&kecamatan=33.13.11")
    markers_k, without_k, shown_k = _markers_for(page)
    assert 0 < shown_k < shown and markers_k + without_k == shown_k
    assert _register_count(page) == shown_k

    # A popup: the cooperative's page and Google Maps at its coordinates.
    page.goto(f"{base}/klaster/peta?status=active&kecamatan=33.13.11")
    _markers_for(page)
    for _ in range(6):  # click into groups until single markers show
        if page.locator("#cluster-map .coop-marker").count():
            break
        page.locator("#cluster-map .coop-ring").first.click()
        page.wait_for_timeout(400)
    page.locator("#cluster-map .coop-marker").first.click()
    popup = page.locator(".leaflet-popup-content")
    popup.locator("a[href*='google.com/maps/search']").wait_for()
    assert popup.locator("a[href*='/koperasi/']").count() == 1
    context.close()

    if SHOTS:
        context, phone = _page(map_browser, 360, 740, [])
        _login(phone, base)
        phone.goto(f"{base}/klaster/peta")
        _markers_for(phone)
        phone.screenshot(path=f"{SHOTS}/map-phone.png", full_page=True)
        context.close()
