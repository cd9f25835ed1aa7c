"""Deterministic demo data: the full register inside real village polygons, a user per role."""

from __future__ import annotations

import random
import secrets
from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlalchemy import func, insert, select

from . import history
from .extensions import db
from .geo import Area, regions
from .models import Cluster, Cooperative, User
from .regions import ensure_reference_data
from .registry.operations import name_key
from .timeutil import local_today
from .users.operations import create_user

# Active cooperatives concentrate in the western towns and around Tawangmangu (domain primer 7).
ACTIVE_WEIGHT = {
    "Karanganyar": 6,
    "Jaten": 6,
    "Colomadu": 6,
    "Tasikmadu": 5,
    "Kebakkramat": 4,
    "Tawangmangu": 4,
}

KINDS = (
    # (kelompok, jenis, name prefix, weight)
    ("KSP", "simpan_pinjam", "KSP", 14),
    ("KUD", "produsen", "KUD", 8),
    ("KSU", "jasa", "KSU", 10),
    ("KPRI", "konsumen", "KPRI", 8),
    ("Kopkar", "konsumen", "Kopkar", 6),
    ("Koperasi Wanita", "simpan_pinjam", "Koperasi Wanita", 12),
    ("Kopontren", "konsumen", "Kopontren", 4),
    ("Koptan", "produsen", "Koptan", 8),
    ("Credit Union", "simpan_pinjam", "CU", 2),
    ("Koperasi Produsen", "produsen", "Koperasi Produsen", 8),
    ("Koperasi Pemasaran", "pemasaran", "Koperasi Pemasaran", 6),
    ("Koperasi Jasa", "jasa", "Koperasi Jasa", 4),
)
WORDS = (
    "Sejahtera",
    "Makmur",
    "Maju Bersama",
    "Mandiri",
    "Sido Rukun",
    "Ngudi Mulyo",
    "Tani Makmur",
    "Karya Bersama",
    "Harapan Jaya",
    "Mitra Usaha",
    "Guyub Rukun",
    "Amanah",
    "Lestari",
    "Sumber Rejeki",
    "Sri Rejeki",
    "Manunggal",
    "Tunas Harapan",
    "Bina Usaha",
    "Subur",
    "Mekar Sari",
    "Margo Mulyo",
    "Rukun Santoso",
    "Usaha Bersama",
    "Berkah",
    "Gotong Royong",
)
PEOPLE = (
    "Slamet Raharjo",
    "Sumarni",
    "Sukardi",
    "Joko Susilo",
    "Yuli Astuti",
    "Tri Handayani",
    "Sri Mulyani",
    "Wahyu Widodo",
    "Sutarno",
    "Ngatini",
    "Budi Santoso",
    "Endang Lestari",
    "Agus Setiawan",
    "Siti Aminah",
    "Bambang Riyanto",
    "Rini Kurniawati",
    "Heru Prasetyo",
    "Dwi Wahyuni",
    "Suparman",
    "Tutik Rahayu",
)
STREETS = ("Jl. Lawu", "Jl. Solo-Tawangmangu", "Jl. Samanhudi", "Jl. Lawu Barat", "Dusun", "Dukuh")
ROMAN = ("I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX", "X", "XI", "XII")
CLUSTER_BY_JENIS = {
    "simpan_pinjam": ("simpan-pinjam",),
    "konsumen": ("toko-eceran", "kuliner", "minuman-jamu"),
    "produsen": (
        "pangan-tepung",
        "olahan-pertanian",
        "kerajinan",
        "fesyen",
        "peternakan-perikanan",
    ),
    "pemasaran": ("hasil-bumi", "olahan-pertanian", "kerajinan"),
    "jasa": ("jasa-wisata", "toko-eceran", "kuliner"),
}

DEMO_USERS = (
    # username, role, full name, NIP, rank, job title
    ("admin", "admin", "Administrator Sistem", None, None, "Pengelola Sistem"),
    (
        "inspektur",
        "inspector",
        "Rina Wulandari, S.E.",
        "198503122010012015",
        "Penata (III/c)",
        "Pengawas Koperasi",
    ),
    (
        "kadis",
        "head",
        "Drs. Bambang Sutrisno, M.M.",
        "197001011995031001",
        "Pembina Utama Muda (IV/c)",
        "Kepala Dinas",
    ),
    (
        "staf",
        "clerk",
        "Sri Handayani",
        "199002202015032008",
        "Pengatur (II/c)",
        "Pengadministrasi Umum",
    ),
    ("tamu", "viewer", "Tamu Pemantau", None, None, "Pemantau"),
)


class SeedRefused(Exception):
    pass


@dataclass
class SeedResult:
    cooperatives: int
    active: int
    passwords: dict[str, str]


def _point_pools(rng: random.Random, per_village: int) -> dict[str, list[tuple[float, float]]]:
    pools: dict[str, list[tuple[float, float]]] = {}
    for v in regions().villages.values():
        minx, miny, maxx, maxy = v.bbox
        pts: list[tuple[float, float]] = []
        tries = 0
        while len(pts) < per_village and tries < per_village * 50:
            tries += 1
            lng, lat = rng.uniform(minx, maxx), rng.uniform(miny, maxy)
            if v.contains(lat, lng):
                pts.append((round(lat, 6), round(lng, 6)))
        pools[v.kode] = pts or [(v.lat, v.lng)]
    return pools


