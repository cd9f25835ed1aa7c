"""The byte-level print-run join: same pages and text as pikepdf, safe fallback otherwise."""

import io
import subprocess
from dataclasses import replace

import pikepdf
import pytest
from pypdf import PdfReader

from coop_audit.letters import pdfjoin
from coop_audit.letters.render import merge_pdfs, render_pdf
from tests.unit.test_letter_render import coop, make_letter, settings  # noqa: F401


def page_texts(pdf: bytes) -> list[str]:
    return [page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages]


def pikepdf_merge(pdfs: list[bytes]) -> bytes:
    merged = pikepdf.new()
    for data in pdfs:
        merged.pages.extend(pikepdf.open(io.BytesIO(data)).pages)
    out = io.BytesIO()
    merged.save(out)
    return out.getvalue()


@pytest.fixture
def letters(settings, coop):  # noqa: F811
    """Real letters of every kind, one and several pages, A4 and F4, with a logo-less kop."""
    out = []
    for i, kind in enumerate(
        ["warning", "revocation", "objection_decision", "reactivation", "reinstatement"]
    ):
        out.append(
            render_pdf(
                make_letter(
                    kind,
                    coop,
                    number=f"500.3/{i + 1}/KEP/2026",
                    verify_url=f"https://koperasi.example/verify/token{i}",
                    short_code=f"ABCD-00{i}",
                ),
                replace(settings, page_size="F4" if i % 2 else "A4"),
            )
        )
    many = [replace(coop, name=f"Koperasi Nomor {i:02d}") for i in range(1, 40)]
    out.append(render_pdf(make_letter("proposal", coop, coops=many), settings))
    return out


