"""Transactions behave alike on SQLite and PostgreSQL: a savepoint nests in the transaction."""

from coop_audit.extensions import db
from coop_audit.models import User


def test_a_released_savepoint_is_still_undone_by_the_outer_rollback(app, users):
    user_id = users["clerk"].id
    db.session.commit()
    db.session.get(User, user_id)  # a read first: no write has begun a transaction yet
    savepoint = db.session.begin_nested()
    db.session.get(User, user_id).full_name = "Nama Sementara"
    savepoint.commit()  # RELEASE: with SQLite's lazy BEGIN this used to commit
    db.session.rollback()
    db.session.expire_all()
    assert db.session.get(User, user_id).full_name != "Nama Sementara"


def test_a_rolled_back_savepoint_keeps_the_rest_of_the_transaction(app, users):
    user_id = users["clerk"].id
    db.session.commit()
    db.session.get(User, user_id).job_title = "Staf Arsip"
    savepoint = db.session.begin_nested()
    db.session.get(User, user_id).full_name = "Nama Sementara"
    savepoint.rollback()
    db.session.commit()
    db.session.expire_all()
    user = db.session.get(User, user_id)
    assert (user.job_title, user.full_name) != ("Staf Arsip", "Nama Sementara")
    assert user.job_title == "Staf Arsip"
