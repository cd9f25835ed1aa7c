"""Every route × every role, generated from the URL map so a new route cannot be forgotten.

Anonymous users are sent to the login page (public routes excepted); a role the view does not
declare gets 403; a declared role never gets 403 or a server error.
"""

from __future__ import annotations

import pytest
from werkzeug.routing import Rule
from werkzeug.routing.converters import IntegerConverter

from tests.conftest import ROLES, csrf_token_from

# Sample values for URL parameters by name; anything else gets "1".
SAMPLES = {"lang": "id", "name": "kecamatan", "token": "no-such-token", "filename": "x"}


def _rules(app) -> list[Rule]:
    return [
        r
        for r in app.url_map.iter_rules()
        if not r.endpoint.endswith("static") and r.endpoint != "static"
    ]


def _url(rule: Rule) -> str:
    values = {arg: SAMPLES.get(arg, "1") for arg in rule.arguments}
    return rule.build(values, append_unknown=False)[1]


def _method(rule: Rule) -> str:
    return "GET" if "GET" in rule.methods else sorted(rule.methods - {"HEAD", "OPTIONS"})[0]


def _call(client, rule: Rule, token: str):
    method = _method(rule)
    url = _url(rule)
    if method == "GET":
        return client.get(url)
    return client.open(url, method=method, data={"csrf_token": token})


@pytest.fixture
def world(app, users, make_coop):
    make_coop()
    return users


def test_every_view_declares_who_may_use_it(app):
    for rule in _rules(app):
        view = app.view_functions[rule.endpoint]
        assert getattr(view, "allowed_roles", None) or getattr(view, "is_public", False), (
            rule.endpoint
        )


def test_anonymous_users_are_sent_to_login(app, client, world):
    token = csrf_token_from(client.get("/login").get_data(as_text=True))
    for rule in _rules(app):
        view = app.view_functions[rule.endpoint]
        resp = _call(client, rule, token)
        assert resp.status_code < 500, (rule.rule, resp.status_code)
        if getattr(view, "is_public", False):
            continue
        assert resp.status_code == 302, (rule.rule, resp.status_code)
        assert "/login" in resp.location, (rule.rule, resp.location)


@pytest.mark.parametrize("role", ROLES)
def test_each_role_gets_exactly_its_routes(app, client, auth, world, role):
    assert auth.login(role).status_code == 302
    token = auth.csrf("/dasbor")
    for rule in _rules(app):
        view = app.view_functions[rule.endpoint]
        if rule.endpoint == "auth.logout":
            continue  # would end this session; covered in the auth tests
        allowed = getattr(view, "is_public", False) or role in getattr(view, "allowed_roles", ())
        resp = _call(client, rule, token)
        if allowed:
            assert resp.status_code not in (403, 500), (role, rule.rule, resp.status_code)
        else:
            assert resp.status_code == 403, (role, rule.rule, resp.status_code)


@pytest.mark.parametrize("value", [2**31, 10**20])
def test_an_id_too_large_for_the_database_is_not_found(app, client, auth, world, value):
    """Every <int:...> in a URL is a database id: past the column's range it is a 404, never an
    overflow inside the database driver (a 500)."""
    checked = 0
    assert auth.login("admin").status_code == 302
    token = auth.csrf("/dasbor")
    for rule in _rules(app):
        ids = [arg for arg, conv in rule._converters.items() if isinstance(conv, IntegerConverter)]
        if not ids:
            continue
        values = {arg: value if arg in ids else SAMPLES.get(arg, "1") for arg in rule.arguments}
        url = rule.build(values, append_unknown=False)[1]
        method = _method(rule)
        data = {"csrf_token": token} if method != "GET" else None
        resp = client.open(url, method=method, data=data)
        assert resp.status_code == 404, (url, method, resp.status_code)
        checked += 1
    assert checked >= 20
