"""All ORM models; importing this package registers every table on the metadata."""

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
