"""Exports for other tools: GeoJSON, KML 2.2 (Google Earth, My Maps), XLSX and the PDF Lampiran."""

from __future__ import annotations

import io
import json
import xml.etree.ElementTree as ET  # nosec B405 - builds KML, never parses input
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import jinja2
from flask_babel import force_locale
from flask_babel import gettext as _
from markupsafe import escape
from openpyxl import Workbook
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter
from sqlalchemy import select

from ..extensions import db
from ..labels import JENIS_LABELS, STATUS_LABELS
from ..models import Cluster, User
from ..models.clusters import Shortlist
from ..registry.query import RegisterFilter
from . import shortlist as sl
from .queries import SummaryTable, clusters

KML_NS = "http://www.opengis.net/kml/2.2"
GMAPS = "https://www.google.com/maps/search/?api=1&query={lat},{lng}"
NO_CLUSTER_COLOR = "#6c757d"


@dataclass
class ExportRow:
    id: int
    name: str
    status: str
    jenis: str
    kelompok: str
    bh_number: str
    cluster_code: str
    cluster_name: str
    color: str
    desa: str
    kecamatan: str
    rt: str
    rw: str
    street: str
    products: str
    kbli: str
    lat: float
    lng: float


def export_rows(flt: RegisterFilter) -> tuple[list[ExportRow], int]:
    """Located cooperatives matching the filter, and how many matched but have no coordinates."""
    rows: list[ExportRow] = []
    skipped = 0
    q = flt.select()
    for c in db.session.execute(q).unique().scalars():
        if not c.has_location:
            skipped += 1
            continue
        cl = c.cluster
        rows.append(
            ExportRow(
                id=c.id,
                name=c.name,
                status=c.status,
                jenis=c.jenis,
                kelompok=c.kelompok or "",
                bh_number=c.bh_number or "",
                cluster_code=cl.code if cl else "",
                cluster_name=cl.name if cl else "",
                color=cl.color if cl else NO_CLUSTER_COLOR,
                desa=c.desa.nama,
                kecamatan=c.kecamatan.nama,
                rt=c.rt or "",
                rw=c.rw or "",
                street=c.street or "",
                products=c.products or "",
                kbli=c.kbli or "",
                lat=float(c.lat),
                lng=float(c.lng),
            )
        )
    return rows, skipped


def to_geojson(rows: Iterable[ExportRow], base_url: str = "") -> bytes:
    features = [
        {
            "type": "Feature",
            "id": r.id,
            "geometry": {"type": "Point", "coordinates": [r.lng, r.lat]},
            "properties": {
                "name": r.name,
                "status": r.status,
                "jenis": r.jenis,
                "kelompok": r.kelompok,
                "bh_number": r.bh_number,
                "cluster": r.cluster_code,
                "cluster_name": r.cluster_name,
                "marker-color": r.color,
                "desa": r.desa,
                "kecamatan": r.kecamatan,
                "rt": r.rt,
                "rw": r.rw,
                "street": r.street,
                "products": r.products,
                "kbli": r.kbli,
                "url": f"{base_url}/koperasi/{r.id}" if base_url else "",
            },
        }
        for r in rows
    ]
    doc = {"type": "FeatureCollection", "features": features}
    return json.dumps(doc, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def kml_color(hex_rgb: str) -> str:
    """#rrggbb -> KML's aabbggrr."""
    h = hex_rgb.lstrip("#")
    if len(h) != 6:
        h = NO_CLUSTER_COLOR.lstrip("#")
    return f"ff{h[4:6]}{h[2:4]}{h[0:2]}".lower()


def _description(r: ExportRow, base_url: str) -> str:
    # HTML for Google Earth's balloon; every value is HTML-escaped here and the XML writer
    # escapes the whole text again, so a name like "A & B <x>" stays text.
    lines = [
        (_("Status"), str(STATUS_LABELS.get(r.status, r.status))),
        (_("Type"), str(JENIS_LABELS.get(r.jenis, r.jenis))),
        (_("Group"), r.kelompok),
        (_("BH number"), r.bh_number),
        (_("Cluster"), r.cluster_name or _("No cluster")),
        (_("Products"), r.products),
        (_("Address"), r.street),
        ("RT/RW", f"{r.rt or '—'}/{r.rw or '—'}"),
        (_("Village"), r.desa),
        (_("Kecamatan"), r.kecamatan),
    ]
    parts = [f"<b>{escape(k)}</b>: {escape(v)}" for k, v in lines if v]
    if base_url:
        url = f"{base_url}/koperasi/{r.id}"
        parts.append(f'<a href="{escape(url)}">{escape(_("Open in the register"))}</a>')
    return "<br>".join(parts)


def to_kml(rows: Iterable[ExportRow], title: str, base_url: str = "") -> bytes:
    """KML 2.2: one Style per cluster colour, one Folder per cluster, one Placemark each."""
    ET.register_namespace("", KML_NS)

    def el(parent: ET.Element, tag: str, text: str | None = None) -> ET.Element:
        e = ET.SubElement(parent, f"{{{KML_NS}}}{tag}")
        if text is not None:
            e.text = text
        return e

    root = ET.Element(f"{{{KML_NS}}}kml")
    doc = el(root, "Document")
    el(doc, "name", title)
    by_cluster: dict[str, list[ExportRow]] = {}
    for r in rows:
        by_cluster.setdefault(r.cluster_code, []).append(r)
    order = [(c.code, c.name, c.color) for c in clusters()]
    order.append(("", _("No cluster"), NO_CLUSTER_COLOR))
    for code, _name, color in order:
        if code not in by_cluster:
            continue
        style = el(doc, "Style")
        style.set("id", f"cluster-{code or 'none'}")
        icon_style = el(style, "IconStyle")
        el(icon_style, "color", kml_color(color))
        el(icon_style, "scale", "1.0")
        icon = el(icon_style, "Icon")
        el(icon, "href", "https://maps.google.com/mapfiles/kml/shapes/placemark_circle.png")
    for code, name, _color in order:
        members = by_cluster.get(code)
        if not members:
            continue
        folder = el(doc, "Folder")
        el(folder, "name", name)
        for r in members:
            pm = el(folder, "Placemark")
            pm.set("id", f"coop-{r.id}")
            el(pm, "name", r.name)
            el(pm, "styleUrl", f"#cluster-{code or 'none'}")
            el(pm, "description", _description(r, base_url))
            ext = el(pm, "ExtendedData")
            for key, value in (
                ("status", r.status),
                ("cluster", r.cluster_code),
                ("desa", r.desa),
                ("kecamatan", r.kecamatan),
                ("rt", r.rt),
                ("rw", r.rw),
            ):
                d = el(ext, "Data")
                d.set("name", key)
                el(d, "value", value)
            pt = el(pm, "Point")
            el(pt, "coordinates", f"{r.lng:.6f},{r.lat:.6f},0")
    ET.indent(root, space=" ")
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)


