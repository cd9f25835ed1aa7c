import io
import re
from dataclasses import replace
from datetime import date

import pikepdf
import pytest
from pypdf import PdfReader
from weasyprint import HTML

from coop_audit.letters import render
from coop_audit.letters.render import (
    CoopInfo,
    LetterData,
    LetterSettings,
    StaticOnlyFetcher,
    add_months,
    merge_pdfs,
    render_pdf,
)

MM = 72 / 25.4


@pytest.fixture
def settings():
    return LetterSettings(
        letterhead_lines=[
            "PEMERINTAH KABUPATEN KARANGANYAR",
            "DINAS KOPERASI, USAHA KECIL, TRANSMIGRASI, ENERGI DAN SUMBER DAYA MINERAL",
        ],
        address_line="Jalan Lawu Nomor 385, Karanganyar 57712",
        signer_name="Drs. BUDI SANTOSO, M.Si.",
        signer_title="KEPALA DINAS KOPERASI, USAHA KECIL, TRANSMIGRASI, ENERGI DAN SUMBER DAYA "
        "MINERAL KABUPATEN KARANGANYAR",
        signer_rank="Pembina Utama Muda (IV/c)",
        signer_nip="197001011995031001",
        mengingat=["Undang-Undang Nomor 25 Tahun 1992 tentang Perkoperasian"],
        tembusan=["Bupati Karanganyar"],
    )


@pytest.fixture
def coop():
    return CoopInfo(
        name="KSU Sido Makmur",
        bh_number="518.08/96/BH/XIV.10/VIII/2008",
        bh_date=date(2008, 8, 12),
        address_lines=["Jalan Raya Jaten Km 2, RT 003/RW 012"],
        desa="Jati",
        kecamatan="Jaten",
    )


def make_letter(kind, coop, **kw):
    base = dict(
        kind=kind,
        number="500.3/123/DKUKTESDM/2026",
        issued_on=date(2026, 12, 3),
        coop=coop,
        grounds=["tidak menyelenggarakan RAT selama 3 tahun buku berturut-turut"],
        evidence_summary=["Berita Acara Pemeriksaan tanggal 12 Oktober 2026"],
        objection_accepted=False,
        objection_reasons=["bukti RAT tidak dilampirkan"],
        reason="Koperasi telah melaksanakan RAT.",
        coops=[coop] if kind == "proposal" else [],
    )
    base.update(kw)
    return LetterData(**base)


def pdf_text(pdf: bytes) -> str:
    reader = PdfReader(io.BytesIO(pdf))
    return "\n".join(page.extract_text() for page in reader.pages)


def flat(text: str) -> str:
    return re.sub(r"\s+", " ", text)


def squeeze(text: str) -> str:
    """Without whitespace: a long number or URL may wrap anywhere in a narrow column."""
    return re.sub(r"\s+", "", text)


@pytest.mark.parametrize("kind", render.KINDS)
def test_each_kind_prints_number_coop_date_and_signer(kind, settings, coop):
    text = flat(pdf_text(render_pdf(make_letter(kind, coop), settings)))
    assert "500.3/123/DKUKTESDM/2026" in text
    assert "KSU Sido Makmur" in text
    assert "518.08/96/BH/XIV.10/VIII/2008" in squeeze(text)
    assert "3 Desember 2026" in text
    assert "Drs. BUDI SANTOSO, M.Si." in text
    assert "NIP. 19700101 199503 1 001" in text


def baselines(pdf: bytes) -> list[tuple[int, float, str]]:
    """(page, baseline y in pt, text) of every text piece, in drawing order."""
    out: list[tuple[int, float, str]] = []
    for number, page in enumerate(PdfReader(io.BytesIO(pdf)).pages, start=1):

        def visit(text, cm, tm, font_dict, font_size, number=number):
            if text.strip():
                out.append((number, round(tm[5] * cm[3] + cm[5], 1), text.strip()))

        page.extract_text(visitor_text=visit)
    return out


