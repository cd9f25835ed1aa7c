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
