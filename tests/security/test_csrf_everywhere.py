"""CSRF: every state-changing route from the URL map refuses a request without a token (400),
for a logged-in user whose role may use the route; and the session is renewed at login."""

from __future__ import annotations

import pytest
from werkzeug.routing import Rule

from tests.conftest import PASSWORD, csrf_token_from

SAMPLES = {"lang": "id", "name": "kecamatan", "token": "no-such-token", "direction": "up"}
STATE_CHANGING = {"POST", "PUT", "PATCH", "DELETE"}


def state_changing_rules(app) -> list[tuple[Rule, str]]:
    out = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint.endswith("static"):
            continue
        for method in sorted(rule.methods & STATE_CHANGING):
            out.append((rule, method))
    return out


def url_for_rule(rule: Rule) -> str:
    values = {arg: SAMPLES.get(arg, "1") for arg in rule.arguments}
    return rule.build(values, append_unknown=False)[1]


def role_for(app, rule: Rule) -> str | None:
    view = app.view_functions[rule.endpoint]
    roles = getattr(view, "allowed_roles", ())
    if getattr(view, "is_public", False):
        return None
    for preferred in ("admin", "head", "inspector", "clerk", "viewer"):
        if preferred in roles:
            return preferred
    return sorted(roles)[0]


def test_there_are_state_changing_routes_to_check(app):
    # The walk below must not pass by checking nothing.
    assert len(state_changing_rules(app)) >= 20


def test_every_state_changing_route_refuses_a_request_without_csrf_token(
    app, client, auth, users, make_coop
):
    make_coop()
    checked = []
    for rule, method in state_changing_rules(app):
        role = role_for(app, rule)
        fresh = app.test_client()
        if role is not None:
            token = csrf_token_from(fresh.get("/login").get_data(as_text=True))
            resp = fresh.post(
                "/login", data={"username": role, "password": PASSWORD, "csrf_token": token}
            )
            assert resp.status_code == 302, (rule.rule, role)
        url = url_for_rule(rule)
        for data in ({}, {"csrf_token": "forged-token"}):
            resp = fresh.open(url, method=method, data=data)
            assert resp.status_code == 400, (method, rule.rule, role, resp.status_code)
            # The refusal is a page in the office's style, not a bare error.
            assert "<html" in resp.get_data(as_text=True).lower(), rule.rule
        checked.append(rule.endpoint)
    assert "workflow.sign" in checked and "auth.login" in checked


def test_a_token_from_another_session_is_refused(app, users, make_coop):
    coop = make_coop()
    attacker, victim = app.test_client(), app.test_client()
    for c in (attacker, victim):
        token = csrf_token_from(c.get("/login").get_data(as_text=True))
        c.post("/login", data={"username": "admin", "password": PASSWORD, "csrf_token": token})
    stolen = csrf_token_from(attacker.get("/dasbor").get_data(as_text=True))
    assert stolen
    resp = victim.post(f"/koperasi/{coop.id}/ubah", data={"csrf_token": stolen, "name": "Diganti"})
    assert resp.status_code == 400


def _cookie(client) -> str | None:
    c = client.get_cookie("session")
    return c.value if c else None


def test_login_issues_a_new_session_cookie_and_drops_pre_login_keys(app, client, auth, users):
    # Anonymous visitor picks a language (kept) and an attacker plants a key (dropped).
    token = auth.csrf()
    client.post("/language/en", data={"csrf_token": token, "next": "/login"})
    with client.session_transaction() as sess:
        sess["planted"] = "fixation"
    before = _cookie(client)
    assert before
    auth.login("head")
    after = _cookie(client)
    assert after and after != before
    with client.session_transaction() as sess:
        assert "planted" not in sess and sess.get("lang") == "en"
        assert sess.get("_user_id") == str(users["head"].id)
    # Replaying the pre-login cookie does not give a logged-in session.
    other = app.test_client()
    other.set_cookie("session", before)
    assert other.get("/dasbor").status_code == 302


def test_logout_forgets_the_session(app, client, auth, users):
    auth.login("head")
    logged_in = _cookie(client)
    auth.logout()
    assert client.get("/dasbor").status_code == 302
    with client.session_transaction() as sess:
        assert "_user_id" not in sess
    assert _cookie(client) != logged_in


@pytest.mark.parametrize(
    "target",
    [
        "//evil.example/",
        "https://evil.example/",
        "/\\evil.example",
        "javascript:alert(1)",
        "\\\\evil.example",
        "/%09/evil.example",
        "http:/evil.example",
    ],
)
def test_the_language_switch_never_redirects_off_site(client, auth, users, target):
    token = auth.csrf()
    resp = client.post("/language/id", data={"csrf_token": token, "next": target})
    assert resp.status_code == 302
    loc = resp.location
    assert loc.startswith("/") and not loc.startswith("//") and "\\" not in loc
    assert "evil.example" not in loc.split("?")[0] or loc.startswith("/%09")


@pytest.mark.parametrize("target", ["//evil.example/", "/\\evil.example", "https://evil.example"])
def test_sign_off_next_never_redirects_off_site(client, auth, users, make_coop, target):
    """The sign/refuse forms take `next`; a forged one must not leave the site."""
    from datetime import date

    from coop_audit.extensions import db

    sanctions = pytest.importorskip("coop_audit.sanctions.operations")
    coop = make_coop(status="dormant")
    proposal = sanctions.propose(
        coop, "warn", users["inspector"], reason="RAT", evidence=[], today=date(2026, 12, 3)
    )
    db.session.commit()
    auth.login("head")
    token = auth.csrf("/alur/persetujuan")
    for action in ("tolak", "tandatangani"):
        resp = client.post(
            f"/alur/usulan/{proposal.id}/{action}",
            data={"csrf_token": token, "next": target, "reason": "x"},
        )
        assert resp.status_code in (302, 303), resp.status_code
        loc = resp.location
        assert loc.startswith("/") and not loc.startswith("//") and "\\" not in loc, loc
        assert loc.startswith("/alur/"), loc


def test_every_redirect_taking_parameter_is_checked(app):
    """Views that read `next`/`back`/`return` from the request must use the shared safe_next
    (a grep over the views, so a new one cannot slip in unchecked)."""
    import re
    from pathlib import Path

    root = Path(app.root_path)
    offenders = []
    for path in root.rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        for m in re.finditer(r"request\.(?:args|form|values)\.get\(\"(next|return_to|url)\"", text):
            line = text[: m.start()].count("\n") + 1
            window = text[m.start() - 200 : m.end() + 10]
            if "safe_next(" not in window:
                offenders.append(f"{path.relative_to(root)}:{line}")
    assert offenders == []
