"""The berita acara pemeriksaan: one A4 page per submitted audit, with its photos (WeasyPrint).

The HTML is self-contained: photos are embedded as data: URIs from their stored thumbnails, the
fonts come from coop_audit/static/fonts, and the letters' StaticOnlyFetcher refuses any other
URL, so text typed by an inspector can never make the renderer read a file or the network.
"""

from __future__ import annotations

import base64
from functools import cache
from pathlib import Path
from typing import Any

import jinja2
from weasyprint import CSS, HTML

from ..letters import formatting
from ..letters.render import FONT_CONFIG, STATIC_DIR, StaticOnlyFetcher
from ..timeutil import local_today
from . import uploads
from .facts import verdict_reasons

TEMPLATE_DIR = Path(__file__).resolve().parents[2] / "templates" / "audits" / "pdf"
MAX_PHOTOS = 6
DEFAULT_OFFICE = "Dinas Koperasi, Usaha Kecil, Transmigrasi, Energi dan Sumber Daya Mineral"

_env = jinja2.Environment(
    loader=jinja2.FileSystemLoader(TEMPLATE_DIR),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
_env.filters.update(tanggal=formatting.tanggal, angka=formatting.angka)

JENIS_ID = {
    "simpan_pinjam": "Simpan Pinjam",
    "konsumen": "Konsumen",
    "produsen": "Produsen",
    "pemasaran": "Pemasaran",
    "jasa": "Jasa",
}
HEALTH_ID = {
    "sehat": "Sehat",
    "cukup_sehat": "Cukup Sehat",
    "dalam_pengawasan": "Dalam Pengawasan",
    "dalam_pengawasan_khusus": "Dalam Pengawasan Khusus",
}
VERDICT_ID = {
    "healthy": "Sehat/aktif",
    "needs_coaching": "Perlu pembinaan",
    "dormancy_evidence": "Ditemukan bukti tidak aktif (mati suri)",
    "insufficient_evidence": "Bukti belum cukup",
}
DAYS_ID = ("Senin", "Selasa", "Rabu", "Kamis", "Jumat", "Sabtu", "Minggu")


@cache
def _stylesheet() -> CSS:
    return CSS(
        string=(TEMPLATE_DIR / "report.css").read_text(encoding="utf-8"),
        base_url=str(STATIC_DIR) + "/",
        url_fetcher=StaticOnlyFetcher(),
        font_config=FONT_CONFIG,
    )


def _yn(value: Any) -> str:
    return "—" if value is None else ("Ya" if value else "Tidak")


def _rp(value: int | None) -> str:
    return "—" if value is None else "Rp " + formatting.angka(value)


def _office_name() -> str:
    from .. import settings

    for key in ("office.name", "office_name", "letterhead.office"):
        try:
            value = settings.get(key)
        except KeyError:
            continue
        if isinstance(value, str) and value.strip():
            return value.strip()
    return DEFAULT_OFFICE


def report_html(audit: Any, upload_dir: str | Path, office_name: str | None = None) -> str:
    coop = audit.cooperative
    photos = []
    for f in audit.photos[:MAX_PHOTOS]:
        name = f.thumb_name or f.stored_name
        try:
            data = uploads.path_of(upload_dir, name).read_bytes()
        except OSError:
            continue
        mime = "image/jpeg" if f.thumb_name else f.mime
        photos.append(
            {
                "uri": f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}",
                "name": f.display_name,
                "sha": f.sha256,
            }
        )
    rat = [
        {
            "fy": r.get("fy"),
            "held": _yn(r.get("held")),
            "date": r.get("date") or "—",
            "attendance": r.get("attendance") if r.get("attendance") not in (None, "") else "—",
            "minutes": _yn(r.get("minutes")),
        }
        for r in audit.rat or []
        if r.get("fy")
    ]
    existence = [
        ("Kantor ditemukan di alamat", _yn(audit.office_found)),
        ("Papan nama", _yn(audit.signboard)),
        ("Pengurus dapat ditemui", _yn(audit.board_reachable)),
        ("Buku dan register ada", _yn(audit.books_present)),
        ("Pengurus lengkap", _yn(audit.board_complete)),
        ("Pengawas lengkap", _yn(audit.supervisors_complete)),
        ("Masa jabatan masih berlaku", _yn(audit.terms_valid)),
        (
            "Jumlah anggota",
            "—" if audit.member_count is None else formatting.angka(audit.member_count),
        ),
        ("Surat keterangan kepala desa", _yn(audit.village_head_statement)),
    ]
    business = [
        ("AD/ART ada / disahkan", f"{_yn(audit.adart_exists)} / {_yn(audit.adart_approved)}"),
        ("Usaha sesuai AD/ART", _yn(audit.business_matches_adart)),
        ("Kegiatan usaha nyata 2 tahun terakhir", _yn(audit.business_active)),
        ("Jenis usaha", audit.business_description or "—"),
        ("Volume usaha per tahun", _rp(audit.business_volume)),
        ("Neraca dan laporan SHU", _yn(audit.balance_sheet)),
        ("SHU tahun buku terakhir", _rp(audit.shu_amount)),
        ("Utang bank/LPDB", _rp(audit.bank_debt)),
        ("Kesehatan koperasi", HEALTH_ID.get(audit.health_rating or "", "—")),
    ]
    template = _env.get_template("berita_acara.html")
    codes = set(audit.verdict_codes or [])
    from .. import rules

    grounds = []
    ground_by_code = {
        "no_rat": rules.GROUND_RAT,
        "no_business": rules.GROUND_BUSINESS,
        "not_found": rules.GROUND_NOT_FOUND,
        "village_head_statement": rules.GROUND_NOT_FOUND,
        "members_below_minimum": rules.GROUND_MEMBERS,
    }
    for code in audit.verdict_codes or []:
        g = ground_by_code.get(code)
        if g and g not in grounds:
            grounds.append(g)
    first = lambda text: (text or "").splitlines()[0].split(",")[0].strip() if text else ""  # noqa: E731
    return template.render(
        audit=audit,
        coop=coop,
        jenis=JENIS_ID.get(coop.jenis, coop.jenis),
        office_name=office_name or _office_name(),
        printed_on=local_today(),
        visit_day=DAYS_ID[audit.visit_date.weekday()] if audit.visit_date else "",
        existence=existence,
        business=business,
        rat=rat,
        photos=photos,
        more_photos=max(0, len(audit.photos) - MAX_PHOTOS),
        documents=audit.documents,
        verdict_label=VERDICT_ID.get(audit.verdict_kind or "", "—"),
        verdict_reasons=verdict_reasons(audit.verdict_summary),
        grounds=grounds if codes else [],
        met_first=first(audit.met_persons),
        inspector_first=first(audit.inspectors),
    )


def render_report(audit: Any, upload_dir: str | Path, office_name: str | None = None) -> bytes:
    html = HTML(
        string=report_html(audit, upload_dir, office_name),
        base_url=str(STATIC_DIR) + "/",
        url_fetcher=StaticOnlyFetcher(),
    )
    return html.write_pdf(stylesheets=[_stylesheet()], font_config=FONT_CONFIG)
