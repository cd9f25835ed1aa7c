"""The database goes away in the middle of a request: the user gets the clear 503 page and
nothing half-written remains (no status change, no letter, no number, no history row)."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import event, func, select
from sqlalchemy.exc import OperationalError

from coop_audit.extensions import db
from coop_audit.models import Cooperative, HistoryEvent
from coop_audit.models.letters import Letter, LetterSequence

sanctions = pytest.importorskip("coop_audit.sanctions.operations")
TODAY = date(2026, 12, 3)


def counts() -> tuple[int, int, int]:
    db.session.expire_all()
    return (
        db.session.execute(select(func.count()).select_from(HistoryEvent)).scalar_one(),
        db.session.execute(select(func.count()).select_from(Letter)).scalar_one(),
        db.session.execute(select(func.count()).select_from(LetterSequence)).scalar_one(),
    )


class DatabaseGone:
    """Make every COMMIT fail as if the server had closed the connection."""

    def __init__(self, engine) -> None:
        self.engine = engine
        self.hits = 0

    def __call__(self, conn) -> None:
        self.hits += 1
        raise OperationalError("COMMIT", {}, Exception("server closed the connection unexpectedly"))

    def __enter__(self):
        event.listen(self.engine, "commit", self)
        return self

    def __exit__(self, *exc) -> None:
        event.remove(self.engine, "commit", self)


def test_a_sign_off_when_the_database_goes_away_shows_503_and_saves_nothing(
    app, client, auth, users, make_coop
):
    coop = make_coop(status="dormant")
    proposal = sanctions.propose(
        coop, "warn", users["inspector"], reason="RAT", evidence=[], today=TODAY
    )
    db.session.commit()
    before = counts()
    auth.login("head")
    token = auth.csrf("/alur/persetujuan")
    with DatabaseGone(db.engine) as gone:
        resp = client.post(f"/alur/usulan/{proposal.id}/tandatangani", data={"csrf_token": token})
    assert gone.hits >= 1
    assert resp.status_code == 503
    html = resp.get_data(as_text=True)
    assert "Basis data tidak tersedia" in html and "Tidak ada yang disimpan" in html
    assert "Traceback" not in html
    # Nothing of the sign-off remains.
    assert counts() == before
    db.session.expire_all()
    assert db.session.get(Cooperative, coop.id).status == "dormant"
    # The database is back: the same sign-off now goes through, once.
    resp = client.post(f"/alur/usulan/{proposal.id}/tandatangani", data={"csrf_token": token})
    assert resp.status_code in (302, 303)
    history, letters, _seq = counts()
    assert letters == before[1] + 1 and history > before[0]


def test_a_page_read_when_the_database_is_unreachable_is_503_not_500(
    app, client, auth, users, monkeypatch
):
    auth.login("viewer")

    def unreachable(*_a, **_k):
        raise OperationalError("SELECT", {}, Exception("could not connect to server"))

    monkeypatch.setattr(db.session, "execute", unreachable)
    resp = client.get("/koperasi/")
    monkeypatch.undo()
    assert resp.status_code == 503
    assert "Basis data tidak tersedia" in resp.get_data(as_text=True)


@pytest.mark.postgres
def test_a_terminated_postgres_backend_mid_request_is_a_503(app, client, auth, users, make_coop):
    """PostgreSQL: the server kills our session between two statements of one request."""
    coop = make_coop(status="dormant")
    coop_id = coop.id
    proposal = sanctions.propose(
        coop, "warn", users["inspector"], reason="RAT", evidence=[], today=TODAY
    )
    db.session.commit()
    before = counts()
    auth.login("head")
    token = auth.csrf("/alur/persetujuan")
    killed = []

    def terminate(conn, cursor, statement, *_a):
        if killed or "letter" not in statement.lower():
            return
        killed.append(statement)
        pid = conn.exec_driver_sql("SELECT pg_backend_pid()").scalar()
        other = db.engine.pool._creator()  # a separate, unpooled connection
        try:
            cur = other.cursor()
            cur.execute("SELECT pg_terminate_backend(%s)", (pid,))
        finally:
            other.close()

    event.listen(db.engine, "before_cursor_execute", terminate)
    try:
        resp = client.post(f"/alur/usulan/{proposal.id}/tandatangani", data={"csrf_token": token})
    finally:
        event.remove(db.engine, "before_cursor_execute", terminate)
    assert killed
    assert resp.status_code == 503, resp.status_code
    db.session.remove()
    assert counts() == before
    status = select(Cooperative.status).where(Cooperative.id == coop_id)
    assert db.session.execute(status).scalar() == "dormant"
