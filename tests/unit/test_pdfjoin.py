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
