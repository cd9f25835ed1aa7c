"""Every page's own assets are served by the app (offices have weak internet)."""

import re


def test_every_asset_a_page_names_is_served_including_its_icon(client, auth, users):
    auth.login("viewer")
    html = client.get("/dasbor").get_data(as_text=True)
    assets = re.findall(r'(?:href|src)="(/static/[^"]+|/vendor[^"]*)"', html)
    assert any("favicon.svg" in a for a in assets)
    for path in assets:
        resp = client.get(path)
        assert resp.status_code == 200, path
        resp.close()
    # Browsers and PDF viewers still ask for /favicon.ico: it leads to the same icon.
    icon = client.get("/favicon.ico", follow_redirects=True)
    assert icon.status_code == 200 and b"<svg" in icon.data
    icon.close()


def _active_menu(html: str) -> list[str]:
    return re.findall(r'class="nav-link active" aria-current="page" href="[^"]*">([^<]+)<', html)


def test_the_menu_highlights_exactly_the_page_being_shown(client, auth, users, make_coop):
    coop = make_coop()
    auth.login("head")
    expected = {
        "/klaster/peta": "Peta",
        "/klaster/ringkasan": "Klaster",
        "/klaster/usulan": "Bantuan modal",
        "/alur/persetujuan": "Persetujuan",
        "/alur/tenggat": "Tenggat",
        f"/koperasi/{coop.id}": "Register",  # a page of its own belongs to its section
    }
    for path, label in expected.items():
        html = client.get(path).get_data(as_text=True)
        assert _active_menu(html) == [label], path