# ---------------------------------------------------------------- XLSX

_HEAD_FONT = Font(bold=True)
_HEAD_FILL = PatternFill("solid", fgColor="DDDDDD")


def _sheet_header(ws, headers: list[str]) -> None:
    ws.append(headers)
    for i, _h in enumerate(headers, start=1):
        cell = ws.cell(row=1, column=i)
        cell.font, cell.fill = _HEAD_FONT, _HEAD_FILL
    ws.freeze_panes = "B2"


def _autosize(ws, widths: dict[int, int] | None = None) -> None:
    for i, col in enumerate(ws.iter_cols(min_row=1, max_row=min(ws.max_row, 200)), start=1):
        width = max((len(str(c.value)) for c in col if c.value is not None), default=8)
        ws.column_dimensions[get_column_letter(i)].width = min(60, max(8, width + 2))


def _book_bytes(wb: Workbook) -> bytes:
    # openpyxl turns any text starting with "=" into a formula: names and cluster names are
    # data, never formulas (a name "=HYPERLINK(...)" must stay text).
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                if cell.data_type == "f":
                    cell.data_type = "s"
                    cell.quotePrefix = True
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def summary_xlsx(table: SummaryTable, level_label: str, title: str) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.title = _("Summary")[:31]
    names = [name or _("No cluster") for _k, name, _c in table.clusters]
    _sheet_header(ws, [level_label, *names, _("Total")])
    for key, label in table.areas:
        ws.append(
            [
                label,
                *[table.cells.get((key, ck), 0) for ck, _n, _c in table.clusters],
                table.row_totals.get(key, 0),
            ]
        )
    ws.append(
        [_("Total"), *[table.col_totals.get(ck, 0) for ck, _n, _c in table.clusters], table.total]
    )
    for cell in ws[ws.max_row]:
        cell.font = _HEAD_FONT
    ws.cell(row=ws.max_row + 2, column=1, value=title)
    _autosize(ws)
    return _book_bytes(wb)


