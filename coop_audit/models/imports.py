"""Register imports: one uploaded file, its preview (dry run) and, once confirmed, its result.

The file itself and the per-row plan live outside the web root, under
``UPLOAD_DIR/imports/<token>/`` (``upload.<ext>``, ``plan.json``); the row here keeps what the
pages list (who, when, counts, what was detected).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from ..timeutil import utcnow
from .core import User, UTCDateTime

IMPORT_STATES = ("previewed", "applied", "blocked")


class ImportBatch(db.Model):
    __tablename__ = "import_batch"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Random, unguessable: the directory name under UPLOAD_DIR/imports and the URL key.
    token: Mapped[str] = mapped_column(String(40), unique=True)
    filename: Mapped[str] = mapped_column(String(255))  # as uploaded (shown, never a path)
    stored_name: Mapped[str] = mapped_column(String(40))  # upload.xlsx | upload.csv
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(12), default="previewed")
    strict: Mapped[bool] = mapped_column(Boolean, default=False)
    # What the reader detected: format, encoding, delimiter, sheet, header row, unknown columns.
    detected: Mapped[Any] = mapped_column(JSON, default=dict)
    # Counts per outcome of the preview, then of the applied import.
    summary: Mapped[Any] = mapped_column(JSON, default=dict)
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    applied_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    applied_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    uploaded_by: Mapped[User | None] = relationship(foreign_keys=[uploaded_by_id])
    applied_by: Mapped[User | None] = relationship(foreign_keys=[applied_by_id])
