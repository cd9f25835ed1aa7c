"""Letters: bulk issuing, a print run of stored letters, one letter on demand, peak memory;
side by side with a LibreOffice headless mail merge (.docx -> PDF) when `soffice` is installed.

Usage:
  .venv/bin/python bench/bench_letters.py [--letters 913] [--workers 2] [--database-url URL]

Seeds a fresh database (SQLite file under /tmp by default) with N cooperatives, then in one run:
(b) issues N revocation decisions in one bulk operation (numbers taken in order inside one
transaction, PDFs rendered in a process pool, stored with their sha256, committed);
(a) merges the N stored PDFs into one print-run PDF (no rendering); (c) issues single letters
on demand (median of 15); (d) reports peak RSS of this process and of the render workers.
Prints a Markdown table.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from datetime import date
from pathlib import Path
from xml.sax.saxutils import escape

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

TODAY = date(2026, 12, 3)


def seed(n: int):
    from coop_audit.extensions import db
    from coop_audit.models import Cooperative, Desa
    from coop_audit.users.operations import create_user

    head = create_user(
        "bench_head",
        "Drs. BUDI SANTOSO, M.Si.",
        "head",
        "bench-password-123",
        nip="197001011995031001",
        rank="Pembina Utama Muda (IV/c)",
    )
    villages = list(db.session.execute(db.select(Desa)).scalars())
    coops = []
    for i in range(n):
        v = villages[i % len(villages)]
        coops.append(
            Cooperative(
                name=f"Koperasi Serba Usaha Sejahtera Bersama Nomor {i + 1}",
                name_key=f"koperasi serba usaha sejahtera bersama nomor {i + 1}",
                jenis="simpan_pinjam",
                bentuk="primer",
                kelompok="KSU",
                bh_number=f"518/{i + 1}/BH/XIV.10/VIII/2008",
                bh_date=date(2008, 8, 12),
                street=f"Jalan Raya Nomor {i + 1}",
                rt="003",
                rw="012",
                desa_kode=v.kode,
                kecamatan_kode=v.kecamatan_kode,
                status="warned",
                chair_name="Sutrisno",
            )
        )
    db.session.add_all(coops)
    db.session.commit()
    return head, coops


def docx_mail_merge(path: Path, coops, n: int) -> None:
    """A Word mail-merge result: one revocation letter per cooperative, page break between."""
    paras = []

    def p(text: str, bold: bool = False, center: bool = False) -> str:
        ppr = '<w:pPr><w:jc w:val="center"/></w:pPr>' if center else ""
        rpr = "<w:rPr><w:b/></w:rPr>" if bold else ""
        return f'<w:p>{ppr}<w:r>{rpr}<w:t xml:space="preserve">{escape(text)}</w:t></w:r></w:p>'

    for i, c in enumerate(coops[:n]):
        paras += [
            p("PEMERINTAH KABUPATEN KARANGANYAR", True, True),
            p(
                "DINAS KOPERASI, USAHA KECIL, TRANSMIGRASI, ENERGI DAN SUMBER DAYA MINERAL",
                True,
                True,
            ),
            p("Jalan Lawu Nomor 385, Karanganyar, Jawa Tengah 57712", center=True),
            p("KEPUTUSAN KEPALA DINAS KOPERASI KABUPATEN KARANGANYAR", True, True),
            p(f"NOMOR 500.3/{i + 1}/KEP/DKUKTESDM/2026", True, True),
            p(f"TENTANG PENCABUTAN IZIN {c.name.upper()}", True, True),
            p(
                f"Menimbang: a. bahwa berdasarkan hasil pemeriksaan Pengawas Koperasi, {c.name} "
                f"dengan Badan Hukum Nomor {c.bh_number} tanggal 12 Agustus 2008 dinilai tidak "
                "aktif; b. bahwa kepada koperasi tersebut telah disampaikan surat peringatan dan "
                "tidak terdapat keberatan yang diterima; c. bahwa perlu menetapkan Keputusan."
            ),
            p(
                "Mengingat: 1. Undang-Undang Nomor 25 Tahun 1992 tentang Perkoperasian; "
                "2. Peraturan Pemerintah Nomor 17 Tahun 1994; 3. Peraturan Pemerintah Nomor 7 "
                "Tahun 2021; 4. Peraturan Menteri Koperasi dan UKM Nomor 9 Tahun 2018."
            ),
            p("MEMUTUSKAN:", True, True),
            p(f"KESATU: Mencabut izin {c.name}, Badan Hukum Nomor {c.bh_number}."),
            p("KEDUA: Koperasi tersebut diusulkan kepada Menteri untuk dibubarkan."),
            p("KETIGA: Keputusan ini mulai berlaku pada tanggal ditetapkan."),
            p("Ditetapkan di Karanganyar pada tanggal 3 Desember 2026"),
            p("KEPALA DINAS KOPERASI KABUPATEN KARANGANYAR", True),
            p("Drs. BUDI SANTOSO, M.Si."),
            p("Pembina Utama Muda (IV/c)"),
            p("NIP. 19700101 199503 1 001"),
        ]
        if i < n - 1:
            paras.append('<w:p><w:r><w:br w:type="page"/></w:r></w:p>')
    body = "".join(paras)
    document = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
        f'<w:body>{body}<w:sectPr><w:pgSz w:w="11906" w:h="16838"/>'
        '<w:pgMar w:top="1134" w:right="1134" w:bottom="1134" w:left="1701"/></w:sectPr>'
        "</w:body></w:document>"
    )
    types = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'  # noqa: E501
        '<Default Extension="xml" ContentType="application/xml"/>'
        '<Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/>'  # noqa: E501
        "</Types>"
    )
    rels = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="word/document.xml"/>'  # noqa: E501
        "</Relationships>"
    )
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", types)
        z.writestr("_rels/.rels", rels)
        z.writestr("word/document.xml", document)


def libreoffice(coops, n: int) -> tuple[float, int] | str:
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if not soffice:
        return "soffice not installed"
    from pypdf import PdfReader

    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "mail-merge.docx"
        docx_mail_merge(src, coops, n)
        profile = Path(tmp) / "profile"
        cmd = [
            soffice,
            f"-env:UserInstallation=file://{profile}",
            "--headless",
            "--convert-to",
            "pdf",
            "--outdir",
            tmp,
            str(src),
        ]
        # A first run creates the LibreOffice profile; time the second, as an office would.
        subprocess.run(cmd, check=True, capture_output=True, timeout=900)
        t0 = time.perf_counter()
        subprocess.run(cmd, check=True, capture_output=True, timeout=900)
        elapsed = time.perf_counter() - t0
        pages = len(PdfReader(Path(tmp) / "mail-merge.pdf").pages)
    return elapsed, pages


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--letters", type=int, default=913)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--database-url", default=None)
    args = ap.parse_args()
    n = args.letters
    workdir = Path(tempfile.mkdtemp(prefix="bench_letters_"))
    url = args.database_url or f"sqlite:///{workdir / 'bench.sqlite3'}"

    from config import TestConfig
    from coop_audit import create_app
    from coop_audit.extensions import db
    from coop_audit.letters import operations as ops
    from coop_audit.regions import ensure_reference_data

    class Cfg(TestConfig):
        SQLALCHEMY_DATABASE_URI = url
        SQLALCHEMY_ENGINE_OPTIONS = {}
        UPLOAD_DIR = str(workdir / "uploads")
        LETTER_DIR = str(workdir / "letters")

    app = create_app(Cfg)
    with app.app_context():
        if url.startswith("postgresql"):
            db.drop_all()
        db.create_all()
        ensure_reference_data()
        db.session.commit()
        head, coops = seed(n + 20)
        batch, extra = coops[:n], coops[n:]
        # Warm-up: fonts, templates, stylesheet (a running server has done this already).
        ops.preview_letter("revocation", extra[0], signer=head, today=TODAY)

        items = [
            ops.IssueItem("revocation", c, extras={"grounds": ["tidak menyelenggarakan RAT"]})
            for c in batch
        ]
        t0 = time.perf_counter()
        letters = ops.issue_letters(items, signer=head, today=TODAY, workers=args.workers)
        db.session.commit()
        t_issue = time.perf_counter() - t0
        seqs = [letter.seq for letter in letters]
        assert seqs == list(range(1, n + 1)), "numbers out of order"
        ids = [letter.id for letter in letters]
        for letter in letters:  # a print run starts from the database, not from memory
            db.session.expunge(letter)
        del letters
        print(f"issued {n} in {t_issue:.1f} s", file=sys.stderr)

        t0 = time.perf_counter()
        merged = ops.merged_pdf(ids)
        ops.write_atomically(workdir / "print-run.pdf", merged)
        t_print = time.perf_counter() - t0
        from pypdf import PdfReader

        pages = len(PdfReader(workdir / "print-run.pdf").pages)

        singles = []
        for c in extra[:15]:
            t0 = time.perf_counter()
            ops.issue_letter("revocation", c, signer=head, today=TODAY)
            db.session.commit()
            singles.append(time.perf_counter() - t0)
        t_one = statistics.median(singles)

        lo = libreoffice(batch, n)

    rss_self = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    rss_children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(
        f"database: {url.split('@')[-1]}; letters: {n}; render workers: {args.workers}; "
        f"cores: {os.cpu_count()}; load average at the end: {os.getloadavg()[0]:.1f}"
    )
    print()
    print("| measurement | result |")
    print("|---|---|")
    print(
        f"| (b) bulk issue of {n} revocation decisions (number, render, store, commit) | "
        f"{t_issue:.1f} s = **{n / t_issue:.1f} letters/s** |"
    )
    print(
        f"| (a) print run: {n} stored letters merged into one PDF ({pages} pages) | "
        f"{t_print:.2f} s = **{n / t_print:,.0f} letters/s** |"
    )
    print(
        f"| (c) one letter on demand (issue + store + commit, median of 15) | "
        f"**{t_one * 1000:.0f} ms** |"
    )
    print(
        f"| (d) peak RSS: this process / largest render worker | "
        f"**{rss_self:.0f} MB** / {rss_children:.0f} MB |"
    )
    if isinstance(lo, str):
        print(f"| LibreOffice headless mail merge, {n}-letter .docx -> PDF | not measured: {lo} |")
    else:
        elapsed, lo_pages = lo
        print(
            f"| LibreOffice headless mail merge, {n}-letter .docx -> PDF ({lo_pages} pages) | "
            f"{elapsed:.1f} s = **{n / elapsed:.0f} letters/s** |"
        )
    shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
