"""Live-server fixtures for headless-Chromium tests (pytest -m e2e).

`live_server` runs the app with werkzeug's make_server in a thread on 127.0.0.1 (a free port)
over a file-based SQLite database in tmp_path, created with db.create_all() and the reference
data. `browser_page` is a Playwright page on Debian's Chromium; parametrize `viewport` (a
(width, height) tuple) indirectly to change its size. `login(page, username)` logs a user in;
`submit(page, target)` clicks a button that sends a form and waits for the page it leads to.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from config import TestConfig
from coop_audit import create_app
from coop_audit.extensions import db
from coop_audit.regions import ensure_reference_data
from tests.conftest import PASSWORD

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@dataclass
class LiveServer:
    url: str
    app: object

    def at(self, path: str) -> str:
        return self.url + path


@pytest.fixture
def live_server(tmp_path: Path) -> Iterator[LiveServer]:
    class Cfg(TestConfig):
        SQLALCHEMY_DATABASE_URI = f"sqlite:///{tmp_path / 'e2e.sqlite3'}"
        SQLALCHEMY_ENGINE_OPTIONS = {"connect_args": {"check_same_thread": False}}
        UPLOAD_DIR = str(tmp_path / "uploads")
        LETTER_DIR = str(tmp_path / "letters")
        HUEY_FILE = str(tmp_path / "jobs.sqlite3")

    app = create_app(Cfg)
    with app.app_context():
        db.create_all()
        ensure_reference_data()
        db.session.commit()
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield LiveServer(f"http://127.0.0.1:{server.server_port}", app)
    finally:
        server.shutdown()
        thread.join(10)
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


@pytest.fixture
def viewport(request) -> tuple[int, int]:
    return getattr(request, "param", (1280, 900))


@pytest.fixture
def browser_page(viewport):
    import os

    if not Path(CHROMIUM).exists():
        # CI runs everything: a missing browser is a failure there, a skip on a laptop.
        if os.environ.get("CI"):
            pytest.fail(f"{CHROMIUM} is not installed (make test installs it as root)")
        pytest.skip(f"{CHROMIUM} is not installed")
    import playwright.sync_api as playwright

    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        context = browser.new_context(
            viewport={"width": viewport[0], "height": viewport[1]}, locale="id-ID"
        )
        page = context.new_page()
        page.set_default_timeout(15_000)
        try:
            yield page
        finally:
            context.close()
            browser.close()


def login(page, server: LiveServer, username: str, password: str = PASSWORD) -> None:
    page.context.clear_cookies()
    page.goto(server.at("/login"))
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    submit(page, "form:has(input[name=password]) button[type=submit]")


def submit(page, target) -> None:
    """Click `target` (a selector or locator) that sends a form; return once the answer loaded.

    A bare click() returns as soon as the click is dispatched. The form's navigation starts a
    moment later, so a wait_for_load_state() right after it sees the old page as loaded, and a
    goto() right after it can cancel the submit before it reaches the server (a login that never
    happened, seen in CI). Waiting for the navigation the click starts closes that race.
    """
    locator = page.locator(target) if isinstance(target, str) else target
    with page.expect_navigation():
        locator.click()
