"""The transition table: every state x trigger is legal or refused with a message."""

from __future__ import annotations

import itertools
from types import SimpleNamespace
from typing import Any

import pytest

from coop_audit import workflow
from coop_audit.workflow import (
    MOVES,
    TRIGGERS,
    IllegalMove,
    Status,
    allowed_triggers,
    can_propose,
    fire,
    mermaid,
    move_for,
    refusal,
    signoff_refusal,
)

# Context that satisfies every guard, so only the state decides.
GOOD_CTX: dict[str, Any] = {
    "reason": "audit 12/2026",
    "document": "sk-pembatalan.pdf",
    "objection_window_over": True,
    "objection_blocks": False,
}

EXPECTED = {
    ("active", "record_dormancy"): "dormant",
    ("dormant", "warn"): "warned",
    ("warned", "revoke"): "license_revoked",
    ("dormant", "reactivate"): "active",
    ("warned", "reactivate"): "active",
    ("license_revoked", "reinstate"): "active",
}


class Coop:
    def __init__(self, status: Any) -> None:
        self.status = status


@pytest.mark.parametrize(
    ("status", "trigger"), list(itertools.product([s.value for s in Status], TRIGGERS))
)
def test_every_state_and_trigger_is_legal_or_refused_with_message(status: str, trigger: str):
    coop = Coop(status)
    if (status, trigger) in EXPECTED:
        fire(coop, trigger, **GOOD_CTX)
        assert coop.status == EXPECTED[(status, trigger)]
        assert trigger in allowed_triggers(status)
        assert refusal(status, trigger, **GOOD_CTX) is None
    else:
        with pytest.raises(IllegalMove) as info:
            fire(coop, trigger, **GOOD_CTX)
        assert coop.status == status
        assert info.value.trigger == trigger
        assert info.value.status == status
        assert info.value.guard is None
        assert "not allowed from the status" in str(info.value)
        assert trigger not in allowed_triggers(status)
        assert refusal(status, trigger, **GOOD_CTX) is not None


def test_table_has_exactly_the_expected_moves():
    table = {(src, m.trigger): m.dest for m in MOVES for src in m.sources}
    assert table == EXPECTED


def test_machine_runs_the_same_table_as_moves():
    machine_table = {
        (src, name): t.dest
        for name, event in workflow.machine.events.items()
        for src, transitions in event.transitions.items()
        for t in transitions
    }
    assert machine_table == EXPECTED


def test_no_auto_transitions_bypass_the_guards():
    assert not any(name.startswith("to_") for name in workflow.machine.events)


def test_unknown_trigger_is_refused():
    coop = Coop("active")
    with pytest.raises(IllegalMove) as info:
        fire(coop, "dissolve", **GOOD_CTX)
    assert info.value.guard == "unknown_trigger"
    assert coop.status == "active"


def test_unknown_current_status_is_refused_not_crashed():
    coop = Coop("tidak aktif")
    with pytest.raises(IllegalMove):
        fire(coop, "warn", **GOOD_CTX)
    assert coop.status == "tidak aktif"


@pytest.mark.parametrize(
    ("window_over", "blocks", "guard"),
    [
        (False, False, "objection_window_over"),
        (None, False, "objection_window_over"),
        ("yes", False, "objection_window_over"),
        (True, True, "objection_blocks"),
        (True, None, "objection_blocks"),
    ],
)
def test_revoke_refused_until_window_over_without_blocking_objection(window_over, blocks, guard):
    coop = Coop("warned")
    ctx = {
        "reason": "no objection",
        "objection_window_over": window_over,
        "objection_blocks": blocks,
    }
    with pytest.raises(IllegalMove) as info:
        fire(coop, "revoke", **ctx)
    assert info.value.guard == guard
    assert coop.status == "warned"
    assert refusal("warned", "revoke", **ctx).guard == guard


def test_revoke_without_clock_context_names_the_missing_guard():
    coop = Coop("warned")
    with pytest.raises(IllegalMove) as info:
        fire(coop, "revoke", reason="x")
    assert info.value.guard == "objection_window_over"
    assert "objection window" in str(info.value)


def test_revoke_succeeds_when_window_over_and_no_objection():
    coop = Coop("warned")
    fire(coop, "revoke", reason="x", objection_window_over=True, objection_blocks=False)
    assert coop.status == "license_revoked"


@pytest.mark.parametrize("reason", [None, "", "   ", 42])
@pytest.mark.parametrize(("status", "trigger"), sorted(EXPECTED))
def test_every_move_needs_a_reason(status: str, trigger: str, reason: Any):
    coop = Coop(status)
    ctx = {**GOOD_CTX, "reason": reason}
    with pytest.raises(IllegalMove) as info:
        fire(coop, trigger, **ctx)
    assert info.value.guard == "reason"
    assert coop.status == status


