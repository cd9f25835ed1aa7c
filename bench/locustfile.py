"""Load mix for the office: viewers browse, inspectors submit audits, heads sign, clerks print.

Run by bench/run_load.sh (gunicorn on loopback, PostgreSQL, 200,000 cooperatives), or by hand:

  LOGINS_FILE=instance/demo-logins.txt COOPS=200000 \\
    .venv/bin/locust -f bench/locustfile.py --headless -u 50 -r 10 -t 5m --host http://127.0.0.1:8000

Every simulated person logs in once with a demo account of their role (instance/demo-logins.txt,
written by `flask demo seed`). A request counts as an error when it answers 5xx, an unexpected
4xx, or a page without what it should show; expected refusals (a proposal another head signed a
moment earlier) are not errors.
"""

from __future__ import annotations

import os
import random
import re
from datetime import date
from pathlib import Path

from locust import HttpUser, between, task

COOPS = int(os.environ.get("COOPS", "200000"))
LOGINS = Path(os.environ.get("LOGINS_FILE", "instance/demo-logins.txt"))
TOKEN = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="csrf_token"')
WORDS = ["makmur", "sejahtera", "tani", "karya", "jaya", "mandiri", "ksp", "sumber", "rejo"]
# Bounding boxes inside the regency at the map's zoom levels (west,south,east,north).
BBOXES = [
    (11, "110.80000,-7.80000,111.20000,-7.45000"),
    (13, "110.90000,-7.65000,111.00000,-7.55000"),
    (16, "110.95000,-7.60500,110.96500,-7.59500"),
]


def logins() -> dict[str, str]:
    out = {}
    for line in LOGINS.read_text(encoding="utf-8").splitlines():
        parts = line.split()
        if len(parts) == 2:
            out[parts[0]] = parts[1]
    return out


ACCOUNTS = logins() if LOGINS.exists() else {}
# The demo's usernames per role (flask demo seed).
USERNAMES = {"viewer": "tamu", "inspector": "inspektur", "head": "kadis", "clerk": "staf"}


def token_of(html: str) -> str:
    m = TOKEN.search(html)
    return (m.group(1) or m.group(2)) if m else ""


class Office(HttpUser):
    abstract = True
    role = "viewer"
    wait_time = between(1, 3)  # a person reads the page before the next click

    def on_start(self) -> None:
        username = USERNAMES[self.role]
        if username not in ACCOUNTS:
            raise RuntimeError(f"no demo login {username} ({self.role}) in {LOGINS}")
        page = self.client.get("/login", name="/login")
        resp = self.client.post(
            "/login",
            data={
                "username": username,
                "password": ACCOUNTS[username],
                "csrf_token": token_of(page.text),
            },
            allow_redirects=False,
            name="/login [POST]",
        )
        if resp.status_code != 302:
            raise RuntimeError(f"login as {self.role} failed: {resp.status_code}")

    # ---- shared reads
    def coop_id(self) -> int:
        return random.randint(1, COOPS)

    def open_list(self) -> None:
        page = random.randint(1, 200)
        with self.client.get(
            f"/koperasi/?page={page}", name="/koperasi/?page=[n]", catch_response=True
        ) as r:
            if r.status_code == 200 and "/koperasi/" not in r.text:
                r.failure("list without rows")

    def search(self) -> None:
        q = random.choice(WORDS)
        self.client.get(f"/koperasi/?q={q}", name="/koperasi/?q=[word]")

    def detail(self) -> str:
        with self.client.get(
            f"/koperasi/{self.coop_id()}", name="/koperasi/[id]", catch_response=True
        ) as r:
            if r.status_code == 404:
                r.success()  # ids are dense in the demo; a gap is not an error
            return r.text if r.status_code == 200 else ""

    def map_data(self) -> None:
        z, bbox = random.choice(BBOXES)
        status = random.choice(["", "&status=all"])
        self.client.get(f"/klaster/peta/data?z={z}&bbox={bbox}{status}", name="/klaster/peta/data")


