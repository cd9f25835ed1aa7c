"""`flask registry import` and `flask registry export` as the office runs them."""

from __future__ import annotations

import json

from sqlalchemy import func, select

from coop_audit import history
from coop_audit.extensions import db
from coop_audit.models import Cooperative
from tests.conftest import SHARED

SAMPLE = SHARED / "samples" / "register-karanganyar.xlsx"
MESSY = SHARED / "samples" / "register-messy.csv"
SUMMARY_KEYS = [
    "file",
    "rows",
    "created",
    "updated",
    "unchanged",
    "rejected",
    "duplicates",
    "warnings",
    "results",
]


def _status_counts() -> dict[str, int]:
    rows = db.session.execute(
        select(Cooperative.status, func.count()).group_by(Cooperative.status)
    ).all()
    return dict(rows)


def _import(runner, *args: str):
    result = runner.invoke(args=["registry", "import", *args])
    parsed = "--json" in args and result.exit_code in (0, 3)
    return result, (json.loads(result.stdout) if parsed else None)


def test_the_sample_register_imports_into_an_empty_database_then_is_all_unchanged(app, runner):
    first, summary = _import(runner, str(SAMPLE), "--json")
    assert first.exit_code == 0, first.output
    assert list(summary) == SUMMARY_KEYS
    assert summary["file"] == "register-karanganyar.xlsx"
    assert (summary["rows"], summary["created"], summary["rejected"]) == (1163, 1163, 0)
    assert _status_counts() == {"active": 250, "dormant": 913}
    row = summary["results"][0]
    assert list(row) == ["row", "outcome", "messages"]
    assert row["row"] == 5 and row["outcome"] == "created"  # the spreadsheet's own row number

    second, again = _import(runner, str(SAMPLE), "--json")
    assert second.exit_code == 0
    assert again["unchanged"] == 1163
    assert again["created"] == again["updated"] == again["rejected"] == 0
    assert {r["outcome"] for r in again["results"]} == {"unchanged"}
    assert history.verify().ok


def test_rejected_rows_exit_3_and_name_the_field(app, runner):
    result, summary = _import(runner, str(MESSY), "--json")
    assert result.exit_code == 3
    assert summary["rejected"] == 6 and summary["duplicates"] == 1
    rejected = [r for r in summary["results"] if r["outcome"] == "rejected"]
    assert all(
        m["field"] and m["level"] in ("error", "warning") and m["text"]
        for r in rejected
        for m in r["messages"]
    )
    assert db.session.execute(select(func.count()).select_from(Cooperative)).scalar_one() == 8


def test_dry_run_and_strict_write_nothing(app, runner):
    dry, summary = _import(runner, str(MESSY), "--dry-run", "--json")
    assert dry.exit_code == 3 and summary["created"] == 8
    strict, _summary = _import(runner, str(MESSY), "--strict", "--json")
    assert strict.exit_code == 3
    assert db.session.execute(select(func.count()).select_from(Cooperative)).scalar_one() == 0


def test_an_unreadable_file_exits_2_with_a_message(app, runner, tmp_path):
    for name, data in (
        ("acak.xlsx", b"PK\x03\x04" + bytes(range(256)) * 10),
        ("kosong.csv", b""),
        ("lama.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600),
    ):
        path = tmp_path / name
        path.write_bytes(data)
        result, _summary = _import(runner, str(path), "--json")
        assert result.exit_code == 2, (name, result.output)
        assert "Traceback" not in result.output and "Error:" in result.output
    missing, _summary = _import(runner, str(tmp_path / "tidak-ada.xlsx"))
    assert missing.exit_code == 2
    assert db.session.execute(select(func.count()).select_from(Cooperative)).scalar_one() == 0


def test_the_importing_user_is_named_in_the_history(app, runner, users):
    result, summary = _import(runner, str(MESSY), "--user", "clerk", "--json")
    assert result.exit_code == 3
    coop = db.session.execute(select(Cooperative).limit(1)).scalar_one()
    assert {e.actor_id for e in history.timeline(coop.id)} == {users["clerk"].id}
    bad = runner.invoke(args=["registry", "import", str(MESSY), "--user", "nobody"])
    assert bad.exit_code == 1 and "nobody" in bad.output
    viewer = runner.invoke(args=["registry", "import", str(MESSY), "--user", "viewer"])
    assert viewer.exit_code == 1


def test_export_then_import_is_all_unchanged(app, runner, tmp_path):
    assert _import(runner, str(SAMPLE), "--json")[0].exit_code == 0
    for name in ("register.xlsx", "register.csv"):
        out = tmp_path / name
        exported = runner.invoke(args=["registry", "export", str(out)])
        assert exported.exit_code == 0 and "1163" in exported.output
        result, summary = _import(runner, str(out), "--json")
        assert result.exit_code == 0, name
        assert summary["unchanged"] == 1163 and summary["rows"] == 1163, name


def test_export_filters_by_status_and_kecamatan(app, runner, tmp_path, make_coop):
    make_coop(name="KSP Jaten Aktif", desa_kode="33.13.11.2001")
    make_coop(name="KSP Jaten Tidur", desa_kode="33.13.11.2002", status="dormant")
    make_coop(name="KSP Colomadu", desa_kode="33.13.12.2001")
    out = tmp_path / "jaten.csv"
    result = runner.invoke(
        args=["registry", "export", str(out), "--status", "active", "--kecamatan", "KEC. JATEN"]
    )
    assert result.exit_code == 0, result.output
    text = out.read_bytes().decode("utf-8-sig")
    assert "KSP Jaten Aktif" in text and "Tidur" not in text and "Colomadu" not in text
    bad = runner.invoke(args=["registry", "export", str(out), "--kecamatan", "Atlantis"])
    assert bad.exit_code == 1 and "Atlantis" in bad.output
    wrong = runner.invoke(args=["registry", "export", str(tmp_path / "x.pdf")])
    assert wrong.exit_code == 1
