"""Flask extensions, created unbound and initialised in create_app."""

from flask_babel import Babel
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect
from sqlalchemy import MetaData, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase

# Stable constraint names so Alembic migrations are the same on SQLite and PostgreSQL.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


db = SQLAlchemy(model_class=Base)
migrate = Migrate()
login_manager = LoginManager()
csrf = CSRFProtect()
babel = Babel()


@event.listens_for(Engine, "savepoint")
def _sqlite_transaction_before_savepoint(conn, name) -> None:
    """On SQLite, a SAVEPOINT always nests inside a real transaction.

    Python's sqlite3 module begins a transaction lazily, at the first write. A SAVEPOINT issued
    before any write (a bulk sign-off reads first) would itself be the outermost transaction,
    and its RELEASE would commit: a later failure could no longer roll that part back.

    IMMEDIATE: the write lock is taken now, waiting for it (busy_timeout) if another writer
    holds it. A deferred transaction that reads first and then writes is refused at once
    ("database is locked") when another writer got the lock in between, whatever the timeout.
    """
    if conn.dialect.name == "sqlite" and not conn.connection.dbapi_connection.in_transaction:
        conn.exec_driver_sql("BEGIN IMMEDIATE")


# How long a SQLite writer waits for another's transaction before giving up ("database is
# locked"). The default 5 s is shorter than a chunk of a bulk sign-off can hold the lock on a
# slow machine; gunicorn's request timeout (30 s) stays well above this.
SQLITE_BUSY_TIMEOUT_MS = 15_000


@event.listens_for(Engine, "connect")
def _sqlite_busy_timeout(dbapi_connection, connection_record) -> None:
    if type(dbapi_connection).__module__.startswith("sqlite3"):
        dbapi_connection.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
