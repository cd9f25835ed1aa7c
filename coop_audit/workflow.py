"""The sanction workflow: states, the transition table as data, and one shared state machine.

No Flask app, no database: operations load the cooperative, check who acts (`can_propose`,
`signoff_refusal`), call `fire()`, write the history row and flush. The same table draws the
diagram (`mermaid()`), so the picture cannot drift from the code that runs.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from flask_babel import lazy_gettext as _l
from transitions import EventData, Machine, MachineError

# Roles as stored on User.role (see coop_audit/permissions.py).
ADMIN, INSPECTOR, HEAD, CLERK, VIEWER = "admin", "inspector", "head", "clerk", "viewer"


class Status(str, Enum):
    """A cooperative's status; stored in the database as its lowercase value."""

    ACTIVE = "active"
    DORMANT = "dormant"
    WARNED = "warned"
    LICENSE_REVOKED = "license_revoked"

    @property
    def label(self) -> Any:
        return _STATUS_LABELS[self]

    @property
    def css(self) -> str:
        """Bootstrap 5 badge class."""
        return _STATUS_CSS[self]

    def __str__(self) -> str:
        return self.value


_STATUS_LABELS = {
    Status.ACTIVE: _l("Active"),
    Status.DORMANT: _l("Dormant"),
    Status.WARNED: _l("Warned"),
    Status.LICENSE_REVOKED: _l("License revoked"),
}
_STATUS_CSS = {
    Status.ACTIVE: "text-bg-success",
    Status.DORMANT: "text-bg-secondary",
    Status.WARNED: "text-bg-warning",
    Status.LICENSE_REVOKED: "text-bg-danger",
}


class IllegalMove(Exception):
    """A move refused by the workflow; `message` is user-facing (lazy-translated)."""

    def __init__(
        self, trigger: str, status: str | None, reason: Any = None, guard: str | None = None
    ) -> None:
        self.trigger = trigger
        self.status = status
        self.reason = reason
        self.guard = guard
        super().__init__(trigger, status, guard)

    @property
    def message(self) -> Any:
        move = _MOVE_LABELS.get(self.trigger, self.trigger)
        try:
            status_label: Any = Status(self.status).label
        except ValueError:
            status_label = self.status
        if self.reason is not None:
            return _l(
                "“%(move)s” is refused: %(reason)s",
                move=move,
                reason=self.reason,
            )
        return _l(
            "“%(move)s” is not allowed from the status “%(status)s”.",
            move=move,
            status=status_label,
        )

    def __str__(self) -> str:
        return str(self.message)


# A guard returns None when the move may go ahead, else a user-facing refusal.
Guard = Callable[[Mapping[str, Any]], Any]


def _needs_reason(ctx: Mapping[str, Any]) -> Any:
    reason = ctx.get("reason")
    if not isinstance(reason, str) or not reason.strip():
        return _l("a reason is required.")
    return None


def _needs_document(ctx: Mapping[str, Any]) -> Any:
    if not ctx.get("document"):
        return _l("a supporting document is required.")
    return None


def _objection_window_over(ctx: Mapping[str, Any]) -> Any:
    # UU 25/1992 Pasal 47: the cooperative may object within the window counted from receipt.
    value = ctx.get("objection_window_over")
    if not isinstance(value, bool):
        return _l("the objection window is unknown (no proof of receipt recorded).")
    if not value:
        return _l("the objection window is still open.")
    return None


def _no_blocking_objection(ctx: Mapping[str, Any]) -> Any:
    value = ctx.get("objection_blocks")
    if not isinstance(value, bool):
        return _l("it is unknown whether an objection is pending.")
    if value:
        return _l("an objection is pending or was accepted.")
    return None


