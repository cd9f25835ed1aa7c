"""Helpers for sanction workflow tests: a warning letter row without the letters feature."""

from __future__ import annotations

import hashlib
import itertools
from datetime import date

from coop_audit.extensions import db
from coop_audit.models.letters import Letter
from coop_audit.timeutil import utcnow

_seq = itertools.count(1)


def add_warning_letter(
    coop,
    signer,
    *,
    issued_on: date,
    receipt_date: date | None = None,
    announced_on: date | None = None,
    proposal_id: int | None = None,
) -> Letter:
    """A minimal issued warning (the letters feature renders the real one)."""
    n = next(_seq)
    letter = Letter(
        kind="warning",
        year=issued_on.year,
        seq=n,
        number=f"TEST/{n}/{issued_on.year}/{coop.id}",
        cooperative_id=coop.id,
        proposal_id=proposal_id,
        issued_on=issued_on,
        issued_at=utcnow(),
        signer_id=signer.id,
        snapshot={},
        pdf=b"%PDF-test",
        sha256=hashlib.sha256(b"%PDF-test").hexdigest(),
        token=f"tok-{coop.id}-{n}",
        short_code=f"T{coop.id}X{n}",
        receipt_date=receipt_date,
        announced_on=announced_on,
    )
    db.session.add(letter)
    db.session.flush()
    return letter
