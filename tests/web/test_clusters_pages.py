"""Cluster pages through the test client: counts match the register, roles, forms, downloads."""

from __future__ import annotations

import io
import re

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader
from sqlalchemy import select

from coop_audit import demo
from coop_audit.clusters import queries
from coop_audit.extensions import db
from coop_audit.models import Cluster, Cooperative, HistoryEvent
from tests.conftest import csrf_token_from


@pytest.fixture
def seeded(app, users):
    demo.seed(300, 120, with_users=False)
    db.session.commit()


def data_count(html: str, element_id: str) -> int:
    m = re.search(rf'id="{element_id}"[^>]*data-count="(\d+)"', html)
    assert m, element_id
    return int(m.group(1))


@pytest.mark.parametrize(
    "query",
    ["", "?status=dormant", "?status=all&kecamatan=33.13.11", "?cluster=1&jenis=konsumen"],
)
def test_map_count_equals_the_register_count_for_the_same_filter(seeded, client, auth, query):
    auth.login("viewer")
    page = client.get(f"/klaster/peta{query}").get_data(as_text=True)
    shown = data_count(page, "map-count")
    link = re.search(r'href="([^"]+)" id="open-register"', page).group(1).replace("&amp;", "&")
    register = client.get(link).get_data(as_text=True)
    assert shown == data_count(register, "result-count")
    data = client.get(f"/klaster/peta/data{query or '?'}&z=11").get_json()
    assert data["total"] == shown
    assert data["mode"] == "points"
    assert len(data["p"]) + data["without"] == shown
    assert data_count(page, "without-location") == data["without"]


def test_map_defaults_to_active_cooperatives(seeded, client, auth):
    auth.login("viewer")
    page = client.get("/klaster/peta").get_data(as_text=True)
    assert data_count(page, "map-count") == 120
    assert 'value="active" selected' in page


def test_map_data_aggregates_when_there_are_too_many_points(seeded, client, auth, monkeypatch):
    auth.login("viewer")
    monkeypatch.setattr(queries, "POINT_LIMIT", 10)
    low = client.get("/klaster/peta/data?z=10").get_json()
    assert low["mode"] == "kecamatan"
    assert sum(a["n"] for a in low["a"]) == low["located"]
    assert all(sum(a["m"].values()) == a["n"] for a in low["a"])
    village = client.get("/klaster/peta/data?z=12").get_json()
    assert village["mode"] == "desa" and sum(a["n"] for a in village["a"]) == low["located"]
    # Zoomed into a small box: few enough points there, so they are sent (clipped).
    coop = (
        db.session.execute(
            select(Cooperative).where(Cooperative.status == "active", Cooperative.lat.is_not(None))
        )
        .unique()
        .scalars()
        .first()
    )
    box = f"{coop.lng - 0.002},{coop.lat - 0.002},{coop.lng + 0.002},{coop.lat + 0.002}"
    near = client.get(f"/klaster/peta/data?z=16&bbox={box}").get_json()
    assert near["mode"] == "points" and near["clipped"] is True
    assert coop.id in [p[0] for p in near["p"]]


def test_map_data_ignores_a_malformed_box(seeded, client, auth):
    auth.login("viewer")
    resp = client.get("/klaster/peta/data?z=abc&bbox=1,2,x")
    assert resp.status_code == 200 and resp.get_json()["mode"] == "points"


def test_point_outside_its_village_is_flagged_on_the_map(app, users, make_coop, client, auth):
    inside = make_coop(name="Di dalam")  # 33.13.11.2001 with no point: without location
    far = make_coop(name="Salah titik", lat=-7.70, lng=111.15)  # far from Jaten
    auth.login("viewer")
    page = client.get("/klaster/peta").get_data(as_text=True)
    assert data_count(page, "outside-village") == 1
    assert data_count(page, "without-location") == 1
    assert "Salah titik" in page and "Di dalam" in page
    data = client.get("/klaster/peta/data").get_json()
    assert [p[5] for p in data["p"] if p[0] == far.id] == [1]
    popup = client.get(f"/klaster/peta/koperasi/{far.id}").get_json()
    assert popup["outside"] and "google.com/maps/search/?api=1&query=-7.7,111.15" in popup["gmaps"]
    assert popup["url"].endswith(f"/koperasi/{far.id}")
    assert client.get(f"/klaster/peta/koperasi/{inside.id}").get_json()["gmaps"] == ""