@dataclass(frozen=True)
class Move:
    """One row of the transition table."""

    trigger: str
    sources: tuple[str, ...]
    dest: str
    label: Any
    needs_signoff: bool
    proposers: tuple[str, ...]  # may propose; when no sign-off is needed, may perform directly
    signers: tuple[str, ...]  # may sign the proposal (never the proposer: four-eyes rule)
    legal_ground: str  # default citation, in Indonesian as it appears in letters
    requires_document: bool = False
    requires_reason: bool = True
    guards: tuple[tuple[str, Guard], ...] = field(default=())

    def all_guards(self) -> tuple[tuple[str, Guard], ...]:
        base: list[tuple[str, Guard]] = []
        if self.requires_reason:
            base.append(("reason", _needs_reason))
        if self.requires_document:
            base.append(("document", _needs_document))
        return (*base, *self.guards)


_A, _D, _W, _R = (s.value for s in Status)

MOVES: tuple[Move, ...] = (
    Move(
        trigger="record_dormancy",
        sources=(_A,),
        dest=_D,
        label=_l("Record dormancy"),
        needs_signoff=False,
        proposers=(INSPECTOR, ADMIN),  # also the register import, acting as the importing user
        signers=(),
        legal_ground=(
            "Permenkop 9/2018: tidak menyelenggarakan RAT 3 tahun buku berturut-turut; "
            "PP 17/1994 Pasal 3: tidak melakukan kegiatan usaha 2 tahun berturut-turut"
        ),
    ),
    Move(
        trigger="warn",
        sources=(_D,),
        dest=_W,
        label=_l("Warn"),
        needs_signoff=True,
        proposers=(INSPECTOR,),
        signers=(HEAD,),
        legal_ground="UU 25/1992 Pasal 47: pemberitahuan rencana pencabutan dan hak keberatan",
    ),
    Move(
        trigger="revoke",
        sources=(_W,),
        dest=_R,
        label=_l("Revoke license"),
        needs_signoff=True,
        proposers=(INSPECTOR, CLERK),
        signers=(HEAD,),
        legal_ground=(
            "UU 25/1992 Pasal 47; PP 17/1994 Pasal 3: jangka waktu keberatan berakhir "
            "tanpa keberatan yang diterima"
        ),
        guards=(
            ("objection_window_over", _objection_window_over),
            ("objection_blocks", _no_blocking_objection),
        ),
    ),
    Move(
        trigger="reactivate",
        sources=(_D, _W),
        dest=_A,
        label=_l("Reactivate"),
        needs_signoff=True,
        proposers=(INSPECTOR,),
        signers=(HEAD,),
        legal_ground=(
            "Permenkop 9/2018: RAT diselenggarakan dan kegiatan usaha berjalan kembali, "
            "atau keberatan diterima"
        ),
    ),
    Move(
        trigger="reinstate",
        sources=(_R,),
        dest=_A,
        label=_l("Reinstate"),
        needs_signoff=False,
        proposers=(HEAD,),
        signers=(),
        legal_ground=(
            "UU 25/1992 Pasal 47: pencabutan dibatalkan karena kekeliruan terbukti "
            "atau keputusan dibatalkan"
        ),
        requires_document=True,
    ),
)

_BY_TRIGGER: dict[str, Move] = {m.trigger: m for m in MOVES}
_MOVE_LABELS: dict[str, Any] = {m.trigger: m.label for m in MOVES}
TRIGGERS: tuple[str, ...] = tuple(_BY_TRIGGER)


def _condition(name: str, guard: Guard) -> Callable[[EventData], bool]:
    def check(event: EventData) -> bool:
        refusal = guard(event.kwargs)
        if refusal is not None:
            # Raised before the state changes, so the status stays as it was.
            raise IllegalMove(event.event.name, event.state.name, reason=refusal, guard=name)
        return True

    check.__name__ = f"guard_{name}"
    return check


machine = Machine(
    model=None,
    states=[s.value for s in Status],
    transitions=[
        {
            "trigger": m.trigger,
            "source": list(m.sources),
            "dest": m.dest,
            "conditions": [_condition(n, g) for n, g in m.all_guards()],
        }
        for m in MOVES
    ],
    initial=None,
    auto_transitions=False,  # to_<state> would bypass every guard
    send_event=True,
    model_attribute="status",
)


class _Cursor:
    """What the machine actually drives: it never touches (or keeps) the caller's object."""

    __slots__ = ("status",)

    def __init__(self, status: str) -> None:
        self.status = status


