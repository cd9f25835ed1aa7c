"""Logging in and out: throttle, safe redirects, fresh session, CSRF."""

from __future__ import annotations

import pytest

from tests.conftest import PASSWORD


def test_login_with_wrong_password_says_so_and_stays_logged_out(client, auth, users):
    resp = auth.login("head", "wrong-password")
    assert resp.status_code == 200
    assert "Nama pengguna atau kata sandi salah" in resp.get_data(as_text=True)
    assert client.get("/dasbor").status_code == 302


def test_ten_failures_lock_the_username_from_that_address(client, auth, users):
    for _ in range(10):
        auth.login("head", "wrong-password")
    resp = auth.login("head", PASSWORD)
    assert "Terlalu banyak" in resp.get_data(as_text=True)
    assert client.get("/dasbor").status_code == 302
    # Another user from the same address is not locked out.
    assert auth.login("clerk").status_code == 302


@pytest.mark.parametrize(
    "target, expected",
    [
        ("/koperasi/?status=active", "/koperasi/?status=active"),
        ("//evil.example/", "/dasbor"),
        ("https://evil.example/", "/dasbor"),
        ("/\\evil.example", "/dasbor"),
        ("javascript:alert(1)", "/dasbor"),
        ("/%0d%0aLocation:%20http://evil.example", None),
    ],
)
def test_next_only_leads_to_local_paths(client, auth, users, target, expected):
    token = auth.csrf()
    resp = client.post(
        "/login?next=" + target,
        data={"username": "head", "password": PASSWORD, "csrf_token": token},
    )
    assert resp.status_code == 302
    location = resp.location
    assert "evil.example" not in location.split("?")[0].replace("%20http://evil", "") or (
        location.startswith("/")
    )
    if expected is not None:
        assert location == expected
    assert not location.startswith("//") and "://" not in location.split("/")[0]


def test_login_starts_a_fresh_session(client, auth, users):
    with client.session_transaction() as sess:
        sess["planted"] = "by-an-attacker"
    auth.login("head")
    with client.session_transaction() as sess:
        assert "planted" not in sess
        assert sess.get("_user_id")


def test_logout_needs_a_post_with_csrf(client, auth, users):
    auth.login("viewer")
    assert client.get("/logout").status_code == 405
    assert client.post("/logout").status_code == 400  # no CSRF token
    assert client.get("/dasbor").status_code == 200
    auth.logout()
    assert client.get("/dasbor").status_code == 302


def test_login_form_without_csrf_token_is_refused(client, users):
    resp = client.post("/login", data={"username": "head", "password": PASSWORD})
    assert resp.status_code == 400
    assert client.get("/dasbor").status_code == 302


def test_disabled_user_cannot_log_in(client, auth, users, app):
    from coop_audit.extensions import db

    users["clerk"].enabled = False
    db.session.commit()
    auth.login("clerk")
    assert client.get("/dasbor").status_code == 302


def test_session_cookie_is_httponly_and_samesite(client, auth, users):
    resp = auth.login("head")
    cookie = resp.headers.get("Set-Cookie", "")
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie


def test_english_is_available_per_user(client, auth, users):
    auth.login("head")
    assert "Daftar koperasi" in client.get("/koperasi/").get_data(as_text=True)
    token = auth.csrf("/dasbor")
    client.post("/language/en", data={"csrf_token": token, "next": "/koperasi/"})
    html = client.get("/koperasi/").get_data(as_text=True)
    assert "Register of cooperatives" in html
    assert users["head"].locale == "en"


def test_form_messages_speak_indonesian(client, auth, users):
    token = auth.csrf()
    html = client.post("/login", data={"csrf_token": token}).get_data(as_text=True)
    assert "Isian ini wajib diisi." in html
    assert "This field is required." not in html


def test_a_new_user_form_starts_at_the_least_privileged_role(client, auth, users):
    auth.login("admin")
    html = client.get("/admin/users/new").get_data(as_text=True)
    assert '<option selected value="viewer">' in html or 'value="viewer" selected' in html


def test_behind_a_trusted_proxy_the_throttle_sees_the_real_client(tmp_path):
    from config import TestConfig
    from coop_audit import create_app
    from coop_audit.extensions import db
    from coop_audit.users.operations import create_user

    class Cfg(TestConfig):
        SQLALCHEMY_DATABASE_URI = f"sqlite:///{tmp_path / 'proxy.sqlite3'}"
        WTF_CSRF_ENABLED = False
        TRUSTED_PROXIES = 1

    app = create_app(Cfg)
    with app.app_context():
        db.create_all()
        create_user("kadis", "Kadis", "head", PASSWORD)
        db.session.commit()
    client = app.test_client()
    for _ in range(10):
        client.post(
            "/login",
            data={"username": "kadis", "password": "wrong-password"},
            headers={"X-Forwarded-For": "10.0.0.7"},
        )
    # The office colleague behind the same proxy, from another address, is not locked out.
    resp = client.post(
        "/login",
        data={"username": "kadis", "password": PASSWORD},
        headers={"X-Forwarded-For": "10.0.0.8"},
    )
    assert resp.status_code == 302