@pytest.mark.parametrize("document", [None, "", b""])
def test_reinstate_needs_a_document(document: Any):
    coop = Coop("license_revoked")
    with pytest.raises(IllegalMove) as info:
        fire(coop, "reinstate", reason="decision overturned", document=document)
    assert info.value.guard == "document"
    assert coop.status == "license_revoked"


def test_firing_adds_no_attributes_to_the_object():
    coop = SimpleNamespace(status="active", name="KSU Maju")
    before = set(vars(coop))
    fire(coop, "record_dormancy", reason="audit")
    assert set(vars(coop)) == before
    assert coop.status == "dormant"


def test_firing_works_on_a_slotted_object_with_flask_login_is_active():
    class User:
        __slots__ = ("status",)
        is_active = True  # Flask-Login's property must not be shadowed or consulted

        def __init__(self) -> None:
            self.status = "active"

    obj = User()
    fire(obj, "record_dormancy", reason="audit")
    assert obj.status == "dormant"
    assert User.is_active is True


def test_failing_guard_leaves_object_untouched():
    coop = SimpleNamespace(status="warned")
    with pytest.raises(IllegalMove):
        fire(coop, "revoke", reason="x", objection_window_over=False, objection_blocks=False)
    assert vars(coop) == {"status": "warned"}


def test_status_enum_member_is_accepted_and_type_is_kept():
    coop = Coop(Status.DORMANT)
    fire(coop, "warn", reason="no RAT")
    assert coop.status is Status.WARNED


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        ("active", ["record_dormancy"]),
        ("dormant", ["warn", "reactivate"]),
        ("warned", ["revoke", "reactivate"]),
        ("license_revoked", ["reinstate"]),
        (Status.WARNED, ["revoke", "reactivate"]),
    ],
)
def test_allowed_triggers_per_status(status, expected):
    assert allowed_triggers(status) == expected


def test_illegal_move_message_names_move_and_status():
    err = refusal("license_revoked", "warn")
    assert str(err) == "“Warn” is not allowed from the status “License revoked”."


def test_status_labels_and_css():
    assert [str(s.label) for s in Status] == ["Active", "Dormant", "Warned", "License revoked"]
    assert all(s.css.startswith("text-bg-") for s in Status)
    assert Status("license_revoked") is Status.LICENSE_REVOKED
    assert Status.ACTIVE == "active"


@pytest.mark.parametrize(
    ("trigger", "signoff", "proposers", "signers", "ground"),
    [
        ("record_dormancy", False, ("inspector", "admin"), (), "Permenkop 9/2018"),
        ("warn", True, ("inspector",), ("head",), "UU 25/1992 Pasal 47"),
        ("revoke", True, ("inspector", "clerk"), ("head",), "UU 25/1992 Pasal 47"),
        ("reactivate", True, ("inspector",), ("head",), "Permenkop 9/2018"),
        ("reinstate", False, ("head",), (), "UU 25/1992 Pasal 47"),
    ],
)
def test_move_roles_and_legal_grounds(trigger, signoff, proposers, signers, ground):
    move = move_for(trigger)
    assert move.needs_signoff is signoff
    assert move.proposers == proposers
    assert move.signers == signers
    assert ground in move.legal_ground


def test_only_reinstate_requires_a_document():
    assert [m.trigger for m in MOVES if m.requires_document] == ["reinstate"]


@pytest.mark.parametrize(
    ("role", "trigger", "allowed"),
    [
        ("inspector", "warn", True),
        ("head", "warn", False),
        ("clerk", "warn", False),
        ("clerk", "revoke", True),
        ("viewer", "record_dormancy", False),
        ("admin", "record_dormancy", True),
        ("inspector", "reinstate", False),
        ("head", "reinstate", True),
    ],
)
def test_who_may_propose(role, trigger, allowed):
    assert can_propose(role, trigger) is allowed


@pytest.mark.parametrize(
    ("trigger", "role", "signer", "proposer", "ok"),
    [
        ("warn", "head", 2, 1, True),
        ("warn", "head", 1, 1, False),  # four-eyes: never your own proposal
        ("warn", "inspector", 2, 1, False),
        ("revoke", "clerk", 2, 1, False),
        ("reactivate", "head", 3, 1, True),
        ("record_dormancy", "head", 2, 1, False),  # nothing to sign
    ],
)
def test_signoff_rules(trigger, role, signer, proposer, ok):
    assert (signoff_refusal(trigger, role, signer, proposer) is None) is ok


def test_mermaid_draws_every_move_and_highlights_current():
    text = mermaid("warned")
    assert text.startswith("stateDiagram-v2")
    for (src, trigger), dest in EXPECTED.items():
        assert f"{src} --> {dest}: {trigger}" in text
    assert "class warned current" in text
    assert "class" not in mermaid().split("license_revoked --> active")[1]