def _status_value(value: Any) -> str:
    return value.value if isinstance(value, Enum) else value


def move_for(trigger: str) -> Move:
    """The table row for a trigger; KeyError for an unknown trigger."""
    return _BY_TRIGGER[trigger]


def allowed_triggers(status: str) -> list[str]:
    """Triggers whose source includes `status`, in table order (guards not evaluated)."""
    value = _status_value(status)
    return [m.trigger for m in MOVES if value in m.sources]


def refusal(status: str, trigger: str, **ctx: Any) -> IllegalMove | None:
    """Why `trigger` would be refused from `status` with `ctx`, or None if it would succeed."""
    value = _status_value(status)
    move = _BY_TRIGGER.get(trigger)
    if move is None:
        return IllegalMove(trigger, value, reason=_l("unknown move."), guard="unknown_trigger")
    if value not in move.sources:
        return IllegalMove(trigger, value)
    for name, guard in move.all_guards():
        reason = guard(ctx)
        if reason is not None:
            return IllegalMove(trigger, value, reason=reason, guard=name)
    return None


def fire(obj: Any, trigger: str, **ctx: Any) -> None:
    """Apply `trigger` to `obj.status` or raise IllegalMove; `obj` is changed only on success.

    `obj` is any object with a `status` attribute holding a Status value (a plain string or a
    Status member; the same type is written back). Context keys used by guards: `reason` (all
    moves), `document` (reinstate), `objection_window_over` and `objection_blocks` (revoke).
    """
    current = obj.status
    value = _status_value(current)
    if trigger not in _BY_TRIGGER:
        raise IllegalMove(trigger, value, reason=_l("unknown move."), guard="unknown_trigger")
    if value not in machine.states:
        raise IllegalMove(trigger, value, reason=_l("the current status is unknown."))
    cursor = _Cursor(value)
    try:
        ok = machine.events[trigger].trigger(cursor, **ctx)
    except MachineError as err:
        raise IllegalMove(trigger, value) from err
    if not ok:  # a condition returned False without saying why
        raise IllegalMove(trigger, value, reason=_l("a condition was not met."))
    new = cursor.status
    obj.status = Status(new) if isinstance(current, Status) else new


def can_propose(role: str, trigger: str) -> bool:
    """May a user with `role` propose (or, without sign-off, perform) this move?"""
    return role in move_for(trigger).proposers


def signoff_refusal(trigger: str, signer_role: str, signer_id: Any, proposer_id: Any) -> Any:
    """None when this signer may sign this proposal; else a user-facing refusal."""
    move = move_for(trigger)
    if not move.needs_signoff:
        return _l("This move does not need a sign-off.")
    if signer_role not in move.signers:
        return _l("Only the head of office can sign this proposal.")
    if signer_id == proposer_id:
        return _l("You cannot sign your own proposal; another head must sign it.")
    return None


def mermaid(current: str | None = None, *, translate_labels: bool = False) -> str:
    """Mermaid `stateDiagram-v2` source drawn from MOVES; `current` is highlighted.

    With `translate_labels`, state and move labels go through the active locale (needs an app
    or request context to be translated; outside one they stay English).
    """
    lines = ["stateDiagram-v2", "  direction LR"]
    for s in Status:
        name = str(s.label) if translate_labels else s.value
        lines.append(f'  state "{_mermaid_text(name)}" as {s.value}')
    for m in MOVES:
        text = str(m.label) if translate_labels else m.trigger
        if m.needs_signoff:
            text += " ✎"
        for src in m.sources:
            lines.append(f"  {src} --> {m.dest}: {_mermaid_text(text)}")
    current_value = _status_value(current) if current else None
    if current_value in {s.value for s in Status}:
        lines.append(
            "  classDef current fill:#ffc107,stroke:#333,stroke-width:3px,font-weight:bold"
        )
        lines.append(f"  class {current_value} current")
    return "\n".join(lines) + "\n"


def _mermaid_text(text: str) -> str:
    # Quotes, colons and semicolons break mermaid's state-diagram parser.
    return text.replace('"', "'").replace(":", " ").replace(";", ",")
