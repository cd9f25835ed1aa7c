"""Two heads sign the same proposal at the same moment, through real parallel requests."""

from __future__ import annotations

import os
import threading
import time
from datetime import date

import pytest
from sqlalchemy import func, select

from coop_audit import history
from coop_audit.extensions import db
from coop_audit.models import Cooperative, HistoryEvent, User
from coop_audit.sanctions import operations as ops
from tests.conftest import Auth, csrf_token_from

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(
        not os.environ.get("TEST_DATABASE_URL", "").startswith("postgresql"),
        reason="row locks need PostgreSQL (set TEST_DATABASE_URL)",
    ),
]


def test_parallel_signoff_has_one_winner_and_one_clear_refusal(app, users, make_coop):
    coop = make_coop(status="dormant")
    proposal = ops.propose(
        coop, "warn", users["inspector"], reason="Dorman", today=date(2026, 6, 1)
    )
    db.session.commit()
    pid, coop_id = proposal.id, coop.id
    full_names = {n: users[n].full_name for n in ("head", "head2")}
    db.session.remove()

    clients = {}
    for name in ("head", "head2"):
        client = app.test_client()
        Auth(client).login(name)
        token = csrf_token_from(client.get("/alur/persetujuan").get_data(as_text=True))
        clients[name] = (client, token)

    # The winner holds its row lock a moment inside the sign-off, so the other request
    # really arrives while the first is still in its transaction.
    entered = threading.Event()

    def slow_hook(_proposal, _signer, _today):
        entered.set()
        time.sleep(0.5)

    ops.SIGNOFF_HOOKS.append(slow_hook)
    start = threading.Barrier(2)
    pages: dict[str, str] = {}

    def sign(name: str) -> None:
        client, token = clients[name]
        start.wait()
        r = client.post(
            f"/alur/usulan/{pid}/tandatangani?today=2026-06-01",
            data={"csrf_token": token},
            follow_redirects=True,
        )
        pages[name] = r.get_data(as_text=True)

    threads = [threading.Thread(target=sign, args=(n,)) for n in clients]
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
    finally:
        ops.SIGNOFF_HOOKS.remove(slow_hook)

    assert entered.is_set()
    winners = [n for n, html in pages.items() if "alert-success" in html]
    losers = [n for n, html in pages.items() if "Sudah ditandatangani oleh" in html]
    assert len(winners) == 1 and len(losers) == 1
    winner_name = full_names[winners[0]]
    assert winner_name in pages[losers[0]]
    with app.app_context():
        assert db.session.get(Cooperative, coop_id).status == "warned"
        signed_rows = db.session.execute(
            select(func.count()).select_from(HistoryEvent).where(HistoryEvent.kind == "signed")
        ).scalar_one()
        assert signed_rows == 1


def test_history_writers_do_not_wait_for_a_signoff_rendering_its_letter(app, users, make_coop):
    """Signing renders the letter (100-300 ms); meanwhile an inspector proposing elsewhere (a
    history row) must not queue behind the sign-off's lock on the history head."""
    coop, other = make_coop(status="dormant"), make_coop(status="dormant")
    proposal = ops.propose(
        coop, "warn", users["inspector"], reason="Dorman", today=date(2026, 6, 1)
    )
    db.session.commit()
    pid, other_id, inspector_id = proposal.id, other.id, users["inspector"].id
    db.session.remove()

    head = app.test_client()
    Auth(head).login("head")
    token = csrf_token_from(head.get("/alur/persetujuan").get_data(as_text=True))
    rendering, proposed = threading.Event(), threading.Event()
    seen: dict[str, bool] = {}

    def letter_in_progress(_proposal, _signer, _today):
        rendering.set()
        seen["other proposal committed while the letter was rendering"] = proposed.wait(10)

    def propose_elsewhere() -> None:
        rendering.wait(10)
        with app.app_context():
            inspector = db.session.get(User, inspector_id)
            ops.propose(
                db.session.get(Cooperative, other_id),
                "warn",
                inspector,
                reason="Dorman",
                today=date(2026, 6, 1),
            )
            db.session.commit()
        proposed.set()

    ops.SIGNOFF_HOOKS.append(letter_in_progress)
    thread = threading.Thread(target=propose_elsewhere)
    try:
        thread.start()
        signed = head.post(
            f"/alur/usulan/{pid}/tandatangani?today=2026-06-01",
            data={"csrf_token": token},
            follow_redirects=True,
        )
        thread.join(30)
    finally:
        ops.SIGNOFF_HOOKS.remove(letter_in_progress)

    assert "alert-success" in signed.get_data(as_text=True)
    assert seen == {"other proposal committed while the letter was rendering": True}
    with app.app_context():
        kinds = list(
            db.session.execute(select(HistoryEvent.kind).order_by(HistoryEvent.id)).scalars()
        )
        # The other proposal's row came first; the sign-off's rows stay together, in order.
        assert kinds[-3:] == ["proposed", "signed", "letter_issued"]
        assert history.verify().ok
