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
from .timeutil import JAKARTA, local_today, utcnow
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
    rng = random.Random(seed_value)  # nosec B311 - reproducible demo data, not secrets
    ensure_reference_data()
    cluster_ids = {c.code: c.id for c in db.session.execute(select(Cluster)).scalars()}
    pools = _point_pools(rng, per_village=60 if cooperatives > 5000 else 25)
    kinds = [k for k in KINDS]
    kind_weights = [k[3] for k in KINDS]
    act_villages, act_w = _weighted_villages(True)
    all_villages, all_w = _weighted_villages(False)
    is_active = [True] * active + [False] * (cooperatives - active)
    rng.shuffle(is_active)
    # 09:00 WIB of `today`, but never later than the real now (seeding at 05:00 WIB wrote
    # the register's creation into the future).
    now = min(datetime(today.year, today.month, today.day, 2, 0, tzinfo=UTC), utcnow())
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
        grow_workflow(today, random.Random(seed_value + 1))  # nosec B311 - demo data
    return SeedResult(cooperatives=len(rows), active=active, passwords=passwords)


# ---------------------------------------------------------------- workflow history


def _demo_user(username: str) -> User | None:
    return db.session.execute(select(User).where(User.username == username)).scalar_one_or_none()


def _warning_letter(coop: Cooperative, signer: User, day: date, proposal_id: int):
    """The warning the letters feature issued on sign-off, or a stand-in when it is absent."""
    import hashlib

    from .models.letters import Letter
    from .sanctions.operations import latest_warning

    letter = latest_warning(coop.id)
    if letter is not None:
        return letter
    pdf = b"%PDF-1.4 demo stand-in (letters feature not installed)"
    letter = Letter(
        kind="warning",
        year=day.year,
        seq=proposal_id,
        number=f"DEMO/{proposal_id}/{day.year}",
        cooperative_id=coop.id,
        proposal_id=proposal_id,
        issued_on=day,
        issued_at=datetime(day.year, day.month, day.day, 2, 0, tzinfo=UTC),
        signer_id=signer.id,
        snapshot={"demo": True},
        pdf=pdf,
        sha256=hashlib.sha256(pdf).hexdigest(),
        token=secrets.token_hex(16),
        short_code=secrets.token_hex(5).upper(),
    )
    db.session.add(letter)
    db.session.flush()
    return letter


def _local_morning(day: date, hour: int = 8) -> datetime:
    """A working-hours moment of a local (Asia/Jakarta) date, as aware UTC."""
    return datetime(day.year, day.month, day.day, hour, tzinfo=JAKARTA).astimezone(UTC)


def _dated_letter(letter, *, sent: bool) -> None:
    """Give a demo letter the timestamps of its dated workflow, not the moment of seeding.

    The letter was issued on its `issued_on` date (morning) and, when `sent`, sent the same
    day; a receipt recorded by the demo is dated on the receipt (or announcement) day.
    """
    letter.issued_at = _local_morning(letter.issued_on)
    if sent:
        letter.sent_at = _local_morning(letter.issued_on, 10)
    if letter.receipt_recorded_at is not None and letter.clock_start is not None:
        letter.receipt_recorded_at = _local_morning(letter.clock_start, 11)
    db.session.flush()


def _receipt(letter, clerk: User, day: date, today: date, *, announced: bool = False) -> None:
    _record_receipt(letter, clerk, day, today, announced=announced)
    _dated_letter(letter, sent=True)


def _record_receipt(
    letter, clerk: User, day: date, today: date, *, announced: bool = False
) -> None:
    try:
        from .letters.operations import record_receipt
    except ImportError:  # the letters feature is not installed: set the fields directly
        record_receipt = None
    if record_receipt is not None:
        if announced:
            record_receipt(letter, clerk, method="announcement", today=today, announced_on=day)
        else:
            record_receipt(
                letter, clerk, method="hand", today=today, received_on=day, receiver="Ketua"
            )
        return
    if announced:
        letter.announced_on = day
    else:
        letter.receipt_date = day
    db.session.flush()


