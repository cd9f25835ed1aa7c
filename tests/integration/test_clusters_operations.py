"""Cluster taxonomy, bulk assignment and the shortlist operations against a real database."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from coop_audit import history, settings
from coop_audit.clusters import operations as ops
from coop_audit.extensions import db
from coop_audit.models import Cluster, Cooperative, HistoryEvent
from coop_audit.models.clusters import Shortlist
from coop_audit.permissions import PermissionDenied
from coop_audit.registry.query import RegisterFilter

TODAY = date(2026, 12, 3)


def cluster(code: str) -> Cluster:
    return db.session.execute(select(Cluster).where(Cluster.code == code)).scalar_one()


def events(kind: str) -> list[HistoryEvent]:
    return list(db.session.execute(select(HistoryEvent).where(HistoryEvent.kind == kind)).scalars())


def test_bulk_assignment_changes_only_the_filtered_list_with_one_history_row_each(users, make_coop):
    jaten = [make_coop(desa_kode="33.13.11.2001") for _ in range(3)]
    other = make_coop(desa_kode="33.13.01.2001")
    target = cluster("kuliner")
    flt = RegisterFilter.from_args({"kecamatan": "33.13.11"})
    n = ops.assign_cluster(flt, target.id, users["clerk"])
    db.session.commit()
    assert n == 3
    for c in jaten:
        assert db.session.get(Cooperative, c.id).cluster_id == target.id
    assert db.session.get(Cooperative, other.id).cluster_id is None
    rows = events("cluster_assigned")
    assert sorted(e.cooperative_id for e in rows) == sorted(c.id for c in jaten)
    assert rows[0].data["to"] == "kuliner" and rows[0].actor_id == users["clerk"].id
    assert history.verify().ok
    # Again: nothing changes, nothing is recorded.
    assert ops.assign_cluster(flt, target.id, users["clerk"]) == 0


def test_viewer_and_head_cannot_assign_clusters(users, make_coop):
    make_coop()
    for role in ("viewer", "head"):
        with pytest.raises(PermissionDenied):
            ops.assign_cluster(RegisterFilter(), cluster("kuliner").id, users[role])


def test_assigning_a_deactivated_cluster_is_refused(users, make_coop):
    make_coop()
    c = cluster("kuliner")
    ops.update_cluster(c, c.name, c.color, False, users["admin"])
    with pytest.raises(ops.ClusterError) as e:
        ops.assign_cluster(RegisterFilter(), c.id, users["clerk"])
    assert e.value.field == "cluster"


def test_a_cluster_in_use_cannot_be_deleted_but_an_unused_one_can(users, make_coop):
    used = cluster("kuliner")
    make_coop(cluster_id=used.id)
    with pytest.raises(ops.ClusterError) as e:
        ops.delete_cluster(used, users["admin"])
    assert "1" in e.value.message
    db.session.rollback()
    new = ops.create_cluster("batik", "Batik tulis", "#123456", users["admin"])
    db.session.commit()
    ops.delete_cluster(new, users["admin"])
    db.session.commit()
    assert db.session.execute(select(Cluster).where(Cluster.code == "batik")).first() is None
    assert [e.data["action"] for e in events("cluster_taxonomy_changed")] == ["created", "deleted"]


def test_taxonomy_is_admin_only_and_validates_input(users):
    with pytest.raises(PermissionDenied):
        ops.create_cluster("x", "X", "#000000", users["clerk"])
    with pytest.raises(ops.ClusterError) as e:
        ops.create_cluster("Bad Code!", "X", "#000000", users["admin"])
    assert e.value.field == "code"
    with pytest.raises(ops.ClusterError) as e:
        ops.create_cluster("ok", "Kuliner baru", "red", users["admin"])
    assert e.value.field == "color"
    with pytest.raises(ops.ClusterError) as e:
        ops.create_cluster("ok", "makanan siap saji/KULINER", "#000000", users["admin"])
    assert e.value.field == "name"


def test_move_swaps_the_display_order(users):
    ordered = lambda: [  # noqa: E731
        c.code for c in db.session.execute(select(Cluster).order_by(Cluster.sort_order)).scalars()
    ]
    before = ordered()
    ops.move_cluster(cluster(before[1]), "up", users["admin"])
    after = ordered()
    assert after[:2] == [before[1], before[0]] and after[2:] == before[2:]


def test_pin_and_exclude_need_a_reason_and_are_recorded(users, make_coop):
    c = make_coop(cluster_id=cluster("kuliner").id, status="dormant")
    with pytest.raises(ops.ClusterError) as e:
        ops.set_override(c, "pin", "  ", users["head"])
    assert e.value.field == "reason"
    with pytest.raises(PermissionDenied):
        ops.set_override(c, "pin", "pilot village", users["clerk"])
    ops.set_override(c, "pin", "pilot village", users["head"])
    db.session.commit()
    rows, _ = ops.ranked(cluster("kuliner"), TODAY)
    assert rows[0].candidate.id == c.id and rows[0].rank_reason["code"] == "pinned"
    ev = events("shortlist_pinned")[0]
    assert ev.cooperative_id == c.id and ev.reason == "pilot village"
    ops.set_override(c, "exclude", "already funded in 2026", users["inspector"])
    db.session.commit()
    assert list(ops.active_overrides([c.id]).values())[0].action == "exclude"
    rows, _ = ops.ranked(cluster("kuliner"), TODAY)
    assert rows[0].rank_reason["code"] == "excluded"


def test_changing_the_criteria_setting_changes_the_ranked_list(users, make_coop):
    kul = cluster("kuliner")
    located = make_coop(name="Located", cluster_id=kul.id, lat=-7.56, lng=110.89)
    unlocated = make_coop(name="Unlocated", cluster_id=kul.id)
    rows, facts_available = ops.ranked(kul, TODAY)
    assert [r.qualifies for r in rows] == [True, True]
    assert rows[0].candidate.id == located.id  # one more point for its coordinates

    crit = ops.criteria()
    crit["coordinates"]["required"] = True
    ops.save_criteria(crit, users["admin"])
    db.session.commit()
    rows, _ = ops.ranked(kul, TODAY)
    by_id = {r.candidate.id: r for r in rows}
    assert by_id[located.id].qualifies and not by_id[unlocated.id].qualifies
    assert by_id[unlocated.id].rank_reason == {"code": "not_qualified", "failed": ["coordinates"]}
    assert settings.get("shortlist.criteria")["coordinates"]["required"] is True
    assert events("setting_changed")


def test_criteria_cannot_all_be_disabled_or_changed_by_others(users):
    with pytest.raises(ops.ClusterError):
        ops.save_criteria({c: {"enabled": False} for c in ops.sl.CRITERIA}, users["admin"])
    with pytest.raises(PermissionDenied):
        ops.save_criteria({}, users["head"])


def test_saved_shortlist_keeps_the_day_and_the_reasons(users, make_coop):
    kul = cluster("kuliner")
    make_coop(name="A", cluster_id=kul.id)
    make_coop(name="B", cluster_id=kul.id, status="dormant")
    snap = ops.save_shortlist(kul, TODAY, users["inspector"])
    db.session.commit()
    snap = db.session.get(Shortlist, snap.id)
    assert snap.taken_on == TODAY
    assert [(e.name, e.rank, e.qualifies) for e in snap.entries] == [
        ("A", 1, True),
        ("B", 2, False),
    ]
    assert snap.entries[1].rank_reason["failed"] == ["active"]
    assert {b["code"] for b in snap.entries[0].breakdown} == set(ops.sl.CRITERIA)
    assert events("shortlist_saved")[0].data["qualified"] == 1
    empty = cluster("fesyen")
    with pytest.raises(ops.ClusterError):
        ops.save_shortlist(empty, TODAY, users["inspector"])
    assert db.session.execute(select(func.count()).select_from(Shortlist)).scalar_one() == 1
