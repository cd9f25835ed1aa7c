"""Register import throughput and peak memory: the 1,163-row sample and a 200,000-row file.

Usage:
  .venv/bin/python bench/bench_import.py [--rows 200000] [--database-url URL] [--keep]

Steps (each import runs in a fresh process, so its peak RSS is the import's own):
  1. generate a register .xlsx of --rows rows in the demo generator's style (openpyxl
     write_only; names, BH numbers, NIKs, villages and points like `flask demo seed`; about 78%
     "Tidak Aktif"), unless it exists already in /tmp;
  2. import ../shared/samples/register-karanganyar.xlsx into an empty database, then again
     (all unchanged);
  3. import the generated file into an empty database.
Each import is timed from reading the bytes to the commit (read_table + import_register), in
a process that has loaded the region polygons (as a running server has); peak RSS is
resource.getrusage(RUSAGE_SELF).ru_maxrss of that process. Prints Markdown table rows.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
SAMPLE = ROOT.parent / "shared" / "samples" / "register-karanganyar.xlsx"
HEADERS = [
    "No",
    "Nama Koperasi",
    "Jenis",
    "Kelompok",
    "No. Badan Hukum",
    "Tgl Badan Hukum",
    "NIK",
    "Alamat",
    "RT",
    "RW",
    "Desa/Kelurahan",
    "Kecamatan",
    "Nama Ketua",
    "No. HP",
    "Jumlah Anggota",
    "RAT Terakhir",
    "Klaster Usaha",
    "Latitude",
    "Longitude",
    "Keterangan",
]
JENIS = {
    "simpan_pinjam": "Simpan Pinjam",
    "konsumen": "Konsumen",
    "produsen": "Produsen",
    "pemasaran": "Pemasaran",
    "jasa": "Jasa",
}


def generate(path: Path, rows: int, seed: int = 2026) -> None:
    """A register like the demo generator's, as clerks keep it (title rows, text IDs)."""
    import openpyxl
    from openpyxl.cell import WriteOnlyCell

    from coop_audit.demo import KINDS, PEOPLE, ROMAN, STREETS, WORDS, _point_pools
    from coop_audit.geo import regions

    rng = random.Random(seed)
    reg = regions()
    villages = list(reg.villages.values())
    pools = _point_pools(rng, per_village=60)
    kind_weights = [k[3] for k in KINDS]
    wb = openpyxl.Workbook(write_only=True)
    ws = wb.create_sheet("Data Koperasi")
    ws.append(["DATA KOPERASI KABUPATEN KARANGANYAR"])
    ws.append([f"Keadaan s/d 31 Desember {date.today().year - 1}"])  # noqa: DTZ011
    ws.append([])
    ws.append(HEADERS)
    niks: set[str] = set()
    for i in range(1, rows + 1):
        active = rng.random() < 0.215
        village = rng.choice(villages)
        kelompok, jenis, prefix, _w = rng.choices(KINDS, kind_weights)[0]
        name = f"{prefix} {rng.choice(WORDS)} {village.nama} {i}"
        year = rng.randint(1975, 2024)
        month = rng.randint(1, 12)
        bh = f"{i}/BH/XIV/{ROMAN[month - 1]}/{year}"
        nik = None
        if rng.random() < 0.55:
            nik = "".join(rng.choice("0123456789") for _ in range(16))
            if nik in niks:
                nik = None
            else:
                niks.add(nik)
        lat, lng = rng.choice(pools[village.kode]) if rng.random() < 0.9 else (None, None)
        day = date(year, month, rng.randint(1, 28))
        cells = [
            i,
            name,
            JENIS[jenis],
            kelompok,
            bh,
            day,
            nik,
            f"{rng.choice(STREETS)} {rng.randint(1, 250)}",
            rng.randint(1, 12),
            rng.randint(1, 8),
            village.nama,
            reg.kecamatan[village.kecamatan_kode].nama,
            rng.choice(PEOPLE),
            "08" + "".join(rng.choice("0123456789") for _ in range(10)),
            rng.randint(20, 1500),
            rng.choice((None, 2019, 2021, 2023, 2024)),
            None,
            lat,
            lng,
            "Aktif" if active else "Tidak Aktif",
        ]
        out = []
        for value in cells:
            cell = WriteOnlyCell(ws, value=value)
            if isinstance(value, date):
                cell.number_format = "DD/MM/YYYY"
            out.append(cell)
        ws.append(out)
    wb.save(path)