def grow_workflow(today: date, rng: random.Random) -> dict[str, int]:
    """A realistic sanction history through the workflow operations (never raw SQL).

    Every move goes through propose/sign/receipt/objection as the office would do it, with
    dates in the past, so every workflow screen has something to show. The number of active
    cooperatives is unchanged: only cooperatives first moved out of active come back.
    """
    from datetime import timedelta

    from .sanctions import deadlines
    from .sanctions import operations as ops

    inspector, head, clerk = _demo_user("inspektur"), _demo_user("kadis"), _demo_user("staf")
    if inspector is None or head is None or clerk is None:
        return {}
    dormant = list(
        db.session.execute(
            select(Cooperative.id).where(Cooperative.status == "dormant").order_by(Cooperative.id)
        ).scalars()
    )
    active = list(
        db.session.execute(
            select(Cooperative.id).where(Cooperative.status == "active").order_by(Cooperative.id)
        ).scalars()
    )
    groups = {"revoked": 10, "ready": 3, "open": 6, "no_receipt": 4, "fresh": 1, "objection": 1}
    groups.update({"announced": 1, "pending": 3})
    need = sum(groups.values())
    if len(dormant) < need or len(active) < 4:
        return {}
    picked = rng.sample(dormant, need)
    comeback = rng.sample(active, 4)
    day = lambda n: today - timedelta(days=n)  # noqa: E731
    evidence = [{"type": "field", "id": None, "label": "Kunjungan lapangan: kantor tutup"}]
    counts: dict[str, int] = {}

    def coop(cid: int) -> Cooperative:
        c = db.session.get(Cooperative, cid)
        assert c is not None  # nosec B101 - type narrowing; the id was just inserted
        return c

    def warn(c: Cooperative, on: int):
        p = ops.propose(
            c,
            "warn",
            inspector,
            reason="Tidak menyelenggarakan RAT 3 tahun buku berturut-turut; kantor tidak ditemukan",
            evidence=evidence,
            today=day(on + 2),
        )
        ops.sign(p, head, today=day(on))
        return _warning_letter(c, head, day(on), p.id)

    cursor = iter(picked)
    for name, n in groups.items():
        for _ in range(n):
            c = coop(next(cursor))
            if name == "revoked":
                letter = warn(c, 150)
                _receipt(letter, clerk, day(145), today)
                p = ops.propose(
                    c,
                    "revoke",
                    clerk,
                    reason="Masa keberatan berakhir tanpa keberatan",
                    evidence=[{"type": "letter", "id": letter.id, "label": letter.number}],
                    today=day(80),
                )
                ops.sign(p, head, today=day(78))
            elif name == "ready":
                letter = warn(c, 110)
                _receipt(letter, clerk, day(100), today)
            elif name == "open":
                letter = warn(c, 30)
                _receipt(letter, clerk, day(25), today)
            elif name == "no_receipt":  # posted, but no proof of receipt came back
                _dated_letter(warn(c, 25), sent=True)
            elif name == "fresh":
                warn(c, 5)
            elif name == "objection":
                letter = warn(c, 40)
                _receipt(letter, clerk, day(35), today)
                ops.file_objection(
                    c,
                    clerk,
                    received_on=day(10),
                    text="Koperasi telah melaksanakan RAT tahun buku 2025; notulen terlampir.",
                    document="Notulen RAT 2025",
                    today=day(9),
                )
            elif name == "announced":
                letter = warn(c, 70)
                _receipt(letter, clerk, day(60), today, announced=True)
            elif name == "pending":
                ops.propose(
                    c,
                    "warn",
                    inspector,
                    reason="Tidak ada kegiatan usaha 2 tahun berturut-turut",
                    evidence=evidence,
                    today=day(2),
                )
            counts[name] = counts.get(name, 0) + 1
    # Active cooperatives found inactive, then back: three by new evidence, one by objection.
    for i, cid in enumerate(comeback):
        c = coop(cid)
        ops.record_dormancy(
            c,
            inspector,
            reason="Pemeriksaan: RAT tidak diselenggarakan 3 tahun buku",
            legal_ground=None,
            evidence=evidence,
            today=day(220),
        )
        if i < 3:
            p = ops.propose(
                c,
                "reactivate",
                inspector,
                reason="RAT tahun buku 2025 telah diselenggarakan; usaha berjalan kembali",
                evidence=[{"type": "document", "id": None, "label": "Notulen RAT 2025"}],
                today=day(60),
            )
            ops.sign(p, head, today=day(58))
        else:
            letter = warn(c, 180)
            _receipt(letter, clerk, day(175), today)
            objection = ops.file_objection(
                c,
                clerk,
                received_on=day(150),
                text="Pengurus baru telah terbentuk dan RAT telah dilaksanakan.",
                document="Akta perubahan pengurus",
                today=day(150),
            )
            ops.decide_objection(
                objection,
                head,
                accepted=True,
                reasons="Bukti RAT dan kepengurusan baru sah.",
                today=day(140),
            )
        counts["reactivated"] = counts.get("reactivated", 0) + 1
    deadlines.sweep(today)
    # Letters issued by sign-off hooks (revocations, reactivations, decisions) and not sent:
    # issued in the morning of their date, like the rest of the dated history.
    from .models.letters import Letter

    for letter in db.session.execute(select(Letter)).scalars():
        if letter.issued_at is None or letter.issued_at.astimezone(JAKARTA).date() != (
            letter.issued_on
        ):
            letter.issued_at = _local_morning(letter.issued_on)
    db.session.flush()
    return counts