# Label rows of each kind and a value that must print on the label's own line.
LABEL_ROWS = {
    "warning": [("Nomor", "500.3/123/DKUKTESDM/2026"), ("Nama Koperasi", "KSU Sido Makmur")],
    "revocation": [
        ("Menimbang", "a."),
        ("KESATU", "Mencabut izin KSU Sido Makmur"),
        ("Ditetapkan di", "Karanganyar"),
        ("pada tanggal", "3 Desember 2026"),
    ],
    "objection_decision": [("Nomor", "500.3/123/DKUKTESDM/2026")],
    "reactivation": [("Nomor", "500.3/123/DKUKTESDM/2026")],
    "reinstatement": [("Nomor", "500.3/123/DKUKTESDM/2026")],
    "proposal": [("Nomor", "500.3/123/DKUKTESDM/2026")],
}


@pytest.mark.parametrize("kind", render.KINDS)
def test_label_rows_keep_their_value_on_the_label_line(kind, settings, coop):
    pieces = baselines(render_pdf(make_letter(kind, coop), settings))
    for label, value in LABEL_ROWS[kind]:
        (page, y) = next((p, y) for p, y, t in pieces if t == label)
        beside = [t for p, yy, t in pieces if p == page and abs(yy - y) < 1 and t != label]
        assert any(t.startswith(value) for t in beside), (label, beside)


DIKTUM_ROWS = [
    ("Menetapkan", "KEPUTUSAN"),
    ("KESATU", "Mencabut izin"),
    ("KEDUA", "Dengan dicabutnya izin"),
    ("KETIGA", "Keputusan ini mulai berlaku"),
]


@pytest.mark.parametrize("extra_bases", range(8, 20))
def test_a_page_break_never_leaves_a_label_or_heading_alone(settings, coop, extra_bases):
    """A longer Mengingat list moves each row of the decision across the page end in turn
    (with this letterhead, 10, 14 and 18 more bases left "KEDUA :", "KESATU :" and
    "Menetapkan :" alone at the bottom of page 1, and 19 the heading "MEMUTUSKAN:")."""
    bases = [*settings.mengingat, *(f"Peraturan Nomor {i} Tahun 2020" for i in range(extra_bases))]
    letter_settings = replace(settings, contact_line="Telepon (0271) 495039", mengingat=bases)
    pieces = baselines(render_pdf(make_letter("revocation", coop), letter_settings))
    for label, value in DIKTUM_ROWS:
        (page, y) = next((p, y) for p, y, t in pieces if t == label)
        beside = [flat(t) for p, yy, t in pieces if p == page and abs(yy - y) < 1 and t != label]
        assert any(t.startswith(value) for t in beside), (label, page, beside)
    heading_page = next(p for p, _y, t in pieces if t == "MEMUTUSKAN:")
    assert heading_page == next(p for p, _y, t in pieces if t == "Menetapkan")


def test_warning_states_the_objection_right_without_a_date_before_receipt(settings, coop):
    text = flat(pdf_text(render_pdf(make_letter("warning", coop), settings)))
    assert "dalam jangka waktu 2 (dua) bulan sejak tanggal surat ini diterima" in text
    assert "paling lambat" not in text


def test_warning_names_the_deadline_when_the_receipt_date_is_known(settings, coop):
    letter = make_letter("warning", coop, receipt_date=date(2026, 12, 10))
    text = flat(pdf_text(render_pdf(letter, settings)))
    assert "dalam jangka waktu 2 (dua) bulan sejak tanggal surat ini diterima" in text
    assert "paling lambat tanggal 10 Februari 2027" in text


def test_an_explicit_objection_deadline_wins_over_the_computed_one(settings, coop):
    letter = make_letter(
        "warning",
        coop,
        receipt_date=date(2026, 12, 10),
        objection_deadline=date(2027, 2, 12),
    )
    assert "12 Februari 2027" in flat(pdf_text(render_pdf(letter, settings)))


@pytest.mark.parametrize(
    ("start", "months", "expected"),
    [
        (date(2026, 12, 10), 2, date(2027, 2, 10)),
        (date(2026, 12, 31), 2, date(2027, 2, 28)),
        (date(2027, 12, 31), 2, date(2028, 2, 29)),
        (date(2026, 1, 31), 1, date(2026, 2, 28)),
    ],
)
def test_add_months_clamps_to_the_end_of_the_month(start, months, expected):
    assert add_months(start, months) == expected


