"""Guessing: verification tokens and short codes (404, then 429), and passwords (locked after
ten failures, across clients, without telling which part was wrong)."""

from __future__ import annotations

import secrets

import pytest

from tests.conftest import PASSWORD, csrf_token_from


@pytest.fixture
def small_limit(app):
    limiter = app.extensions.get("letters.verify_limiter")
    if limiter is None:
        pytest.skip("letters feature not installed")
    limiter.limit, limiter.window = 5, 3600
    return limiter


def test_guessed_verification_tokens_are_not_found_then_rate_limited(app, client, small_limit):
    answers = [client.get(f"/verify/{secrets.token_urlsafe(24)}") for _ in range(5)]
    assert [resp.status_code for resp in answers] == [404] * 5
    # Whoever holds the paper is told what it means and what to do.
    assert "Tidak ada surat kantor ini dengan alamat tersebut" in answers[0].get_data(as_text=True)
    resp = client.get(f"/verify/{secrets.token_urlsafe(24)}")
    assert resp.status_code == 429
    wait = int(resp.headers["Retry-After"])
    assert 3500 < wait <= 3600  # until the first guess leaves the hour's window
    assert f"tunggu {wait} detik" in resp.get_data(as_text=True)
    # The short-code lookup shares the same budget.
    assert client.get("/verify", query_string={"code": "ABCD-EFGH"}).status_code == 429


def test_the_limit_is_per_address(app, small_limit):
    a = app.test_client()
    b = app.test_client()
    for _ in range(6):
        a.get("/verify/nothing", environ_base={"REMOTE_ADDR": "10.0.0.1"})
    assert a.get("/verify/x", environ_base={"REMOTE_ADDR": "10.0.0.1"}).status_code == 429
    assert b.get("/verify/x", environ_base={"REMOTE_ADDR": "10.0.0.2"}).status_code == 404


def test_overlong_and_odd_tokens_are_plain_not_found(client, small_limit):
    small_limit.limit = 100
    for token in ("x" * 500, "%00", "..%2F..%2Fetc%2Fpasswd", "' OR 1=1 --", "{{7*7}}"):
        resp = client.get(f"/verify/{token}")
        # A NUL byte is refused before any query (400); the rest simply do not exist.
        assert resp.status_code == (400 if token == "%00" else 404), token
        assert '/verify/49"' not in resp.get_data(as_text=True)  # echoed, never evaluated


def test_verification_tokens_are_long_and_random(app, users, make_coop):
    sanctions = pytest.importorskip("coop_audit.sanctions.operations")
    from datetime import date

    from sqlalchemy import select

    from coop_audit.extensions import db
    from coop_audit.models.letters import Letter

    coops = [make_coop(status="dormant") for _ in range(3)]
    for coop in coops:
        p = sanctions.propose(
            coop, "warn", users["inspector"], reason="RAT", evidence=[], today=date(2026, 12, 3)
        )
        db.session.commit()
        sanctions.sign(p, users["head2"], today=date(2026, 12, 3))
        db.session.commit()
    tokens = [t for (t,) in db.session.execute(select(Letter.token))]
    assert len(set(tokens)) == 3
    assert all(len(t) >= 20 for t in tokens)  # >= 120 bits when url-safe base64


def login(client, username, password):
    token = csrf_token_from(client.get("/login").get_data(as_text=True))
    return client.post(
        "/login", data={"username": username, "password": password, "csrf_token": token}
    )


def test_ten_failed_logins_lock_the_account_even_across_fresh_clients(app, users):
    for _ in range(10):
        c = app.test_client()  # a new cookie jar each time: the lock is not in the session
        resp = login(c, "head", "guess-" + secrets.token_hex(4))
        assert resp.status_code == 200
    c = app.test_client()
    resp = login(c, "head", PASSWORD)
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200 and "Terlalu banyak" in html
    assert c.get("/dasbor").status_code == 302


def test_unknown_and_known_usernames_get_the_same_answer(app, users):
    known = login(app.test_client(), "head", "wrong").get_data(as_text=True)
    unknown = login(app.test_client(), "nobody-here", "wrong").get_data(as_text=True)
    assert "Nama pengguna atau kata sandi salah" in known
    assert "Nama pengguna atau kata sandi salah" in unknown
