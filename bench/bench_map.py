"""Benchmark the map's data endpoint (/klaster/peta/data) at regency and national scale.

Prepare a database (once), then time typical map requests through the full Flask stack:

    DATABASE_URL=sqlite:////tmp/big.sqlite3 .venv/bin/python bench/bench_map.py \
        --prepare 200000 --active 40000
    DATABASE_URL=sqlite:////tmp/big.sqlite3 .venv/bin/python bench/bench_map.py

`--prepare` creates the schema (db.create_all(), or `flask setup` when the migration is current)
and seeds demo data; a viewer account "bench-map" is added for logging in.
"""

from __future__ import annotations

import argparse
import secrets
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import func, select

from coop_audit import create_app
from coop_audit.extensions import db
from coop_audit.models import Cooperative, User

# (label, query string): what a user's map asks for.
CASES = [
    ("regency view, active (z=11)", "status=active&z=11&bbox=110.75,-7.85,111.25,-7.45"),
    ("regency view, all statuses (z=11)", "status=all&z=11&bbox=110.75,-7.85,111.25,-7.45"),
    (
        "kecamatan Jaten, active (z=13)",
        "status=active&kecamatan=33.13.11&z=13&bbox=110.85,-7.60,110.95,-7.52",
    ),
    (
        "one cluster, all statuses (z=11)",
        "status=all&cluster=11&z=11&bbox=110.75,-7.85,111.25,-7.45",
    ),
    ("zoomed in, active (z=16)", "status=active&z=16&bbox=110.886,-7.566,110.896,-7.560"),
    ("zoomed in, all statuses (z=16)", "status=all&z=16&bbox=110.886,-7.566,110.896,-7.560"),
]


def prepare(app, cooperatives: int, active: int) -> None:
    from coop_audit.demo import seed
    from coop_audit.regions import ensure_reference_data

    with app.app_context():
        db.create_all()
        ensure_reference_data()
        t = time.perf_counter()
        seed(cooperatives, active, with_users=False)
        db.session.commit()
        print(f"seeded {cooperatives} ({active} active) in {time.perf_counter() - t:.1f} s")


def login(app, client) -> None:
    password = secrets.token_urlsafe(12)
    with app.app_context():
        from coop_audit.users.operations import create_user

        user = db.session.execute(
            select(User).where(User.username == "bench-map")
        ).scalar_one_or_none()
        if user is None:
            create_user("bench-map", "Benchmark", "viewer", password)
        else:
            from werkzeug.security import generate_password_hash

            user.password_hash = generate_password_hash(password)
        db.session.commit()
    app.config["WTF_CSRF_ENABLED"] = False
    resp = client.post("/login", data={"username": "bench-map", "password": password})
    if resp.status_code != 302:
        raise SystemExit("login failed")


def run(app, repeat: int) -> None:
    client = app.test_client()
    login(app, client)
    with app.app_context():
        total = db.session.execute(select(func.count()).select_from(Cooperative)).scalar_one()
    print(f"{total:,} cooperatives; {repeat} requests per case (first one warms up)\n")
    print(
        "| request | answer | bytes | median ms | p95 ms | max ms |\n|---|---|---:|---:|---:|---:|"
    )
    for label, qs in CASES:
        client.get(f"/klaster/peta/data?{qs}")  # warm-up: caches, region polygons
        times = []
        for _ in range(repeat):
            t = time.perf_counter()
            resp = client.get(f"/klaster/peta/data?{qs}")
            times.append((time.perf_counter() - t) * 1000)
            assert resp.status_code == 200, resp.status_code
        data = resp.get_json()
        shape = data["mode"] + (
            f" {len(data['p'])} pts" if data["mode"] == "points" else f" {len(data['a'])} areas"
        )
        times.sort()
        p95 = times[min(len(times) - 1, int(len(times) * 0.95))]
        print(
            f"| {label} | {shape} of {data['total']:,} | {len(resp.data):,} | "
            f"{statistics.median(times):.0f} | {p95:.0f} | {times[-1]:.0f} |"
        )


def run_pages(app, repeat: int) -> None:
    """The HTML pages around the map (server time only; the browser then loads the data)."""
    client = app.test_client()
    login(app, client)
    print("\n| page | median ms | max ms |\n|---|---:|---:|")
    for label, url in (
        ("map page, active", "/klaster/peta"),
        ("map page, all statuses", "/klaster/peta?status=all"),
        ("summary, active", "/klaster/ringkasan"),
    ):
        client.get(url)
        times = []
        for _ in range(max(3, repeat // 4)):
            t = time.perf_counter()
            resp = client.get(url)
            times.append((time.perf_counter() - t) * 1000)
            assert resp.status_code == 200, resp.status_code
        print(f"| {label} | {statistics.median(times):.0f} | {max(times):.0f} |")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--prepare", type=int, metavar="N", help="seed N cooperatives first")
    ap.add_argument("--active", type=int, default=250)
    ap.add_argument("--repeat", type=int, default=20)
    args = ap.parse_args()
    app = create_app()
    if args.prepare:
        prepare(app, args.prepare, args.active)
    run(app, args.repeat)
    run_pages(app, args.repeat)


if __name__ == "__main__":
    main()