def test_revocation_is_a_keputusan_with_its_parts(settings, coop):
    text = flat(pdf_text(render_pdf(make_letter("revocation", coop), settings)))
    for part in (
        "KEPUTUSAN KEPALA DINAS",
        "NOMOR 500.3/123/DKUKTESDM/2026",
        "TENTANG",
        "PENCABUTAN IZIN KSU SIDO MAKMUR",
        "Menimbang",
        "bahwa",
        "Mengingat",
        "MEMUTUSKAN",
        "Menetapkan",
        "KESATU",
        "KEDUA",
        "KETIGA",
        "Keputusan ini mulai berlaku pada tanggal ditetapkan",
        "Ditetapkan di",
        "Undang-Undang Nomor 25 Tahun 1992",
    ):
        assert part in text, part


@pytest.mark.parametrize(("accepted", "word"), [(True, "DITERIMA"), (False, "DITOLAK")])
def test_objection_decision_says_accepted_or_refused(settings, coop, accepted, word):
    letter = make_letter("objection_decision", coop, objection_accepted=accepted)
    text = flat(pdf_text(render_pdf(letter, settings)))
    assert word in text
    assert "bukti RAT tidak dilampirkan" in text


def test_signature_prints_the_on_behalf_prefix(settings, coop):
    plt = replace(settings, signer_prefix="Plt.")
    text = flat(pdf_text(render_pdf(make_letter("reactivation", coop), plt)))
    assert "Plt. KEPALA DINAS" in text


def test_proposal_with_60_coops_repeats_table_header_and_numbers_pages(settings, coop):
    coops = [replace(coop, name=f"Koperasi Nomor {i:02d}") for i in range(1, 61)]
    pdf = render_pdf(make_letter("proposal", coop, coops=coops), settings)
    pages = [p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages]
    assert len(pages) >= 3
    # Tata naskah dinas: "- 2 -" centred at the top, from the second page on.
    assert "- 1 -" not in pages[0]
    for number, page in enumerate(pages[1:], start=2):
        assert f"- {number} -" in flat(page)
    # Page 1 is the covering letter; every Lampiran page starts its table with the header.
    for page in pages[1:]:
        assert "Nama Koperasi" in page
    joined = flat("\n".join(pages))
    assert "Koperasi Nomor 01" in joined and "Koperasi Nomor 60" in joined


def test_single_page_letter_has_no_page_numbers(settings, coop):
    pdf = render_pdf(make_letter("reactivation", coop), settings)
    assert len(PdfReader(io.BytesIO(pdf)).pages) == 1
    assert "- 1 -" not in pdf_text(pdf)


@pytest.mark.parametrize(("size", "width_mm", "height_mm"), [("A4", 210, 297), ("F4", 215, 330)])
def test_page_size(settings, coop, size, width_mm, height_mm):
    pdf = render_pdf(make_letter("warning", coop), replace(settings, page_size=size))
    box = PdfReader(io.BytesIO(pdf)).pages[0].mediabox
    assert float(box.width) == pytest.approx(width_mm * MM, abs=0.5)
    assert float(box.height) == pytest.approx(height_mm * MM, abs=0.5)


def test_unknown_page_size_is_refused(settings):
    with pytest.raises(ValueError, match="Legal"):
        replace(settings, page_size="Legal")


@pytest.mark.parametrize("draft", [True, False])
def test_draft_watermark_only_on_drafts(settings, coop, draft):
    pdf = render_pdf(make_letter("warning", coop, draft=draft), settings)
    pages = [p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages]
    assert all(("DRAF" in page) is draft for page in pages)


def test_verification_code_and_url_are_printed_when_given(settings, coop):
    letter = make_letter(
        "warning",
        coop,
        verify_url="https://example.test/verify/AbC123",
        short_code="K7Q-4MZ2",
    )
    text = flat(pdf_text(render_pdf(letter, settings)))
    assert "K7Q-4MZ2" in text
    assert "https://example.test/verify/AbC123" in squeeze(text)