def test_join_gives_every_page_in_order_with_the_text_pikepdf_gives(letters, tmp_path):
    joined = pdfjoin.join(letters)
    expected = [text for pdf in letters for text in page_texts(pdf)]
    assert page_texts(joined) == expected
    assert page_texts(joined) == page_texts(pikepdf_merge(letters))
    # Page sizes inherited or not, each page keeps its own (A4 and F4 alternate above).
    sizes = [
        tuple(round(float(v)) for v in p.mediabox[2:]) for p in PdfReader(io.BytesIO(joined)).pages
    ]
    assert (595, 842) in sizes and (609, 935) in sizes
    # poppler reads it without complaint, and qpdf (pikepdf) opens every page.
    path = tmp_path / "run.pdf"
    path.write_bytes(joined)
    info = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True, check=True)
    assert f"Pages:           {len(expected)}" in info.stdout
    assert info.stderr == ""
    text = subprocess.run(
        ["pdftotext", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout
    assert text.index("500.3/1/KEP/2026") < text.index("500.3/5/KEP/2026")
    with pikepdf.open(path) as pdf:
        assert len(pdf.pages) == len(expected)
        assert pdf.check_pdf_syntax() == []


def test_strings_that_look_like_references_and_streams_holding_endobj_are_copied_verbatim(
    tmp_path,
):
    pdf = pikepdf.new()
    pdf.add_blank_page()
    page = pdf.pages[0]
    page.Contents = pdf.make_stream(b"% endobj 1 0 R endstream\n0 0 m 10 10 l S\n")
    annot = pdf.make_indirect(
        pikepdf.Dictionary(
            Type=pikepdf.Name.Annot,
            Subtype=pikepdf.Name.Text,
            Rect=[0, 0, 10, 10],
            Contents=pikepdf.String("see (3 0 R) and 1 0 R \\ endobj"),
        )
    )
    page.Annots = pdf.make_indirect(pikepdf.Array([annot]))
    out = io.BytesIO()
    pdf.save(out, object_stream_mode=pikepdf.ObjectStreamMode.disable, compress_streams=False)
    crafted = out.getvalue()

    joined = pdfjoin.join([crafted, crafted])
    with pikepdf.open(io.BytesIO(joined)) as result:
        assert len(result.pages) == 2
        for p in result.pages:
            assert str(p.Annots[0].Contents) == "see (3 0 R) and 1 0 R \\ endobj"
            assert p.Contents.read_bytes().startswith(b"% endobj 1 0 R endstream")


def test_an_unsupported_file_makes_the_whole_run_use_pikepdf(letters):
    # Encrypted (empty user password, so it opens and prints) is not copied byte-wise.
    out = io.BytesIO()
    with pikepdf.open(io.BytesIO(letters[0])) as pdf:
        pdf.save(out, encryption=pikepdf.Encryption(owner="office", user=""))
    encrypted = out.getvalue()
    with pytest.raises(pdfjoin.Unsupported):
        pdfjoin.join([letters[1], encrypted])
    merged = merge_pdfs([letters[1], encrypted])
    assert page_texts(merged) == page_texts(letters[1]) + page_texts(letters[0])


@pytest.mark.parametrize(
    "damage",
    [
        lambda b: b[: len(b) // 2],  # cut off (no cross-reference)
        lambda b: b.replace(b"/Length ", b"/Length 9", 1),  # wrong stream length
        lambda b: b"not a pdf",
    ],
)
def test_a_damaged_letter_is_not_joined_byte_wise(letters, damage):
    with pytest.raises(pdfjoin.Unsupported):
        pdfjoin.join([letters[0], damage(letters[1])])


# ---- hand-written PDFs: each case once produced a wrong file without an error -------------


def raw_pdf(objects, between=None):
    """A classic-xref PDF of (number, body) objects; `between` inserts unlisted bytes."""
    out = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n"
    offsets = {}
    for number, body in objects:
        offsets[number] = len(out)
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
        out += (between or {}).get(number, b"")
    size = max(offsets) + 1
    xref = len(out)
    out += b"xref\n0 %d\n" % size
    for n in range(size):
        out += b"%010d 00000 n\r\n" % offsets[n] if n in offsets else b"0000000000 65535 f\r\n"
    return out + b"trailer\n<</Size %d /Root 1 0 R>>\nstartxref\n%d\n%%%%EOF\n" % (size, xref)


def stream(data, extra=b""):
    return b"<</Length %d%s>>\nstream\n" % (len(data), extra) + data + b"\nendstream"


def one_page(text=b"Hello", page=None, content=None, pages=None):
    content = content or b"BT /F1 24 Tf 72 700 Td (" + text + b") Tj ET"
    return [
        (1, b"<</Type /Catalog /Pages 2 0 R>>"),
        (2, pages or b"<</Type /Pages /Kids [3 0 R] /Count 1>>"),
        (
            3,
            page
            or b"<</Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
            b"/Resources <</Font <</F1 5 0 R>>>> /Contents 4 0 R>>",
        ),
        (4, stream(content)),
        (5, b"<</Type /Font /Subtype /Type1 /BaseFont /Helvetica>>"),
    ]


def test_hand_written_pdfs_join_like_pikepdf():
    base, other = raw_pdf(one_page(b"Base")), raw_pdf(one_page(b"Other"))
    joined = pdfjoin.join([base, other])
    assert page_texts(joined) == page_texts(pikepdf_merge([base, other])) == ["Base", "Other"]


BAD = {
    # "(" in one comment and ")" in the next looked like one string hiding two references.
    "comment_parentheses": lambda: raw_pdf(
        one_page(
            page=b"<</Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] % note (see\n"
            b"/Resources <</Font <</F1 5 0 R>>>> /Contents 4 0 R % end)\n>>"
        )
    ),
    # A comment inside a reference: "5 0 % font\nR" was not renumbered.
    "comment_in_reference": lambda: raw_pdf(
        one_page(
            page=b"<</Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
            b"/Resources <</Font <</F1 5 0 % font\nR>>>> /Contents 4 0 R>>"
        )
    ),
    # "stream" at the end of a comment inside the stream dictionary.
    "comment_ending_in_stream": lambda: raw_pdf(
        [
            *one_page()[:3],
            (4, b"<</Length 44 % upstream\n>>\nstream\n" + b"BT /F1 24 Tf (B) Tj ET".ljust(44)),
            one_page()[4],
        ]
    ),
    # A nested /Length was taken for the stream's.
    "nested_length": lambda: raw_pdf(
        [
            *one_page()[:3],
            (
                4,
                b"<</Foo <</Length 30>> /Length 35>>\nstream\n"
                + b"BT (N) Tj ET".ljust(35)
                + b"\nendstream",
            ),
            one_page()[4],
        ]
    ),
    # An unlisted object between two listed ones was swallowed by the one before.
    "unlisted_object": lambda: raw_pdf(
        one_page(content=b"% font 5 0 R\nBT /F1 24 Tf 72 700 Td (C) Tj ET"),
        between={4: b"9 0 obj\n<</Junk 1>>\nendobj\n"},
    ),
    # A page tree whose /Count lies.
    "count_lies": lambda: raw_pdf(one_page(pages=b"<</Type /Pages /Kids [3 0 R] /Count 3>>")),
    # A classic cross-reference section that promises more entries than it holds.
    "short_xref": lambda: raw_pdf(one_page()).replace(b"xref\n0 6", b"xref\n0 7"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_what_cannot_be_copied_safely_goes_through_pikepdf(case):
    base = raw_pdf(one_page(b"Base"))
    bad = BAD[case]()
    with pytest.raises(pdfjoin.Unsupported):
        pdfjoin.join([base, bad])
    # merge_pdfs still prints the run, through pikepdf (which repairs what it can).
    merged = merge_pdfs([base, bad])
    assert len(PdfReader(io.BytesIO(merged)).pages) == len(pikepdf.open(io.BytesIO(merged)).pages)
    assert page_texts(merged)[0] == "Base"
