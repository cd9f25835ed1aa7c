"""The register pages as a clerk uses them: filters in the URL, forms that explain mistakes."""

from __future__ import annotations

import re

from sqlalchemy import func, select

from coop_audit.extensions import db
from coop_audit.models import Cooperative
from tests.conftest import csrf_token_from


def _count(html: str) -> int:
    return int(re.search(r'data-count="(\d+)"', html).group(1))


def test_filters_live_in_the_url_and_narrow_the_list(client, auth, users, make_coop):
    make_coop(name="KSP Jaten Satu", desa_kode="33.13.11.2001")
    make_coop(name="KUD Colomadu", desa_kode="33.13.12.2001", jenis="produsen")
    make_coop(name="KSP Jaten Dua", desa_kode="33.13.11.2002", status="dormant")
    auth.login("viewer")
    assert _count(client.get("/koperasi/").get_data(as_text=True)) == 3
    jaten = client.get("/koperasi/?kecamatan=33.13.11").get_data(as_text=True)
    assert _count(jaten) == 2 and "KUD Colomadu" not in jaten
    village = client.get("/koperasi/?kecamatan=33.13.11&desa=33.13.11.2002").get_data(as_text=True)
    assert _count(village) == 1 and "KSP Jaten Dua" in village
    assert _count(client.get("/koperasi/?status=dormant").get_data(as_text=True)) == 1
    assert _count(client.get("/koperasi/?jenis=produsen").get_data(as_text=True)) == 1
    assert _count(client.get("/koperasi/?q=jaten").get_data(as_text=True)) == 2


def test_search_treats_sql_and_wildcards_as_text(client, auth, users, make_coop):
    make_coop(name="KSP 100% Amanah")
    make_coop(name="KSP Lain")
    auth.login("viewer")
    assert _count(client.get("/koperasi/?q=100%25").get_data(as_text=True)) == 1
    assert _count(client.get("/koperasi/?q=%27%20OR%201=1--").get_data(as_text=True)) == 0
    assert _count(client.get("/koperasi/?q=_").get_data(as_text=True)) == 0


def test_unknown_filter_values_are_ignored_not_errors(client, auth, users, make_coop):
    make_coop()
    auth.login("viewer")
    resp = client.get("/koperasi/?status=bogus&jenis=x&sort=drop&page=-3&cluster=abc")
    assert resp.status_code == 200
    assert _count(resp.get_data(as_text=True)) == 1


def _form(client, path):
    html = client.get(path).get_data(as_text=True)
    return csrf_token_from(html)


def test_create_form_explains_mistakes_and_saves_nothing(client, auth, users, make_coop):
    other = make_coop(name="KUD Sido Makmur", bh_number="605/BH/XIV/1990")
    auth.login("clerk")
    token = _form(client, "/koperasi/baru")
    resp = client.post(
        "/koperasi/baru",
        data={
            "csrf_token": token,
            "name": "KSP Baru",
            "jenis": "simpan_pinjam",
            "bentuk": "primer",
            "bh_number": "605/BH/XIV/1990",
            "kecamatan_kode": "33.13.12",
            "desa_kode": "33.13.11.2001",
            "lat": "-6.9",
            "lng": "107.6",
        },
    )
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200
    assert "Tidak ada yang disimpan" in html
    assert "sudah dipakai oleh KUD Sido Makmur" in html
    assert f'href="/koperasi/{other.id}"' in html
    assert "tidak berada di Kecamatan Colomadu" in html
    assert "berada di luar Kabupaten Karanganyar" in html
    assert db.session.execute(select(func.count()).select_from(Cooperative)).scalar_one() == 1


def test_create_form_saves_a_valid_cooperative(client, auth, users):
    auth.login("clerk")
    token = _form(client, "/koperasi/baru")
    resp = client.post(
        "/koperasi/baru",
        data={
            "csrf_token": token,
            "name": "Koperasi <script>alert(1)</script> {{ 7*7 }}",
            "jenis": "jasa",
            "bentuk": "primer",
            "kecamatan_kode": "33.13.11",
            "desa_kode": "33.13.11.2001",
            "rt": "3",
            "rw": "12",
        },
    )
    assert resp.status_code == 302
    page = client.get(resp.location).get_data(as_text=True)
    assert "&lt;script&gt;alert(1)&lt;/script&gt; {{ 7*7 }}" in page
    assert "<script>alert(1)" not in page
    assert "RT 003/RW 012" in page


def test_edit_with_a_stale_version_is_refused(client, auth, users, make_coop):
    coop = make_coop(member_count=10)
    auth.login("clerk")
    token = _form(client, f"/koperasi/{coop.id}/ubah")
    data = {
        "csrf_token": token,
        "name": coop.name,
        "jenis": coop.jenis,
        "bentuk": "primer",
        "kecamatan_kode": coop.kecamatan_kode,
        "desa_kode": coop.desa_kode,
        "member_count": "20",
        "version": str(coop.version - 1 if coop.version > 1 else 99),
    }
    resp = client.post(f"/koperasi/{coop.id}/ubah", data=data, follow_redirects=True)
    assert "diubah oleh pengguna lain" in resp.get_data(as_text=True)
    db.session.refresh(coop)
    assert coop.member_count == 10


def test_cli_reports_an_unmigrated_database_without_a_traceback(tmp_path):
    from config import TestConfig
    from coop_audit import create_app

    class Cfg(TestConfig):
        SQLALCHEMY_DATABASE_URI = f"sqlite:///{tmp_path / 'empty.sqlite3'}"

    result = create_app(Cfg).test_cli_runner().invoke(args=["registry", "stats", "--json"])
    assert result.exit_code == 1
    assert "flask setup" in result.output
    assert "Traceback" not in result.output