def test_verification_footer_sits_on_the_first_page_and_adds_no_page(settings, coop):
    # It once followed the tembusan in the flow and pushed a full one-page letter onto a second
    # sheet holding nothing but the QR code.
    verified = dict(verify_url="https://example.test/verify/" + "x" * 32, short_code="K7Q-4MZ2")
    plain = render_pdf(make_letter("reactivation", coop), settings)
    pdf = render_pdf(make_letter("reactivation", coop, **verified), settings)
    pages = [flat(p.extract_text()) for p in PdfReader(io.BytesIO(pdf)).pages]
    assert len(pages) == len(PdfReader(io.BytesIO(plain)).pages) == 1
    assert "K7Q-4MZ2" in pages[0]
    long_letter = render_pdf(make_letter("proposal", coop, coops=[coop] * 40, **verified), settings)
    pages = [flat(p.extract_text()) for p in PdfReader(io.BytesIO(long_letter)).pages]
    assert "K7Q-4MZ2" in pages[0] and not any("K7Q-4MZ2" in p for p in pages[1:])


@pytest.mark.parametrize(
    "name",
    [
        "KSU {{ 7*7 }} Makmur",
        "KSU <script>alert(1)</script> Jaya",
        'KSU <img src="file:///etc/passwd"> Abadi',
        'KSU <img src="http://127.0.0.1:9/x.png"> Lestari',
    ],
)
def test_user_text_prints_literally_and_fetches_nothing(settings, coop, name, monkeypatch):
    fetched = []
    original = StaticOnlyFetcher.fetch

    def spy(self, url, headers=None):
        fetched.append(url)
        return original(self, url, headers)

    monkeypatch.setattr(StaticOnlyFetcher, "fetch", spy)
    letter = make_letter("warning", replace(coop, name=name))
    text = flat(pdf_text(render_pdf(letter, settings)))
    assert name in text
    assert "49" not in text.replace("2026", "")
    assert not [u for u in fetched if u.startswith(("http", "file:///etc"))]


@pytest.mark.parametrize(
    "url",
    ["file:///etc/passwd", "http://127.0.0.1:9/x.png", "https://example.com/a.css"],
)
def test_fetcher_refuses_anything_outside_static(url):
    fetcher = StaticOnlyFetcher()
    with pytest.raises(ValueError, match="refused"):
        fetcher.fetch(url)
    assert fetcher.refused == [url]


def test_fetcher_refuses_a_path_escaping_static():
    escaping = (render.STATIC_DIR / ".." / ".." / "pyproject.toml").as_uri()
    with pytest.raises(ValueError, match="refused"):
        StaticOnlyFetcher().fetch(escaping)


def test_fetcher_serves_bundled_fonts():
    font = (render.STATIC_DIR / "fonts" / "LiberationSerif-Regular.ttf").as_uri()
    response = StaticOnlyFetcher().fetch(font)
    try:
        assert response.read(4) == b"\x00\x01\x00\x00"
    finally:
        response.close()


def test_an_img_pointing_outside_static_is_not_loaded():
    fetcher = StaticOnlyFetcher()
    html = '<p>x</p><img src="file:///etc/passwd"><img src="http://127.0.0.1:9/y.png">'
    HTML(string=html, base_url=str(render.STATIC_DIR) + "/", url_fetcher=fetcher).write_pdf()
    assert fetcher.refused == ["file:///etc/passwd", "http://127.0.0.1:9/y.png"]


def test_logo_must_be_png_or_jpeg(settings):
    with pytest.raises(ValueError, match="PNG or JPEG"):
        replace(settings, logo_bytes=b"<svg></svg>")


def test_a_png_logo_is_embedded(settings, coop):
    import segno

    buffer = io.BytesIO()
    segno.make("logo").save(buffer, kind="png", scale=4)
    pdf = render_pdf(make_letter("warning", coop), replace(settings, logo_bytes=buffer.getvalue()))
    with pikepdf.open(io.BytesIO(pdf)) as doc:
        images = [k for page in doc.pages for k in page.get_images()]
    assert images


def test_unknown_kind_is_refused(coop):
    with pytest.raises(ValueError, match="memo"):
        make_letter("memo", coop)


def test_merge_pdfs_concatenates_pages_in_order(settings, coop):
    first = render_pdf(make_letter("warning", coop, number="A/1/B/2026"), settings)
    second = render_pdf(make_letter("reactivation", coop, number="A/2/B/2026"), settings)
    merged = merge_pdfs([first, second])
    reader = PdfReader(io.BytesIO(merged))
    n_first = len(PdfReader(io.BytesIO(first)).pages)
    assert len(reader.pages) == n_first + 1
    assert "A/1/B/2026" in reader.pages[0].extract_text()
    assert "A/2/B/2026" in reader.pages[-1].extract_text()
