"""Where an uploaded register and its plan are kept: UPLOAD_DIR/imports/<token>/ (not served)."""

from __future__ import annotations

import hashlib
import json
import secrets
import shutil
from pathlib import Path
from typing import Any

from flask import current_app

from ..models.imports import ImportBatch
from .operations import ImportResult

PLAN = "plan.json"  # the preview (dry run)
RESULT = "result.json"  # what the confirmed import did


def root() -> Path:
    return Path(current_app.config["UPLOAD_DIR"]) / "imports"


def batch_dir(batch: ImportBatch) -> Path:
    # The token is ours (hex), never user input, but refuse anything else anyway.
    if not batch.token.isalnum():
        raise ValueError("bad token")
    return root() / batch.token


def new_token() -> str:
    return secrets.token_hex(16)


def save_upload(token: str, data: bytes, fmt: str) -> tuple[str, str]:
    """Write the uploaded bytes; returns (stored file name, sha256)."""
    folder = root() / token
    folder.mkdir(parents=True, exist_ok=False)
    stored = f"upload.{fmt}"
    (folder / stored).write_bytes(data)
    return stored, hashlib.sha256(data).hexdigest()


def remove(token: str) -> None:
    if token.isalnum():
        shutil.rmtree(root() / token, ignore_errors=True)


def read_upload(batch: ImportBatch) -> bytes:
    return (batch_dir(batch) / batch.stored_name).read_bytes()


def result_payload(result: ImportResult) -> dict[str, Any]:
    return {
        "summary": result.counts_summary(),
        "results": [
            {
                "row": r.row,
                "outcome": r.outcome,
                "name": r.name,
                "coop_id": r.coop_id,
                "of_row": r.of_row,
                "changes": r.changes,
                "messages": [m.as_dict() for m in r.messages],
            }
            for r in result.results
        ],
    }


def write_json(batch: ImportBatch, name: str, payload: dict[str, Any]) -> None:
    path = batch_dir(batch) / name
    tmp = path.with_suffix(".part")
    tmp.write_text(json.dumps(payload, ensure_ascii=False, default=str), encoding="utf-8")
    tmp.replace(path)


def read_results(batch: ImportBatch) -> dict[str, Any]:
    """The applied result when there is one, else the preview."""
    folder = batch_dir(batch)
    for name in (RESULT, PLAN):
        path = folder / name
        if path.exists():
            return json.loads(path.read_text(encoding="utf-8"))
    return {"summary": batch.summary or {}, "results": []}