def test_register_offers_map_and_assign_links_with_its_filter(seeded, client, auth):
    auth.login("clerk")
    page = client.get("/koperasi/?kecamatan=33.13.11").get_data(as_text=True)
    assert "/klaster/peta?kecamatan=33.13.11&amp;status=all" in page
    assert "/klaster/tetapkan?kecamatan=33.13.11" in page
    auth.logout()
    auth.login("viewer")
    page = client.get("/koperasi/?kecamatan=33.13.11").get_data(as_text=True)
    assert "/klaster/peta?" in page and "/klaster/tetapkan" not in page


def test_bulk_assign_from_the_register_filter(seeded, client, auth):
    auth.login("inspector")
    url = "/klaster/tetapkan?kecamatan=33.13.11&status=dormant"
    page = client.get(url).get_data(as_text=True)
    n = data_count(page, "assign-count")
    target = db.session.execute(select(Cluster).where(Cluster.code == "kerajinan")).scalar_one()
    bad = client.post(url, data={"csrf_token": csrf_token_from(page), "cluster": ""})
    assert "Choose the cluster" in bad.get_data(as_text=True) or bad.status_code == 200
    resp = client.post(url, data={"csrf_token": csrf_token_from(page), "cluster": str(target.id)})
    assert resp.status_code == 302
    rows = (
        db.session.execute(
            select(Cooperative.cluster_id).where(
                Cooperative.kecamatan_kode == "33.13.11", Cooperative.status == "dormant"
            )
        )
        .scalars()
        .all()
    )
    assert len(rows) == n and set(rows) == {target.id}
    assigned = (
        db.session.execute(select(HistoryEvent).where(HistoryEvent.kind == "cluster_assigned"))
        .scalars()
        .all()
    )
    assert 0 < len(assigned) <= n


def test_viewer_cannot_assign_or_see_the_shortlist(app, users, client, auth):
    auth.login("viewer")
    assert client.get("/klaster/tetapkan").status_code == 403
    assert client.get("/klaster/usulan").status_code == 403
    assert client.get("/klaster/taksonomi").status_code == 403
    assert client.get("/klaster/ringkasan").status_code == 200


def test_deleting_a_cluster_in_use_shows_why(app, users, make_coop, client, auth):
    used = db.session.execute(select(Cluster).where(Cluster.code == "kuliner")).scalar_one()
    make_coop(cluster_id=used.id)
    auth.login("admin")
    page = client.get("/klaster/taksonomi").get_data(as_text=True)
    resp = client.post(
        f"/klaster/taksonomi/{used.id}/hapus",
        data={"csrf_token": csrf_token_from(page)},
        follow_redirects=True,
    )
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200
    assert "cannot be deleted" in html or "tidak dapat dihapus" in html
    assert db.session.get(Cluster, used.id) is not None


def test_adding_a_cluster_with_a_bad_colour_names_the_field(app, users, client, auth):
    auth.login("admin")
    page = client.get("/klaster/taksonomi").get_data(as_text=True)
    resp = client.post(
        "/klaster/taksonomi",
        data={
            "csrf_token": csrf_token_from(page),
            "code": "batik",
            "name": "Batik",
            "color": "merah",
        },
    )
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200 and "is-invalid" in html
    assert db.session.execute(select(Cluster).where(Cluster.code == "batik")).first() is None


