"""Security headers on every page, a CSP that needs no inline script, templates without inline
script or event-handler attributes, and the static scanners (bandit) clean."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = {"lang": "id", "name": "kecamatan", "token": "no-such-token", "direction": "up"}


def directives(csp: str) -> dict[str, list[str]]:
    out = {}
    for part in csp.split(";"):
        words = part.split()
        if words:
            out[words[0]] = words[1:]
    return out


def get_routes(app):
    for rule in app.url_map.iter_rules():
        if rule.endpoint.endswith("static") or "GET" not in rule.methods:
            continue
        values = {arg: SAMPLES.get(arg, "1") for arg in rule.arguments}
        yield rule, rule.build(values, append_unknown=False)[1]


def test_every_html_page_has_a_csp_without_inline_script_and_the_other_headers(
    app, client, auth, users, make_coop
):
    make_coop()
    checked = 0
    for login in (None, "admin", "head", "inspector", "clerk"):
        if login:
            auth.login(login)
        for _rule, url in get_routes(app):
            resp = client.get(url)
            resp.close()  # streamed files (exports) hold a temporary file until closed
            if resp.mimetype != "text/html":
                continue
            checked += 1
            csp = directives(resp.headers.get("Content-Security-Policy", ""))
            script = csp.get("script-src") or csp.get("default-src")
            assert script, (url, "no script-src")
            assert "'unsafe-inline'" not in script and "'unsafe-eval'" not in script, url
            assert "*" not in script and "data:" not in script, url
            assert csp.get("object-src") == ["'none'"], url
            assert csp.get("frame-ancestors") == ["'none'"], url
            assert resp.headers.get("X-Content-Type-Options") == "nosniff", url
            assert resp.headers.get("X-Frame-Options") == "DENY", url
            assert resp.headers.get("Referrer-Policy"), url
            assert "no-store" in resp.headers.get("Cache-Control", ""), url
            html = resp.get_data(as_text=True)
            # Nothing inline slipped in through a template, macro or flashed message.
            for tag in re.findall(r"<script\b[^>]*>", html, flags=re.I):
                assert "src=" in tag, (url, tag)
            assert not re.search(r"<[a-z][^>]*\s on[a-z]+\s*=", html, flags=re.I), url
            assert "javascript:" not in html.lower(), url
        if login:
            auth.logout()
    assert checked >= 40


def test_files_and_json_answers_are_not_sniffed(app, client, auth, users, make_coop):
    make_coop()
    auth.login("admin")
    for url in ("/klaster/peta/data", "/geo/kecamatan.geojson", "/surat/agenda.xlsx"):
        resp = client.get(url)
        resp.close()
        if resp.status_code == 404:
            continue
        assert resp.headers.get("X-Content-Type-Options") == "nosniff", url


TEMPLATE_DIRS = [ROOT / "templates"]


def template_files():
    for d in TEMPLATE_DIRS:
        yield from sorted(p for p in d.rglob("*") if p.suffix in (".html", ".j2", ".jinja", ".svg"))


def test_no_template_has_inline_script_or_event_handlers():
    files = list(template_files())
    assert len(files) > 10
    problems = []
    for path in files:
        text = path.read_text(encoding="utf-8")
        for m in re.finditer(r"<script\b([^>]*)>", text, flags=re.I):
            if "src=" not in m.group(1):
                problems.append(f"{path.relative_to(ROOT)}: inline <script>")
        for m in re.finditer(r"<[a-zA-Z][^>]*?\son[a-z]+\s*=", text):
            problems.append(f"{path.relative_to(ROOT)}: event handler {m.group(0)[-20:]!r}")
        if re.search(r"href\s*=\s*[\"']\s*javascript:", text, flags=re.I):
            problems.append(f"{path.relative_to(ROOT)}: javascript: URL")
    assert problems == []


def test_no_template_marks_data_as_safe_html():
    """`|safe` and Markup() on data would undo autoescaping; only fixed markup may use it."""
    allowed = {"safe_svg"}  # none expected; keep the list explicit when one is needed
    hits = []
    for path in template_files():
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if re.search(r"\|\s*safe\b", line) and not any(a in line for a in allowed):
                hits.append(f"{path.relative_to(ROOT)}:{n}: {line.strip()}")
    # Each remaining use must be on a value the app builds itself (reviewed list).
    for hit in hits:
        assert re.search(r"(svg|diagram|chart|qr|_html\b|json)", hit, flags=re.I), hit


@pytest.mark.skipif(
    shutil.which("bandit") is None and not (ROOT / ".venv/bin/bandit").exists(),
    reason="bandit not installed",
)
def test_bandit_finds_nothing_in_the_application_code():
    bandit = str(ROOT / ".venv/bin/bandit") if (ROOT / ".venv/bin/bandit").exists() else "bandit"
    proc = subprocess.run(
        [
            bandit,
            "-q",
            "-f",
            "txt",
            "-c",
            "pyproject.toml",
            "-r",
            "coop_audit",
            "app.py",
            "config.py",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-1000:]
    assert sys.executable
