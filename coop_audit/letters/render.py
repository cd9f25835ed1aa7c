"""Render official letters to PDF with WeasyPrint from plain data (no database, no Flask app)."""

from __future__ import annotations

import base64
import calendar
import gc
import io
import os
import signal
import threading
import time
from dataclasses import dataclass, field
from datetime import date
from functools import cache
from pathlib import Path
from urllib.parse import unquote, urlsplit
from urllib.request import url2pathname

import jinja2
import pikepdf
import segno
from flask_babel import gettext as _
from weasyprint import CSS, HTML
from weasyprint.text.fonts import FontConfiguration
from weasyprint.urls import URLFetcher

from coop_audit.letters import formatting, pdfjoin

PACKAGE_DIR = Path(__file__).resolve().parent.parent
STATIC_DIR = PACKAGE_DIR / "static"
TEMPLATE_DIR = PACKAGE_DIR.parent / "templates" / "letters"
LETTER_CSS = STATIC_DIR / "letters" / "letter.css"

KINDS = (
    "warning",
    "revocation",
    "objection_decision",
    "reactivation",
    "reinstatement",
    "proposal",
)
# CSS page sizes; F4 (folio) is the 215 x 330 mm paper Indonesian offices use.
PAGE_SIZES = {"A4": "210mm 297mm", "F4": "215mm 330mm"}
SIGNER_PREFIXES = ("", "a.n.", "Plt.", "Plh.")

# One per process: @font-face rules of the letter stylesheet are registered here once.
FONT_CONFIG = FontConfiguration()


@dataclass
class LetterSettings:
    """Office settings a letter is issued with (stored with the letter, never re-read later)."""

    letterhead_lines: list[str]
    signer_name: str
    signer_title: str
    signer_nip: str = ""
    signer_rank: str = ""
    # "a.n." / "Plt." / "Plh." when someone signs on behalf of the head.
    signer_prefix: str = ""
    # The signer's own position under an "a.n." title, e.g. "Sekretaris".
    signer_position: str = ""
    address_line: str = ""
    contact_line: str = ""
    logo_bytes: bytes | None = None
    place: str = "Karanganyar"
    mengingat: list[str] = field(default_factory=list)
    tembusan: list[str] = field(default_factory=list)
    page_size: str = "A4"

    def __post_init__(self) -> None:
        if self.page_size not in PAGE_SIZES:
            raise ValueError(_("Unknown page size: %(size)s.", size=self.page_size))
        if self.signer_prefix not in SIGNER_PREFIXES:
            raise ValueError(_("Unknown signature prefix: %(prefix)s.", prefix=self.signer_prefix))
        if self.logo_bytes is not None and _image_mime(self.logo_bytes) is None:
            raise ValueError(_("The logo must be a PNG or JPEG image."))


@dataclass
class CoopInfo:
    """The cooperative a letter is about, as printed."""

    name: str
    bh_number: str = ""
    bh_date: date | None = None
    address_lines: list[str] = field(default_factory=list)
    desa: str = ""
    kecamatan: str = ""
    chair_name: str = ""
    # Filled for the Lampiran of the upward proposal.
    revocation_number: str = ""
    revocation_date: date | None = None


@dataclass
class LetterData:
    """Everything one letter prints; built by the issuing operation from the database."""

    kind: str
    number: str
    issued_on: date
    coop: CoopInfo | None = None
    # Findings / reasons (warning, revocation) and the evidence they rest on.
    grounds: list[str] = field(default_factory=list)
    evidence_summary: list[str] = field(default_factory=list)
    # Warning: the objection window runs from the receipt date (UU 25/1992 art. 47).
    receipt_date: date | None = None
    objection_deadline: date | None = None
    objection_months: int = 2
    # Objection decision.
    objection_accepted: bool | None = None
    objection_reasons: list[str] = field(default_factory=list)
    objection_received_on: date | None = None
    # Reactivation / reinstatement (and a free reason for any kind).
    reason: str = ""
    # An earlier letter this one refers to (the warning, the revocation decision ...).
    reference_number: str = ""
    reference_date: date | None = None
    # The upward proposal.
    coops: list[CoopInfo] = field(default_factory=list)
    addressee_lines: list[str] = field(default_factory=list)
    verify_url: str | None = None
    short_code: str | None = None
    draft: bool = False

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(_("Unknown letter kind: %(kind)s.", kind=self.kind))
        if self.kind != "proposal" and self.coop is None:
            raise ValueError(_("This letter needs a cooperative."))


class StaticOnlyFetcher(URLFetcher):
    """Serves data: URIs and files under coop_audit/static; refuses everything else.

    Letters embed user-entered text: a URL in it must never make the renderer read a local file
    or open a network connection.
    """

    def __init__(self, root: Path = STATIC_DIR) -> None:
        super().__init__(allowed_protocols=("file", "data"), allow_redirects=False)
        self.root = root.resolve()
        self.refused: list[str] = []

    def fetch(self, url: str, headers: dict | None = None):  # type: ignore[override]
        parts = urlsplit(url)
        scheme = parts.scheme.lower()
        if scheme == "data":
            return super().fetch(url, headers)
        if scheme == "file" and parts.netloc in ("", "localhost"):
            path = Path(url2pathname(unquote(parts.path))).resolve()
            if path.is_relative_to(self.root) and path.is_file():
                return super().fetch(path.as_uri(), headers)
        self.refused.append(url)
        raise ValueError(f"refused to fetch {url!r}: only files under {self.root} are served")


