"""GeoJSON and KML 2.2 exports, from the operations and from `flask clusters export`."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

import pytest
from sqlalchemy import select

from coop_audit import demo
from coop_audit.clusters import exports
from coop_audit.extensions import db
from coop_audit.models import Cluster, Cooperative
from coop_audit.registry.query import RegisterFilter

NS = {"k": "http://www.opengis.net/kml/2.2"}


@pytest.fixture
def seeded(app):
    demo.seed(300, 120, with_users=False)
    db.session.commit()


def test_kml_has_a_folder_per_cluster_holding_every_active_located_cooperative(seeded):
    rows, skipped = exports.export_rows(RegisterFilter.from_args({"status": "active"}))
    root = ET.fromstring(exports.to_kml(rows, "Uji", "http://x"))
    assert root.tag == "{http://www.opengis.net/kml/2.2}kml"
    doc = root.find("k:Document", NS)
    styles = {s.get("id"): s for s in doc.findall("k:Style", NS)}
    folders = {f.findtext("k:name", namespaces=NS): f for f in doc.findall("k:Folder", NS)}

    active = (
        db.session.execute(select(Cooperative).where(Cooperative.status == "active"))
        .unique()
        .scalars()
        .all()
    )
    located = [c for c in active if c.has_location]
    assert skipped == len(active) - len(located)
    placemarks = doc.findall(".//k:Placemark", NS)
    assert len(placemarks) == len(located) > 50
    for c in located:
        folder_name = c.cluster.name if c.cluster else "No cluster"
        pm = folders[folder_name].find(f"k:Placemark[@id='coop-{c.id}']", NS)
        assert pm is not None, c.name
        assert pm.findtext("k:name", namespaces=NS) == c.name
        style_id = pm.findtext("k:styleUrl", namespaces=NS).lstrip("#")
        assert style_id in styles
        colour = styles[style_id].findtext("k:IconStyle/k:color", namespaces=NS)
        assert colour == exports.kml_color(c.cluster.color if c.cluster else "#6c757d")
        lng, lat, _alt = pm.findtext("k:Point/k:coordinates", namespaces=NS).split(",")
        assert float(lat) == pytest.approx(c.lat) and float(lng) == pytest.approx(c.lng)
        assert c.desa.nama in pm.findtext("k:description", namespaces=NS)


def test_kml_escapes_names_and_descriptions(app, make_coop):
    cl = db.session.execute(select(Cluster).where(Cluster.code == "kerajinan")).scalar_one()
    make_coop(
        name='KSU "A & B" <script>x</script>',
        lat=-7.6,
        lng=111.0,
        cluster_id=cl.id,
        products="Batik & <b>tenun</b>",
    )
    rows, _ = exports.export_rows(RegisterFilter.from_args({"status": "active"}))
    data = exports.to_kml(rows, "Uji & <coba>")
    assert b"<script>" not in data
    root = ET.fromstring(data)
    pm = root.find(".//k:Placemark", NS)
    assert pm.findtext("k:name", namespaces=NS) == 'KSU "A & B" <script>x</script>'
    desc = pm.findtext("k:description", namespaces=NS)
    assert "&lt;b&gt;tenun&lt;/b&gt;" in desc and "<b>tenun</b>" not in desc
    assert root.findtext("k:Document/k:name", namespaces=NS) == "Uji & <coba>"


def test_geojson_has_one_point_per_located_cooperative(seeded):
    flt = RegisterFilter.from_args({"status": "active", "kecamatan": "33.13.11"})
    rows, skipped = exports.export_rows(flt)
    doc = json.loads(exports.to_geojson(rows))
    total = db.session.execute(flt.count_select()).scalar_one()
    assert len(doc["features"]) + skipped == total
    f = doc["features"][0]
    assert f["geometry"]["type"] == "Point" and len(f["geometry"]["coordinates"]) == 2
    assert f["properties"]["kecamatan"]


def test_cli_exports_kml_filtered_by_kecamatan_name(seeded, runner, tmp_path):
    out = tmp_path / "jaten.kml"
    result = runner.invoke(
        args=["clusters", "export", "--format", "kml", "--out", str(out), "--kecamatan", "Jaten"]
    )
    assert result.exit_code == 0, result.output
    root = ET.parse(out).getroot()
    n = len(root.findall(".//k:Placemark", NS))
    flt = RegisterFilter.from_args(
        {"status": "active", "kecamatan": "33.13.11", "location": "with"}
    )
    assert n == db.session.execute(flt.count_select()).scalar_one() > 0
    assert f"Wrote {n} cooperatives" in result.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--kecamatan", "Atlantis"], "--kecamatan"),
        (["--cluster", "no-such"], "--cluster"),
        (["--status", "sleeping"], "--status"),
    ],
)
def test_cli_export_names_the_bad_option(app, runner, tmp_path, args, message):
    out = tmp_path / "x.geojson"
    result = runner.invoke(
        args=["clusters", "export", "--format", "geojson", "--out", str(out), *args]
    )
    assert result.exit_code == 1
    assert message in result.output
    assert "Traceback" not in result.output
    assert not out.exists()
