"""All ORM models. Importing this package imports every module in it, registering all tables.

Feature models live in their own module here (`models/letters.py`, `models/workflow.py`, ...);
import them from that module.
"""

import importlib
import pkgutil

from .core import (  # noqa: F401
    BENTUK,
    JENIS,
    ROLES,
    STATUSES,
    Cluster,
    Cooperative,
    Desa,
    HistoryEvent,
    HistoryHead,
    Kecamatan,
    LoginAttempt,
    Setting,
    User,
    UTCDateTime,
)
from .letters import LETTER_KINDS, Letter, LetterSequence  # noqa: F401

for _module in pkgutil.iter_modules(__path__):
    importlib.import_module(f"{__name__}.{_module.name}")


def include_object_for(dialect: str):
    """Alembic's include_object for one database dialect: leaves out schema objects declared
    for another one with `.ddl_if(dialect=...)` (PostgreSQL's trigram index on SQLite), so
    autogenerate and the schema test neither ask for them nor drop them."""

    def include(obj, name, type_, reflected, compare_to) -> bool:
        only = getattr(obj, "_ddl_if", None)  # what SQLAlchemy keeps of .ddl_if(...)
        if only is None or only.dialect is None:
            return True
        allowed = (only.dialect,) if isinstance(only.dialect, str) else tuple(only.dialect)
        return dialect in allowed

    return include
