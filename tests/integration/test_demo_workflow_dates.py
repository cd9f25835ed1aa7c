"""The demo's sanction history is dated consistently: a letter is issued on its date, sent
after it is issued, and received after it is sent (never "sent today, received in July")."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from coop_audit import history
from coop_audit.extensions import db
from coop_audit.models import Cooperative
from coop_audit.models.letters import Letter
from coop_audit.timeutil import JAKARTA

TODAY = date(2026, 12, 3)


def _local(value):
    return value.astimezone(JAKARTA)


def test_demo_letters_are_issued_sent_and_received_in_date_order(app):
    from coop_audit.demo import seed

    seed(150, 40, 7, today=TODAY)
    db.session.commit()
    letters = list(db.session.execute(select(Letter)).scalars())
    received = [x for x in letters if x.clock_start is not None]
    assert received and len(letters) > len(received)
    for letter in letters:
        assert _local(letter.issued_at).date() == letter.issued_on, letter.number
        assert 7 <= _local(letter.issued_at).hour <= 16  # office hours, not the seeding moment
        if letter.sent_at is not None:
            assert _local(letter.sent_at) >= _local(letter.issued_at), letter.number
            assert _local(letter.sent_at).date() <= TODAY
        if letter.clock_start is not None:
            assert letter.sent_at is not None, letter.number
            assert _local(letter.sent_at).date() <= letter.clock_start, letter.number
            assert _local(letter.receipt_recorded_at).date() >= letter.clock_start
    # Warnings with no proof of receipt were posted (the overdue-receipt alert is about them).
    assert any(x.sent_at and x.clock_start is None and x.kind == "warning" for x in letters)
    # Totals and the history chain are untouched by the dating.
    assert db.session.query(Cooperative).count() == 150
    assert db.session.query(Cooperative).filter_by(status="active").count() == 40
    assert history.verify().ok


def test_seeding_before_nine_writes_no_history_into_the_future(app, monkeypatch):
    """`make run` at 05:00 WIB: the register's "created" events were dated 09:00 that day."""
    from datetime import datetime

    from coop_audit import demo
    from coop_audit.models import HistoryEvent

    early = datetime(2026, 12, 3, 5, 0, tzinfo=JAKARTA)
    monkeypatch.setattr(demo, "utcnow", lambda: early)
    demo.seed(30, 10, 7, today=TODAY)
    db.session.commit()
    created = db.session.execute(
        select(HistoryEvent.at).where(HistoryEvent.kind == "created")
    ).scalars()
    assert all(_local(at) <= early for at in created)
