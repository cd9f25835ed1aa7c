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


def test_a_sqlite_writer_waits_for_a_long_transaction_instead_of_failing(app, tmp_path):
    """A bulk sign-off holds SQLite's write lock while a chunk renders (seconds on a slow
    machine); another user's write waits for it instead of failing after sqlite3's 5 s."""
    import threading
    import time

    from sqlalchemy import create_engine

    engine = create_engine(f"sqlite:///{tmp_path / 'locks.sqlite3'}")
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE t (x INTEGER)")
    locked = threading.Event()

    def long_writer() -> None:
        with engine.begin() as conn:
            conn.exec_driver_sql("INSERT INTO t VALUES (1)")
            locked.set()
            time.sleep(6)

    holder = threading.Thread(target=long_writer)
    holder.start()
    assert locked.wait(10)
    started = time.monotonic()
    with engine.begin() as conn:
        conn.exec_driver_sql("INSERT INTO t VALUES (2)")
    waited = time.monotonic() - started
    holder.join()
    with engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT count(*) FROM t").scalar() == 2
    assert waited > 4
    engine.dispose()


def test_a_sqlite_transaction_that_reads_before_writing_waits_for_another_writer(app, tmp_path):
    """A bulk sign-off's chunk reads, then writes. Begun deferred, its first write was refused at
    once ("database is locked") when another user's request held the write lock meanwhile;
    begun IMMEDIATE (before its first savepoint), it waits for that lock instead."""
    import sqlite3
    import threading
    import time

    from sqlalchemy import create_engine, text
    from sqlalchemy.orm import Session

    path = tmp_path / "window.sqlite3"
    engine = create_engine(f"sqlite:///{path}")
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE t (x INTEGER)")
    locked, failures = threading.Event(), []

    def other_request() -> None:
        conn = sqlite3.connect(path, timeout=15, isolation_level=None)
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("INSERT INTO t VALUES (1)")
        locked.set()
        time.sleep(1)
        try:
            conn.execute("COMMIT")
        except sqlite3.OperationalError as e:  # pragma: no cover - the failure being tested
            failures.append(e)
            conn.execute("ROLLBACK")
        conn.close()

    writer = threading.Thread(target=other_request)
    writer.start()
    assert locked.wait(10)
    with Session(engine) as session:
        with session.begin_nested():
            session.execute(text("SELECT count(*) FROM t")).scalar_one()
            session.execute(text("INSERT INTO t VALUES (2)"))
        session.commit()
    writer.join()
    with engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT x FROM t ORDER BY x").scalars().all() == [1, 2]
    assert failures == []
    engine.dispose()
