"""A short run of the load mix (bench/locustfile.py): gunicorn on loopback, a 300-cooperative
SQLite demo, 5 users for 10 seconds. No timing assertions: every request must succeed."""

from __future__ import annotations

import csv
import os
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BIN = ROOT / ".venv" / "bin"

pytestmark = pytest.mark.skipif(
    not (BIN / "locust").exists() or not (BIN / "gunicorn").exists(),
    reason="locust/gunicorn not installed",
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_the_load_mix_runs_without_errors(tmp_path):
    env = dict(
        os.environ,
        FLASK_APP="app.py",
        COOP_AUDIT_ENV="development",
        DATABASE_URL=f"sqlite:///{tmp_path / 'load.sqlite3'}",
        INSTANCE_PATH=str(tmp_path / "instance"),
        UPLOAD_DIR=str(tmp_path / "uploads"),
        LETTER_DIR=str(tmp_path / "letters"),
        HUEY_FILE=str(tmp_path / "jobs.sqlite3"),
    )
    env.pop("TEST_DATABASE_URL", None)
    (tmp_path / "instance").mkdir()

    def flask(*args):
        proc = subprocess.run(
            [str(BIN / "flask"), *args], cwd=ROOT, env=env, capture_output=True, text=True
        )
        assert proc.returncode == 0, proc.stderr[-2000:]

    flask("setup")
    flask("demo", "seed", "--cooperatives", "300", "--active", "60")
    logins = tmp_path / "instance" / "demo-logins.txt"
    assert logins.exists()

    port = free_port()
    server = subprocess.Popen(
        [
            str(BIN / "gunicorn"),
            "--workers",
            "2",
            "--threads",
            "2",
            "--bind",
            f"127.0.0.1:{port}",
            "--error-logfile",
            str(tmp_path / "gunicorn.log"),
            "app:app",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        for _ in range(100):
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/login", timeout=2):
                    break
            except OSError:
                time.sleep(0.1)
        result = tmp_path / "result"
        proc = subprocess.run(
            [
                str(BIN / "locust"),
                "-f",
                "bench/locustfile.py",
                "--headless",
                "-u",
                "5",
                "-r",
                "5",
                "-t",
                "10s",
                "--host",
                f"http://127.0.0.1:{port}",
                "--csv",
                str(result),
                "--only-summary",
                "--loglevel",
                "WARNING",
            ],
            cwd=ROOT,
            env=dict(env, LOGINS_FILE=str(logins), COOPS="300"),
            capture_output=True,
            text=True,
            timeout=120,
        )
    finally:
        server.terminate()
        server.wait(20)
    with open(f"{result}_stats.csv", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    total = next(r for r in rows if r["Name"] == "Aggregated")
    failures = Path(f"{result}_failures.csv").read_text(encoding="utf-8")
    assert int(total["Request Count"]) > 10, proc.stderr[-2000:]
    assert int(total["Failure Count"]) == 0, failures + proc.stderr[-2000:]
    names = {r["Name"] for r in rows}
    assert "/login [POST]" in names and len(names - {"Aggregated"}) >= 4, names
