"""Row messages as a clerk reads them: the column named as their file wrote it, never a code.

A stored message is ``{"field": code, "level": ..., "text": ...}``; the code (``tgl_bh``,
``desa`` ...) stays in the JSON of ``flask registry import --json``. On the pages and in the
rejected-rows workbook the code is replaced by the column header as written in the uploaded
file (the reader's ``Table.columns``), or the register's usual header when the file has no
such column; most texts already start with that name, and then it is not repeated.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from ..registry.normalize import MESSAGE_FIELDS
from ..registry.reader import DEFAULT_LABELS

# Message code -> the reader's canonical fields it may stand for (rt: "RT" or "RT/RW").
_FIELDS_OF_CODE: dict[str, list[str]] = {}
for _canonical, _code in MESSAGE_FIELDS.items():
    _FIELDS_OF_CODE.setdefault(_code, []).append(_canonical)


def column_label(code: str, columns: Mapping[str, str] | None) -> str | None:
    """The header of the column a message code is about, as the clerk's file wrote it."""
    fields = _FIELDS_OF_CODE.get(code, [])
    for canonical in fields:
        written = (columns or {}).get(canonical)
        if written:
            return str(written)
    for canonical in fields:
        if canonical in DEFAULT_LABELS:
            return DEFAULT_LABELS[canonical]
    return None  # not a column (never show the internal code instead)


def _mentions(text: str, label: str) -> bool:
    return re.search(r"(?<!\w)" + re.escape(label) + r"(?!\w)", text, re.IGNORECASE) is not None


def display(message: Mapping[str, Any], columns: Mapping[str, str] | None) -> dict[str, Any]:
    """``{"label": header or None, "text": ..., "level": ...}``; label is None when the text
    already names the column (or the message is not about one column)."""
    text = str(message.get("text", ""))
    label = column_label(str(message.get("field", "")), columns)
    if label and _mentions(text, label):
        label = None
    return {"label": label, "text": text, "level": message.get("level", "error")}


def as_line(message: Mapping[str, Any], columns: Mapping[str, str] | None) -> str:
    shown = display(message, columns)
    return f"{shown['label']}: {shown['text']}" if shown["label"] else shown["text"]
