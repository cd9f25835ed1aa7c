"""Karanganyar's geography: the project's copy of the region data, point-in-polygon.

The data files in ``coop_audit/data`` are copied from ``shared/data`` (credit: Cahya DSN, MIT
licence; see ``coop_audit/data/README.md``). Everything here is pure Python and loaded once.
"""

from __future__ import annotations

import csv
import json
import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

DATA_DIR = Path(__file__).with_name("data")

# A ring is a list of (lng, lat) pairs, GeoJSON order.
Ring = list[tuple[float, float]]


@dataclass(frozen=True)
class Area:
    """A kecamatan, a village or the regency: code, name, centroid and outline."""

    kode: str
    nama: str
    lat: float
    lng: float
    geometry: dict = field(repr=False, compare=False, hash=False)
    jenis: str = ""  # "desa" or "kelurahan" for villages
    kecamatan_kode: str = ""  # villages only

    @property
    def polygons(self) -> list[list[Ring]]:
        return _polygons(self.geometry)

    @property
    def bbox(self) -> tuple[float, float, float, float]:
        return _bbox(self.geometry)

    def contains(self, lat: float, lng: float) -> bool:
        return geometry_contains(self.geometry, lat, lng)


def _polygons(geometry: dict) -> list[list[Ring]]:
    if geometry["type"] == "Polygon":
        return [geometry["coordinates"]]
    if geometry["type"] == "MultiPolygon":
        return geometry["coordinates"]
    raise ValueError(f"unsupported geometry {geometry['type']}")


def _compute_bbox(geometry: dict) -> tuple[float, float, float, float]:
    xs: list[float] = []
    ys: list[float] = []
    for poly in _polygons(geometry):
        for x, y in poly[0]:
            xs.append(x)
            ys.append(y)
    return min(xs), min(ys), max(xs), max(ys)


def _bbox(geometry: dict) -> tuple[float, float, float, float]:
    bb = geometry.get("_bbox")
    if bb is None:
        bb = _compute_bbox(geometry)
        geometry["_bbox"] = bb
    return bb


def _ring_contains(ring: Ring, x: float, y: float) -> bool:
    # Ray casting; points exactly on an edge may go either way, which is fine for field data.
    inside = False
    j = len(ring) - 1
    for i in range(len(ring)):
        xi, yi = ring[i][0], ring[i][1]
        xj, yj = ring[j][0], ring[j][1]
        if (yi > y) != (yj > y) and x < (xj - xi) * (y - yi) / (yj - yi) + xi:
            inside = not inside
        j = i
    return inside


def geometry_contains(geometry: dict, lat: float, lng: float) -> bool:
    """True when the point lies inside the (Multi)Polygon, holes excluded."""
    minx, miny, maxx, maxy = _bbox(geometry)
    if not (minx <= lng <= maxx and miny <= lat <= maxy):
        return False
    for poly in _polygons(geometry):
        if _ring_contains(poly[0], lng, lat) and not any(
            _ring_contains(hole, lng, lat) for hole in poly[1:]
        ):
            return True
    return False


def _load_features(name: str) -> dict[str, dict]:
    with (DATA_DIR / name).open(encoding="utf-8") as fh:
        data = json.load(fh)
    return {f["properties"]["kode"]: f for f in data["features"]}


@dataclass(frozen=True)
class Regions:
    regency: Area
    kecamatan: dict[str, Area]  # by kode, in code order
    villages: dict[str, Area]  # by kode, in code order

    def villages_of(self, kecamatan_kode: str) -> list[Area]:
        return [v for v in self.villages.values() if v.kecamatan_kode == kecamatan_kode]

    def in_regency(self, lat: float, lng: float) -> bool:
        # The regency outline is coarse (68 points): a point inside any village polygon counts.
        return self.regency.contains(lat, lng) or self.village_at(lat, lng) is not None

    def kecamatan_at(self, lat: float, lng: float) -> Area | None:
        return next((k for k in self.kecamatan.values() if k.contains(lat, lng)), None)

    def village_at(self, lat: float, lng: float) -> Area | None:
        return next((v for v in self.villages.values() if v.contains(lat, lng)), None)

    def find_kecamatan(self, text: str | None) -> Area | None:
        """Resolve what clerks write ("KEC. JATEN ", "Kecamatan Jaten", "jaten") to a kecamatan."""
        key = kecamatan_key(text)
        if not key:
            return None
        return next((k for k in self.kecamatan.values() if name_key(k.nama) == key), None)

    def find_village(self, kecamatan_kode: str, text: str | None) -> Area | None:
        """Resolve a village name inside one kecamatan (names repeat across kecamatan)."""
        key = village_key(text)
        if not key:
            return None
        return next((v for v in self.villages_of(kecamatan_kode) if name_key(v.nama) == key), None)

    def villages_named(self, text: str | None) -> list[Area]:
        key = village_key(text)
        return [v for v in self.villages.values() if name_key(v.nama) == key] if key else []


_SPACES = re.compile(r"[\s.\-_/]+")
_KEC_PREFIX = re.compile(r"^(kecamatan|kec)\b\.?\s*", re.IGNORECASE)
_VILLAGE_PREFIX = re.compile(r"^(desa|kelurahan|kel|ds)\b\.?\s*", re.IGNORECASE)


def name_key(text: str | None) -> str:
    """Case-, space- and punctuation-insensitive key for place names."""
    return _SPACES.sub("", (text or "").strip().lower())


def kecamatan_key(text: str | None) -> str:
    return name_key(_KEC_PREFIX.sub("", (text or "").strip()))


def village_key(text: str | None) -> str:
    return name_key(_VILLAGE_PREFIX.sub("", (text or "").strip()))


@cache
def regions() -> Regions:
    """The 17 kecamatan and 177 villages of Kabupaten Karanganyar (loaded once per process)."""
    kec_feats = _load_features("karanganyar_kecamatan.geojson")
    vil_feats = _load_features("karanganyar_desa_kelurahan.geojson")
    kab = next(iter(_load_features("karanganyar_kabupaten.geojson").values()))
    kecamatan: dict[str, Area] = {}
    with (DATA_DIR / "karanganyar_kecamatan.csv").open(encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            kecamatan[row["kode"]] = Area(
                kode=row["kode"],
                nama=row["kecamatan"],
                lat=float(row["lat"]),
                lng=float(row["lng"]),
                geometry=kec_feats[row["kode"]]["geometry"],
            )
    villages: dict[str, Area] = {}
    with (DATA_DIR / "karanganyar_desa_kelurahan.csv").open(encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            villages[row["kode"]] = Area(
                kode=row["kode"],
                nama=row["desa_kelurahan"],
                lat=float(row["lat"]),
                lng=float(row["lng"]),
                geometry=vil_feats[row["kode"]]["geometry"],
                jenis=row["jenis"],
                kecamatan_kode=row["kode"].rsplit(".", 1)[0],
            )
    regency = Area(
        kode=kab["properties"]["kode"],
        nama=kab["properties"]["nama"],
        lat=kab["properties"]["lat"],
        lng=kab["properties"]["lng"],
        geometry=kab["geometry"],
    )
    return Regions(regency=regency, kecamatan=kecamatan, villages=villages)