def shortlist_xlsx(snap: Shortlist) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.title = _("Shortlist")[:31]
    crit_codes = [c for c in sl.CRITERIA if snap.criteria.get(c, {}).get("enabled")]
    headers = [
        _("Rank"),
        _("Name"),
        _("Place"),
        _("BH number"),
        _("Qualifies"),
        _("Score"),
        _("Of"),
        *[sl.criterion_label(c) for c in crit_codes],
        _("Reason for the rank"),
    ]
    _sheet_header(ws, headers)
    for e in snap.entries:
        by_code = {b["code"]: b for b in e.breakdown}
        ws.append(
            [
                e.rank,
                e.name,
                e.place,
                e.bh_number or "",
                _("yes") if e.qualifies else _("no"),
                e.score,
                e.max_score,
                *[
                    f"{by_code[c]['points']}/{by_code[c]['weight']}: {sl.result_text(by_code[c])}"
                    if c in by_code
                    else ""
                    for c in crit_codes
                ],
                sl.rank_reason_text(e.rank_reason),
            ]
        )
    ws.cell(
        row=ws.max_row + 2,
        column=1,
        value=_("Cluster %(name)s, saved on %(date)s", name=snap.title, date=snap.taken_on),
    )
    _autosize(ws)
    return _book_bytes(wb)


# ---------------------------------------------------------------- PDF Lampiran

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"


def _lampiran_env() -> jinja2.Environment:
    from ..letters import formatting
    from ..letters.render import title_case

    env = jinja2.Environment(
        loader=jinja2.ChoiceLoader(
            [
                jinja2.FileSystemLoader(TEMPLATES / "clusters"),
                jinja2.FileSystemLoader(TEMPLATES / "letters"),
            ]
        ),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(
        tanggal=formatting.tanggal,
        nip=formatting.nip_grouped,
        angka=formatting.angka,
        title_case=title_case,
    )
    return env


def signer_settings():
    """The letters' signer block (letter settings when the letters feature has them)."""
    from ..letters.render import LetterSettings

    head = db.session.execute(
        select(User).where(User.role == "head", User.enabled.is_(True)).order_by(User.id).limit(1)
    ).scalar_one_or_none()
    try:
        from ..letters import operations as letter_ops

        return letter_ops.letter_settings(letter_ops.current_settings(), head)
    except (ImportError, AttributeError, KeyError):
        pass
    return LetterSettings(
        letterhead_lines=["PEMERINTAH KABUPATEN KARANGANYAR"],
        signer_name=head.full_name if head else "",
        signer_title="Kepala Dinas Koperasi, Usaha Kecil, Transmigrasi, Energi dan "
        "Sumber Daya Mineral Kabupaten Karanganyar",
        signer_nip=(head.nip or "") if head else "",
        signer_rank=(head.rank or "") if head else "",
    )


def shortlist_lampiran_html(snap: Shortlist, letter_settings: Any) -> str:
    with force_locale("id"):
        rows = []
        for e in snap.entries:
            if not e.qualifies:
                continue
            rows.append(
                {
                    "rank": len(rows) + 1,
                    "name": e.name,
                    "bh_number": e.bh_number or "",
                    "place": e.place,
                    "score": e.score,
                    "max": e.max_score,
                    "override": e.override,
                    "lines": [
                        {
                            "text": sl.result_text(b),
                            "label": sl.criterion_label(b["code"]),
                            "points": b["points"],
                            "weight": b["weight"],
                        }
                        for b in e.breakdown
                    ],
                    "rank_reason": sl.rank_reason_text(e.rank_reason),
                }
            )
        crit = [
            {
                "label": sl.criterion_label(c),
                "weight": snap.criteria[c]["weight"],
                "required": snap.criteria[c]["required"],
            }
            for c in sl.CRITERIA
            if snap.criteria.get(c, {}).get("enabled")
        ]
        others = sum(1 for e in snap.entries if not e.qualifies)
        return (
            _lampiran_env()
            .get_template("lampiran.html")
            .render(
                snap=snap,
                rows=rows,
                crit=crit,
                others=others,
                s=letter_settings,
                cluster_name=snap.title,
                taken_on=snap.taken_on,
            )
        )


def shortlist_pdf(snap: Shortlist, letter_settings: Any | None = None) -> bytes:
    from weasyprint import HTML

    from ..letters.render import FONT_CONFIG, STATIC_DIR, StaticOnlyFetcher, _stylesheet

    html = HTML(
        string=shortlist_lampiran_html(snap, letter_settings or signer_settings()),
        base_url=str(STATIC_DIR) + "/",
        url_fetcher=StaticOnlyFetcher(),
    )
    return html.write_pdf(stylesheets=[_stylesheet()], font_config=FONT_CONFIG)


def export_title(flt: RegisterFilter, today: date) -> str:
    return _("Cooperatives of Karanganyar by cluster (%(date)s)", date=today.isoformat())


def cluster_by_code(code: str) -> Cluster | None:
    return db.session.execute(select(Cluster).where(Cluster.code == code)).scalar_one_or_none()