_env = jinja2.Environment(
    loader=jinja2.FileSystemLoader(TEMPLATE_DIR),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
_env.filters.update(
    tanggal=formatting.tanggal,
    clause=formatting.clause,
    nip=formatting.nip_grouped,
    angka=formatting.angka,
    rupiah=formatting.rupiah,
    bilangan=formatting.kata_bilangan,
)
_env.globals.update(ordinal_diktum=formatting.ordinal_diktum)


_LOWER_WORDS = frozenset({"dan", "atau", "di", "ke", "dari", "untuk", "yang", "pada", "serta"})


def title_case(text: str) -> str:
    """'KEPALA DINAS KOPERASI, ENERGI DAN SUMBER DAYA MINERAL' -> 'Kepala Dinas ... dan ...'."""
    words = text.split()
    return " ".join(
        w.lower() if i and w.lower() in _LOWER_WORDS else w[:1].upper() + w[1:].lower()
        for i, w in enumerate(words)
    )


_env.filters["title_case"] = title_case


@cache
def _stylesheet() -> CSS:
    # Parsed once: this registers the bundled fonts in FONT_CONFIG a single time.
    return CSS(
        filename=str(LETTER_CSS),
        url_fetcher=StaticOnlyFetcher(),
        font_config=FONT_CONFIG,
    )


def start_worker(parent_pid: int | None = None) -> None:
    """Set up a process that renders letters in bulk (a render pool's initializer).

    - It ends when `parent_pid` (the process that started the pool) is gone: a worker killed
      with SIGKILL leaves no renderers behind (they would wait for work forever). Ctrl-C or
      SIGINT to the process group is for the parent, which stops the pool itself.
    - It runs at a lower priority, so the web pages stay quick while a bulk sign-off renders.
    - The stylesheet is parsed and the fonts registered before the first letter.
    - Garbage collection: a letter allocates some 100,000 objects, and with the default
      thresholds the collector walked the whole heap (the app's modules included) often
      enough to take ~15 % of a render. The objects alive now are frozen out of collection
      and young collections run less often; each letter's garbage is still collected.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if parent_pid is not None:
        threading.Thread(target=_exit_with, args=(parent_pid,), daemon=True).start()
    try:
        os.nice(5)
    except OSError:  # not permitted here: render at the normal priority
        pass
    _stylesheet()
    gc.collect()
    gc.freeze()
    gc.set_threshold(20_000, 50, 100)


def _exit_with(parent_pid: int, every: float = 1.0) -> None:
    while True:
        time.sleep(every)
        try:
            os.kill(parent_pid, 0)
        except ProcessLookupError:
            os._exit(0)
        except PermissionError:  # the pid now belongs to another user's process
            os._exit(0)


def _image_mime(data: bytes) -> str | None:
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    return None


def _data_uri(data: bytes, mime: str) -> str:
    return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"


def add_months(start: date, months: int) -> date:
    """Same day `months` later, clamped to the month's end (31 Dec + 2 months = 28/29 Feb)."""
    month_index = start.month - 1 + months
    year, month = start.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(start.day, calendar.monthrange(year, month)[1]))


def objection_deadline(letter: LetterData) -> date | None:
    """The last day to object, when it is known (given, or derived from the receipt date)."""
    if letter.objection_deadline is not None:
        return letter.objection_deadline
    if letter.receipt_date is not None:
        return add_months(letter.receipt_date, letter.objection_months)
    return None


def render_html(letter: LetterData, settings: LetterSettings) -> str:
    """The letter's HTML (self-contained apart from the static stylesheet and fonts)."""
    qr_uri = None
    if letter.verify_url:
        # One pixel per module, drawn unsmoothed (image-rendering: pixelated): as sharp as a
        # vector QR code, at a fraction of WeasyPrint's SVG drawing cost.
        qr_uri = segno.make(letter.verify_url, error="m").png_data_uri(scale=1, border=0)
    logo_uri = None
    if settings.logo_bytes:
        logo_uri = _data_uri(settings.logo_bytes, _image_mime(settings.logo_bytes) or "")
    template = _env.get_template(f"{letter.kind}.html")
    return template.render(
        letter=letter,
        s=settings,
        coop=letter.coop,
        page_css_size=PAGE_SIZES[settings.page_size],
        logo_uri=logo_uri,
        qr_uri=qr_uri,
        deadline=objection_deadline(letter),
    )


def render_pdf(letter: LetterData, settings: LetterSettings) -> bytes:
    """Render one letter to PDF bytes.

    Page numbers ("- 2 -", centred at the top) start on the second page, as the tata naskah
    dinas prescribes, so a one-page letter has none.
    """
    html = HTML(
        string=render_html(letter, settings),
        base_url=str(STATIC_DIR) + "/",
        url_fetcher=StaticOnlyFetcher(),
    )
    return html.write_pdf(stylesheets=[_stylesheet()], font_config=FONT_CONFIG)


def merge_pdfs(pdfs: list[bytes]) -> bytes:
    """Concatenate stored PDFs (a batch print run) without rendering them again.

    Letters as WeasyPrint wrote them are joined byte-wise (pdfjoin, several times faster);
    any other file makes the whole run go through pikepdf.
    """
    try:
        return pdfjoin.join(pdfs)
    except pdfjoin.Unsupported:
        pass
    merged = pikepdf.new()
    sources = []
    for data in pdfs:
        source = pikepdf.open(io.BytesIO(data))
        sources.append(source)
        merged.pages.extend(source.pages)
    out = io.BytesIO()
    merged.save(out)
    for source in sources:
        source.close()
    return out.getvalue()
