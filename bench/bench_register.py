"""Register list, search and filter: median server time at 1,163 and 200,000 cooperatives.

Usage:
  .venv/bin/python bench/bench_register.py --cooperatives 1163 [--database-url URL] [--repeat 30]

Seeds a fresh database with the demo generator (skipped when it already holds N cooperatives),
then times requests through the WSGI app in-process (server time: routing, queries, template
rendering; no network). Prints a Markdown table row per request kind.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

REQUESTS = {
    "list (page 1)": "/koperasi/",
    "list (page 40)": "/koperasi/?page=40",
    "search name": "/koperasi/?q=sejahtera",
    "search BH number": "/koperasi/?q=AHU-0001",
    "filter status+kecamatan": "/koperasi/?status=active&kecamatan=33.13.11",
    "filter village+jenis": "/koperasi/?desa=33.13.12.2001&jenis=simpan_pinjam",
    "dashboard": "/dasbor",
}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--cooperatives", type=int, default=1163)
    ap.add_argument("--active", type=int, default=None)
    ap.add_argument("--database-url", default=None)
    ap.add_argument("--repeat", type=int, default=30)
    args = ap.parse_args()
    url = args.database_url or f"sqlite:////tmp/bench_register_{args.cooperatives}.sqlite3"
    os.environ["DATABASE_URL"] = url

    from flask_migrate import upgrade
    from sqlalchemy import func, select

    from config import DevelopmentConfig
    from coop_audit import create_app
    from coop_audit.demo import seed
    from coop_audit.extensions import db
    from coop_audit.models import Cooperative
    from coop_audit.regions import ensure_reference_data
    from coop_audit.users.operations import create_user

    class Cfg(DevelopmentConfig):
        SQLALCHEMY_DATABASE_URI = (
            url
            if not url.startswith("postgresql://")
            else url.replace("postgresql://", "postgresql+psycopg://", 1)
        )
        WTF_CSRF_ENABLED = False
        PASSWORD_HASH_METHOD = "pbkdf2:sha256:1000"

    app = create_app(Cfg)
    with app.app_context():
        upgrade()
        ensure_reference_data()
        n = db.session.execute(select(func.count()).select_from(Cooperative)).scalar_one()
        if n != args.cooperatives:
            if n:
                sys.exit(
                    f"database holds {n} cooperatives, not {args.cooperatives}: use an empty one"
                )
            t0 = time.perf_counter()
            active = args.active if args.active is not None else round(args.cooperatives * 0.215)
            seed(args.cooperatives, active, 2026, with_users=False)
            db.session.commit()
            took = time.perf_counter() - t0
            print(f"seeded {args.cooperatives} in {took:.1f} s", file=sys.stderr)
        from coop_audit.models import User

        if not db.session.execute(select(User).where(User.username == "bench")).first():
            create_user("bench", "Bench Head", "head", "bench-password-1")
            db.session.commit()
        dialect = db.engine.dialect.name

    client = app.test_client()
    client.post("/login", data={"username": "bench", "password": "bench-password-1"})
    print(f"\n{args.cooperatives:,} cooperatives on {dialect}\n")
    print("| request | median ms | p95 ms | rows found |")
    print("|---|---:|---:|---:|")
    for label, path in REQUESTS.items():
        client.get(path)  # warm-up
        times = []
        for _ in range(args.repeat):
            t0 = time.perf_counter()
            resp = client.get(path)
            times.append((time.perf_counter() - t0) * 1000)
            assert resp.status_code == 200, (path, resp.status_code)
        html = resp.get_data(as_text=True)
        found = ""
        if 'data-count="' in html:
            found = html.split('data-count="', 1)[1].split('"', 1)[0]
        times.sort()
        p95 = times[int(len(times) * 0.95) - 1]
        print(f"| {label} | {statistics.median(times):.1f} | {p95:.1f} | {found} |")


if __name__ == "__main__":
    main()