def _weighted_villages(active: bool) -> tuple[list[Area], list[int]]:
    reg = regions()
    villages = list(reg.villages.values())
    weights = []
    for v in villages:
        kec = reg.kecamatan[v.kecamatan_kode].nama
        weights.append(ACTIVE_WEIGHT.get(kec, 1) if active else 1)
    return villages, weights


def seed(
    cooperatives: int = 1163,
    active: int = 250,
    seed_value: int = 2026,
    *,
    production: bool = False,
    today: date | None = None,
    with_users: bool = True,
) -> SeedResult:
    """Fill an empty register with demo data; refuses in production or over existing data."""
    if production:
        raise SeedRefused("demo data is refused when the app is configured for production")
    if active > cooperatives or cooperatives < 0 or active < 0:
        raise SeedRefused("--active must be between 0 and --cooperatives")
    if db.session.execute(select(func.count()).select_from(Cooperative)).scalar_one():
        raise SeedRefused("the register already has cooperatives; demo data needs an empty one")
    today = today or local_today()
    rng = random.Random(seed_value)
    ensure_reference_data()
    cluster_ids = {c.code: c.id for c in db.session.execute(select(Cluster)).scalars()}
    pools = _point_pools(rng, per_village=60 if cooperatives > 5000 else 25)
    kinds = [k for k in KINDS]
    kind_weights = [k[3] for k in KINDS]
    act_villages, act_w = _weighted_villages(True)
    all_villages, all_w = _weighted_villages(False)
    is_active = [True] * active + [False] * (cooperatives - active)
    rng.shuffle(is_active)
    now = datetime(today.year, today.month, today.day, 2, 0, tzinfo=UTC)
    rows: list[dict] = []
    used_names: set[tuple[str, str]] = set()
    for i, act in enumerate(is_active, start=1):
        village = rng.choices(act_villages if act else all_villages, act_w if act else all_w)[0]
        kelompok, jenis, prefix, _w = rng.choices(kinds, kind_weights)[0]
        name = f"{prefix} {rng.choice(WORDS)}"
        if rng.random() < 0.6:
            name = f"{name} {village.nama}"
        if (name, village.kode) in used_names:
            name = f"{name} {i}"
        used_names.add((name, village.kode))
        year = rng.randint(1975, today.year - 2) if not act else rng.randint(1985, today.year - 1)
        month = rng.randint(1, 12)
        bh_date = date(year, month, rng.randint(1, 28))
        if year >= 2019 and rng.random() < 0.7:
            bh_number = f"AHU-{i:07d}.AH.01.26.TAHUN {year}"
        else:
            bh_number = f"{i}/BH/XIV/{ROMAN[month - 1]}/{year}"
        has_point = rng.random() < (0.96 if act else 0.85)
        lat, lng = rng.choice(pools[village.kode]) if has_point else (None, None)
        last_rat = (
            rng.choice((today.year - 1, today.year - 1, today.year - 2))
            if act
            else rng.choice((None, *range(max(year, today.year - 15), today.year - 3)))
            if year < today.year - 4
            else None
        )
        cluster_code = rng.choice(CLUSTER_BY_JENIS[jenis])
        rows.append(
            {
                "name": name,
                "name_key": name_key(name),
                "jenis": jenis,
                "kelompok": kelompok,
                "bentuk": "sekunder" if rng.random() < 0.02 else "primer",
                "bh_number": bh_number,
                "bh_date": bh_date,
                "nik": "".join(rng.choice("0123456789") for _ in range(16))
                if rng.random() < 0.55
                else None,
                "street": f"{rng.choice(STREETS)} {rng.randint(1, 250)}",
                "rt": f"{rng.randint(1, 12):03d}",
                "rw": f"{rng.randint(1, 8):03d}",
                "desa_kode": village.kode,
                "kecamatan_kode": village.kecamatan_kode,
                "lat": lat,
                "lng": lng,
                "chair_name": rng.choice(PEOPLE),
                "chair_phone": "08" + "".join(rng.choice("0123456789") for _ in range(10)),
                "member_count": rng.randint(20, 1500) if act else rng.randint(0, 300),
                "last_rat_year": last_rat,
                "cluster_id": cluster_ids.get(cluster_code) if act or rng.random() < 0.3 else None,
                "products": None,
                "status": "active" if act else "dormant",
                "status_reason": None if act else "Tercatat tidak aktif dalam register (data awal)",
                "status_changed_at": now if not act else None,
                "version": 1,
                "created_at": now,
                "updated_at": now,
            }
        )
    for start in range(0, len(rows), 5000):
        db.session.execute(insert(Cooperative), rows[start : start + 5000])
    db.session.flush()
    ids = db.session.execute(
        select(Cooperative.id, Cooperative.status).order_by(Cooperative.id)
    ).all()
    history.record_many(
        [
            {
                "cooperative_id": cid,
                "kind": "created",
                "to_status": status,
                "at": now,
                "reason": None
                if status == "active"
                else "Tercatat tidak aktif dalam register (data awal)",
                "data": {"source": "demo"},
            }
            for cid, status in ids
        ]
    )
    passwords: dict[str, str] = {}
    if with_users:
        for username, role, full_name, nip, rank, title in DEMO_USERS:
            if db.session.execute(
                select(User).where(User.username == username)
            ).scalar_one_or_none():
                continue
            password = secrets.token_urlsafe(9)
            create_user(username, full_name, role, password, nip=nip, rank=rank, job_title=title)
            passwords[username] = password
    return SeedResult(cooperatives=len(rows), active=active, passwords=passwords)