class Viewer(Office):
    role = "viewer"
    weight = 5

    @task(3)
    def list_page(self) -> None:
        self.open_list()

    @task(2)
    def search_page(self) -> None:
        self.search()

    @task(4)
    def detail_page(self) -> None:
        self.detail()

    @task(2)
    def map(self) -> None:
        self.map_data()


class Inspector(Office):
    role = "inspector"
    weight = 2

    @task(2)
    def detail_page(self) -> None:
        self.detail()

    @task(1)
    def submit_audit(self) -> None:
        coop = self.coop_id()
        page = self.client.get(f"/koperasi/{coop}", name="/koperasi/[id]")
        if page.status_code != 200:
            return
        start = self.client.post(
            f"/audit/baru/{coop}",
            data={"csrf_token": token_of(page.text)},
            allow_redirects=False,
            name="/audit/baru/[id]",
        )
        m = re.search(r"/audit/(\d+)/ubah", start.headers.get("Location", ""))
        if not m:
            return
        form = self.client.get(f"/audit/{m.group(1)}/ubah", name="/audit/[id]/ubah")
        alive = random.random() < 0.5
        yes_no = "yes" if alive else "no"
        with self.client.post(
            f"/audit/{m.group(1)}/ubah",
            data={
                "csrf_token": token_of(form.text),
                "action": "submit",
                "visit_date": date.today().isoformat(),  # noqa: DTZ011 - the server's day
                "inspectors": "Tim Pemeriksa Beban",
                "office_found": yes_no,
                "board_reachable": yes_no,
                "books_present": yes_no,
                "business_active": yes_no,
                "rat_held_0": yes_no,
                "rat_held_1": "no",
                "rat_held_2": "no",
                "findings": "Uji beban: kunjungan lapangan.",
                "recommendation": "-",
                "lat": "-7.600000",
                "lng": "111.000000",
            },
            allow_redirects=False,
            name="/audit/[id]/ubah [submit]",
            catch_response=True,
        ) as r:
            if r.status_code in (302, 303, 409):  # 409: someone else's draft was submitted
                r.success()
            else:
                r.failure(f"audit submit answered {r.status_code}")


class Head(Office):
    role = "head"
    weight = 1

    @task(2)
    def sign_one(self) -> None:
        queue = self.client.get("/alur/persetujuan", name="/alur/persetujuan")
        ids = re.findall(r"/alur/usulan/(\d+)/tandatangani", queue.text)
        if not ids:
            return
        with self.client.post(
            f"/alur/usulan/{random.choice(ids)}/tandatangani",
            data={"csrf_token": token_of(queue.text)},
            allow_redirects=False,
            name="/alur/usulan/[id]/tandatangani",
            catch_response=True,
        ) as r:
            if r.status_code in (302, 303, 404):  # 404/refusal: signed a moment earlier
                r.success()
            else:
                r.failure(f"sign answered {r.status_code}")

    @task(1)
    def list_page(self) -> None:
        self.open_list()

    @task(1)
    def detail_page(self) -> None:
        self.detail()


class Clerk(Office):
    role = "clerk"
    weight = 2

    @task(2)
    def download_letter(self) -> None:
        page = random.randint(1, 20)
        listing = self.client.get(f"/surat/?page={page}", name="/surat/?page=[n]")
        ids = re.findall(r"/surat/(\d+)(?:/pdf)?\"", listing.text)
        if not ids:
            return
        letter = random.choice(ids)
        with self.client.get(
            f"/surat/{letter}/pdf", name="/surat/[id]/pdf", catch_response=True
        ) as r:
            if r.status_code == 200 and not r.content.startswith(b"%PDF"):
                r.failure("not a PDF")

    @task(1)
    def detail_page(self) -> None:
        self.detail()

    @task(1)
    def search_page(self) -> None:
        self.search()