def test_summary_drills_down_and_exports(seeded, client, auth):
    auth.login("viewer")
    top = client.get("/klaster/ringkasan").get_data(as_text=True)
    total = int(re.search(r'id="summary-total" data-total="(\d+)"', top).group(1))
    assert total == 120 and "<svg" in top and "style=" not in top.split("summary-table")[0][-2000:]
    kec = client.get("/klaster/ringkasan?kecamatan=33.13.11").get_data(as_text=True)
    assert "?kecamatan=33.13.11&amp;desa=33.13.11." in kec or "desa=33.13.11." in kec
    rt = client.get("/klaster/ringkasan?kecamatan=33.13.11&desa=33.13.11.2001&status=all")
    assert rt.status_code == 200 and "RW" in rt.get_data(as_text=True)
    xlsx = client.get("/klaster/ringkasan.xlsx")
    ws = load_workbook(io.BytesIO(xlsx.data)).active
    assert ws.cell(row=ws.max_row - 2, column=1).value in ("Total", "Jumlah")
    assert ws.cell(row=ws.max_row - 2, column=ws.max_column).value == 120


def test_shortlist_page_explains_each_rank_and_exports_a_lampiran(seeded, client, auth):
    auth.login("head")
    kul = db.session.execute(select(Cluster).where(Cluster.code == "simpan-pinjam")).scalar_one()
    page = client.get(f"/klaster/usulan?cluster={kul.id}").get_data(as_text=True)
    ranks = re.findall(r'data-rank="(\d+)"', page)
    assert ranks and ranks == [str(i) for i in range(1, len(ranks) + 1)]
    assert page.count('small rank-reason"') == len(ranks)
    assert len(re.findall(r'small rank-reason">\s*\S', page)) == len(ranks)
    resp = client.post(
        f"/klaster/usulan/simpan?cluster={kul.id}", data={"csrf_token": csrf_token_from(page)}
    )
    assert resp.status_code == 302
    saved = resp.headers["Location"]
    pdf = client.get(saved + ".pdf")
    assert pdf.mimetype == "application/pdf"
    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.data)).pages)
    assert "DAFTAR CALON PENERIMA DUKUNGAN PERMODALAN" in text
    assert "SIMPAN PINJAM" in text
    xlsx = load_workbook(io.BytesIO(client.get(saved + ".xlsx").data)).active
    assert xlsx.max_row == 1 + len(ranks) + 2  # header, rows, a blank line, the note


def test_override_without_reason_is_refused_with_a_message(seeded, client, auth):
    auth.login("inspector")
    coop = (
        db.session.execute(select(Cooperative).where(Cooperative.cluster_id.is_not(None)))
        .unique()
        .scalars()
        .first()
    )
    page = client.get(f"/klaster/usulan?cluster={coop.cluster_id}").get_data(as_text=True)
    resp = client.post(
        "/klaster/usulan/keputusan",
        data={
            "csrf_token": csrf_token_from(page),
            "cooperative_id": coop.id,
            "action": "pin",
            "reason": "",
        },
        follow_redirects=True,
    )
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200 and "alert-danger" in html
    assert "Alasan: Isian ini wajib diisi." in html  # the field, named in the user's language
    assert not db.session.execute(
        select(HistoryEvent).where(HistoryEvent.kind == "shortlist_pinned")
    ).first()


def test_criteria_settings_page_rejects_a_bad_weight_and_saves_a_good_one(app, users, client, auth):
    auth.login("admin")
    page = client.get("/klaster/pengaturan-usulan").get_data(as_text=True)
    form = {"csrf_token": csrf_token_from(page)}
    for code in (
        "active",
        "rat",
        "legal_entity",
        "office_found",
        "shu_positive",
        "health",
        "coordinates",
    ):
        form[f"{code}_enabled"] = "y"
        form[f"{code}_weight"] = "2"
    bad = client.post("/klaster/pengaturan-usulan", data={**form, "rat_weight": "11"})
    assert bad.status_code == 200 and "is-invalid" in bad.get_data(as_text=True)
    good = client.post("/klaster/pengaturan-usulan", data={**form, "coordinates_required": "y"})
    assert good.status_code == 302
    from coop_audit import settings

    stored = settings.get("shortlist.criteria")
    assert stored["coordinates"]["required"] is True and stored["rat"]["weight"] == 2
    assert stored["rat"]["required"] is False
