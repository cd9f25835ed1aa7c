"""Reference data in the database (kecamatan, villages, cluster taxonomy) and GeoJSON endpoints."""

from __future__ import annotations

import json

from flask import Blueprint, Response, abort
from sqlalchemy import func, select

from .extensions import db
from .geo import DATA_DIR, regions
from .models import Cluster, Desa, Kecamatan
from .permissions import ALL_ROLES, role_required

bp = Blueprint("regions", __name__, url_prefix="/geo")

# The starting taxonomy from the domain primer (section 6); editable afterwards.
CLUSTER_TAXONOMY = (
    ("pangan-tepung", "Pangan olahan berbahan tepung", "#e6194b"),
    ("kuliner", "Makanan siap saji/kuliner", "#f58231"),
    ("minuman-jamu", "Minuman & jamu", "#ffe119"),
    ("olahan-pertanian", "Olahan hasil pertanian", "#bfef45"),
    ("hasil-bumi", "Hasil bumi segar", "#3cb44b"),
    ("peternakan-perikanan", "Peternakan & perikanan", "#42d4f4"),
    ("kerajinan", "Kerajinan & aksesori", "#4363d8"),
    ("fesyen", "Fesyen, konveksi & bordir", "#911eb4"),
    ("jasa-wisata", "Jasa & wisata", "#f032e6"),
    ("toko-eceran", "Toko & perdagangan eceran", "#a9a9a9"),
    ("simpan-pinjam", "Simpan pinjam", "#800000"),
)

GEOJSON_FILES = {
    "kabupaten": "karanganyar_kabupaten.geojson",
    "kecamatan": "karanganyar_kecamatan.geojson",
    "desa": "karanganyar_desa_kelurahan.geojson",
}


def ensure_reference_data() -> dict[str, int]:
    """Load the 17 kecamatan, 177 villages and the cluster taxonomy when missing (idempotent)."""
    added = {"kecamatan": 0, "desa": 0, "cluster": 0}
    reg = regions()
    have_kec = set(db.session.execute(select(Kecamatan.kode)).scalars())
    for k in reg.kecamatan.values():
        if k.kode not in have_kec:
            db.session.add(
                Kecamatan(kode=k.kode, nama=k.nama, lat=k.lat, lng=k.lng, geojson=_geo(k.geometry))
            )
            added["kecamatan"] += 1
    db.session.flush()
    have_desa = set(db.session.execute(select(Desa.kode)).scalars())
    for v in reg.villages.values():
        if v.kode not in have_desa:
            db.session.add(
                Desa(
                    kode=v.kode,
                    kecamatan_kode=v.kecamatan_kode,
                    nama=v.nama,
                    jenis=v.jenis,
                    lat=v.lat,
                    lng=v.lng,
                    geojson=_geo(v.geometry),
                )
            )
            added["desa"] += 1
    if not db.session.execute(select(func.count()).select_from(Cluster)).scalar_one():
        for i, (code, name, color) in enumerate(CLUSTER_TAXONOMY):
            db.session.add(Cluster(code=code, name=name, color=color, sort_order=i))
            added["cluster"] += 1
    db.session.flush()
    return added


def _geo(geometry: dict) -> str:
    return json.dumps({k: v for k, v in geometry.items() if not k.startswith("_")})


@bp.route("/<name>.geojson")
@role_required(*ALL_ROLES)
def geojson(name: str):
    filename = GEOJSON_FILES.get(name) or abort(404)
    resp = Response((DATA_DIR / filename).read_bytes(), mimetype="application/geo+json")
    resp.headers["Cache-Control"] = "private, max-age=86400"
    return resp
