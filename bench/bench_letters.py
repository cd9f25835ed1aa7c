"""Letters: bulk issuing, a print run of stored letters, one letter on demand, peak memory;
side by side with a LibreOffice headless mail merge (.docx -> PDF) when `soffice` is installed.

Usage:
  .venv/bin/python bench/bench_letters.py [--letters 913] [--workers 2] [--database-url URL]

Seeds a fresh database (SQLite file under /tmp by default) with N warned cooperatives, each with
a received warning whose objection window is over and a pending revocation proposal, then in
one run:
(b) the head signs the N proposals in one bulk sign-off, through the job the sign-off page
queues (`jobs.run_sign_job`: chunks of 25 proposals, each one transaction; numbers taken in
order; the letters rendered in a pool of --workers processes, stored with their sha256);
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


def bench_head():
    """The head who signs in the letter benchmarks (his name and NIP print on every letter)."""
    from coop_audit.users.operations import create_user

    return create_user(
        "bench_head",
        "Drs. BUDI SANTOSO, M.Si.",
        "head",
        "bench-password-123",
        nip="197001011995031001",
        rank="Pembina Utama Muda (IV/c)",
    )


def seed(n: int):
    from coop_audit.extensions import db
    from coop_audit.models import Cooperative, Desa
    from coop_audit.users.operations import create_user

    create_user("bench_clerk", "Sri Wahyuni", "clerk", "bench-password-123")
    head = bench_head()
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


class TreeMemory:
    """Samples the resident memory of this process and all its descendants (the render workers
    are children of the forkserver, so RUSAGE_CHILDREN never sees them)."""

    def __init__(self, every: float = 0.2) -> None:
        import threading

        self.every = every
        self.peak_other = 0  # the largest single process other than this one, KB
        self.peak_tree = 0  # the whole tree at one moment, KB
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    @staticmethod
    def _tree() -> dict[int, int]:
        parents: dict[int, int] = {}
        rss: dict[int, int] = {}
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                stat = (entry / "stat").read_text()
                status = (entry / "status").read_text()
            except OSError:
                continue
            parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
            for line in status.splitlines():
                if line.startswith("VmRSS:"):
                    rss[int(entry.name)] = int(line.split()[1])
        me, mine = os.getpid(), {}
        for pid in rss:
            p = pid
            while p and p != me and p in parents:
                p = parents[p]
            if p == me:
                mine[pid] = rss[pid]
        return mine

    def _run(self) -> None:
        while not self._stop.wait(self.every):
            tree = self._tree()
            others = [kb for pid, kb in tree.items() if pid != os.getpid()]
            self.peak_other = max(self.peak_other, max(others, default=0))
            self.peak_tree = max(self.peak_tree, sum(tree.values()))

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()


def revocation_proposals(coops, head) -> list[int]:
    """A received warning (objection window over) and a pending revocation proposal each."""
    import hashlib
    from datetime import timedelta

    from coop_audit.extensions import db
    from coop_audit.models import User
    from coop_audit.models.letters import Letter
    from coop_audit.sanctions import operations as sanctions
    from coop_audit.timeutil import utcnow

    clerk = db.session.execute(db.select(User).where(User.username == "bench_clerk")).scalar_one()
    issued = TODAY - timedelta(days=120)
    for i, coop in enumerate(coops, 1):
        pdf = b"%PDF-1.7 warning " + str(i).encode()
        db.session.add(
            Letter(
                kind="warning",
                year=issued.year,
                seq=i,
                number=f"500.3/{i}/SP/{issued.year}",
                cooperative_id=coop.id,
                issued_on=issued,
                issued_at=utcnow(),
                signer_id=head.id,
                snapshot={},
                pdf=pdf,
                sha256=hashlib.sha256(pdf).hexdigest(),
                token=f"bench-warning-{i}",
                short_code=f"BW{i:06d}",
                receipt_date=issued + timedelta(days=3),
            )
        )
    db.session.flush()
    ids = [
        sanctions.propose(
            coop, "revoke", clerk, reason="Tidak menyelenggarakan RAT 3 tahun", today=TODAY
        ).id
        for coop in coops
    ]
    db.session.commit()
    return ids


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
        LETTER_RENDER_WORKERS = args.workers

    app = create_app(Cfg)
    memory = TreeMemory()
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

        proposal_ids = revocation_proposals(batch, head)
        from coop_audit.letters import jobs
        from coop_audit.models import Cooperative, User
        from coop_audit.models.letters import Letter
        from coop_audit.models.workflow import SignJob

        job_id = jobs.create_sign_job(proposal_ids, head, TODAY).id
        db.session.commit()
        # The job worker starts from an empty session: drop what seeding left in this one.
        head_id, batch_ids, extra_ids = head.id, [c.id for c in batch], [c.id for c in extra]
        db.session.remove()
        t0 = time.perf_counter()
        jobs.run_sign_job(job_id)
        t_issue = time.perf_counter() - t0
        db.session.remove()
        head = db.session.get(User, head_id)
        batch = [db.session.get(Cooperative, i) for i in batch_ids]
        extra = [db.session.get(Cooperative, i) for i in extra_ids]
        job = db.session.get(SignJob, job_id)
        assert job.status == "done" and job.signed == n, (job.status, job.error, job.signed)
        letters = list(
            db.session.execute(
                db.select(Letter).where(Letter.kind == "revocation").order_by(Letter.seq)
            ).scalars()
        )
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

    memory.stop()
    rss_self = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"database: {url.split('@')[-1]}; letters: {n}; render workers: {args.workers}; "
        f"cores: {os.cpu_count()}; load average at the end: {os.getloadavg()[0]:.1f}"
    )
    print()
    print("| measurement | result |")
    print("|---|---|")
    print(
        f"| (b) bulk sign-off of {n} revocation proposals: the job signs, numbers, renders, "
        f"stores and commits {n} decisions | "
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
        f"| (d) peak RSS: this process / largest other process (render worker) / "
        f"all processes together | **{rss_self:.0f} MB** / {memory.peak_other / 1024:.0f} MB / "
        f"{memory.peak_tree / 1024:.0f} MB |"
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