def run_import(path: Path, url: str, upload_dir: str, fresh: bool) -> dict:
    """One import in this process: returns seconds, rows/s, peak RSS and the counts."""
    os.environ["DATABASE_URL"] = url
    from flask_babel import gettext as _

    from config import DevelopmentConfig
    from coop_audit import create_app
    from coop_audit.extensions import db
    from coop_audit.geo import regions
    from coop_audit.imports.operations import import_register
    from coop_audit.regions import ensure_reference_data
    from coop_audit.registry.reader import read_table
    from coop_audit.timeutil import local_today

    class Cfg(DevelopmentConfig):
        SQLALCHEMY_DATABASE_URI = url
        UPLOAD_DIR = upload_dir
        LETTER_DIR = upload_dir + "/letters"
        HUEY_FILE = upload_dir + "/jobs.sqlite3"
        SQLALCHEMY_ECHO = False

    app = create_app(Cfg)
    with app.app_context():
        if fresh:
            db.drop_all()
            db.create_all()
            ensure_reference_data()
            db.session.commit()
        # Per-process caches a running server already holds: the region polygons, the catalog.
        regions()
        _("The file is empty.")
        start = time.perf_counter()
        table = read_table(path.read_bytes(), path.name)
        result = import_register(table, None, today=local_today(), write=True)
        db.session.commit()
        seconds = time.perf_counter() - start
        counts = result.counts
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    rows = sum(counts.values())
    return {
        "rows": rows,
        "seconds": round(seconds, 2),
        "rows_per_s": round(rows / seconds),
        "peak_rss_mb": round(peak_mb),
        "counts": counts,
    }


def child(args: argparse.Namespace) -> None:
    print(json.dumps(run_import(Path(args.file), args.database_url, args.upload_dir, args.fresh)))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=200_000)
    ap.add_argument("--database-url", default=None)
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--generate", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--file", default=None, help=argparse.SUPPRESS)
    ap.add_argument("--fresh", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--upload-dir", default="/tmp/bench_import_uploads")
    args = ap.parse_args()
    if args.generate:
        generate(Path(args.file), args.rows)
        return
    if args.child:
        child(args)
        return

    url = args.database_url or "sqlite:////tmp/bench_import.sqlite3"
    if url.startswith("postgresql://"):
        url = url.replace("postgresql://", "postgresql+psycopg://", 1)
    big = Path(f"/tmp/bench_import_{args.rows}.xlsx")
    if not big.exists():
        t = time.perf_counter()
        subprocess.run(
            [sys.executable, __file__, "--generate", "--rows", str(args.rows), "--file", str(big)],
            check=True,
        )
        print(
            f"generated {big} ({big.stat().st_size / 2**20:.1f} MB) in "
            f"{time.perf_counter() - t:.0f} s",
            file=sys.stderr,
        )

    def measure(path: Path, fresh: bool) -> dict:
        cmd = [sys.executable, __file__, "--child", "--file", str(path)]
        cmd += ["--database-url", url, "--upload-dir", args.upload_dir]
        if fresh:
            cmd.append("--fresh")
        out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
        return json.loads(out.strip().splitlines()[-1])

    runs = [
        ("sample, empty database", measure(SAMPLE, True)),
        ("sample again (all unchanged)", measure(SAMPLE, False)),
        (f"{args.rows:,} rows, empty database", measure(big, True)),
    ]
    backend = "PostgreSQL" if url.startswith("postgresql") else "SQLite"
    print("| import | backend | rows | seconds | rows/s | peak RSS (MB) | outcome |")
    print("|---|---|---:|---:|---:|---:|---|")
    for label, r in runs:
        outcome = ", ".join(f"{k} {v}" for k, v in r["counts"].items() if v)
        print(
            f"| {label} | {backend} | {r['rows']:,} | {r['seconds']} | {r['rows_per_s']:,} "
            f"| {r['peak_rss_mb']} | {outcome} |"
        )


if __name__ == "__main__":
    main()
