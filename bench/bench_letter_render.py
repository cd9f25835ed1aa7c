"""Where one letter's render time goes: the letter stylesheet with one feature switched off at
a time, timed against the unchanged stylesheet in the same process.

Usage:
  .venv/bin/python bench/bench_letter_render.py [--kind revocation] [--rounds 8]

Each variant appends a few CSS rules to `static/letters/letter.css`; rounds interleave the
variants (A/B/C/..., each round starting with the next one) so a busier moment of the machine
hits all of them alike. CPU time of this process (`time.process_time`), median over the
rounds of 5 renders each, after `render.start_worker()` as in a bulk sign-off's render worker.
The QR code is timed on its own (segno, with and without choosing the mask by penalty score).

The variants are measurements, not proposals: a letter without its verification footer or with
ragged text is not one the office would send.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench_letters import bench_head  # this folder is on the path (run as a script)

VARIANTS = {
    "letter.css as shipped": "",
    "no verification footer (QR + text)": (
        "@page :first { @bottom-left { content: none } } .verify { display: none }"
    ),
    "verification footer without the QR image": ".verify .qr { display: none }",
    "no page-number margin box": "@page { @top-center { content: none } }",
    "ragged right instead of justified": "p, .numbered, .dc { text-align: left !important }",
    "no overflow-wrap: break-word": "div, li, p, td { overflow-wrap: normal !important }",
    "kerning and ligatures on": "html { font-kerning: auto; font-variant-ligatures: normal }",
}

VERIFY_URL = "https://koperasi.karanganyarkab.go.id/verify/" + "x" * 32


def sample_letter(kind: str):
    from coop_audit.letters import render

    coop = render.CoopInfo(
        name="Koperasi Serba Usaha Sejahtera Bersama Nomor 17",
        bh_number="518/17/BH/XIV.10/VIII/2008",
        bh_date=date(2008, 8, 12),
        address_lines=["Jalan Raya Nomor 17, RT 003/RW 012"],
        desa="Jati",
        kecamatan="Jaten",
        chair_name="Sutrisno",
    )
    return render.LetterData(
        kind=kind,
        number="500.3/123/DKUKTESDM/2026",
        issued_on=date(2026, 12, 3),
        coop=coop,
        grounds=["Tidak menyelenggarakan RAT 3 tahun", "Tidak melakukan kegiatan usaha"],
        evidence_summary=["Berita Acara Pemeriksaan tanggal 12 Oktober 2026"],
        reference_number="500.3/12/DKUKTESDM/2026",
        reference_date=date(2026, 6, 1),
        receipt_date=date(2026, 6, 3),
        objection_accepted=False,
        objection_reasons=["Bukti RAT tidak dilampirkan"],
        reason="Koperasi telah melaksanakan RAT.",
        coops=[coop] if kind == "proposal" else [],
        verify_url=VERIFY_URL,
        short_code="K7Q-4MZ2",
    )


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--kind", default="revocation")
    ap.add_argument("--rounds", type=int, default=8)
    args = ap.parse_args()

    import segno

    from config import TestConfig
    from coop_audit import create_app
    from coop_audit.extensions import db
    from coop_audit.letters import operations as ops
    from coop_audit.letters import render

    workdir = Path(tempfile.mkdtemp(prefix="bench_render_"))

    class Cfg(TestConfig):
        SQLALCHEMY_DATABASE_URI = f"sqlite:///{workdir / 'render.sqlite3'}"
        LETTER_DIR = str(workdir / "letters")
        UPLOAD_DIR = str(workdir / "uploads")

    app = create_app(Cfg)
    with app.app_context():
        db.create_all()
        head = bench_head()
        settings = ops.letter_settings(ops.current_settings(), head)
    letter = sample_letter(args.kind)
    render.start_worker()

    base_css = render.LETTER_CSS.read_text()
    sheets = {}
    for i, (name, extra) in enumerate(VARIANTS.items()):
        # Next to letter.css, so its relative font URLs resolve; removed at once.
        path = render.LETTER_CSS.with_name(f"_bench_variant_{i}.css")
        path.write_text(base_css + "\n" + extra)
        try:
            sheets[name] = render.CSS(
                filename=str(path),
                url_fetcher=render.StaticOnlyFetcher(),
                font_config=render.FONT_CONFIG,
            )
        finally:
            path.unlink()

    shipped = render._stylesheet
    times: dict[str, list[float]] = {name: [] for name in sheets}
    try:
        names = list(sheets)
        for r in range(args.rounds):
            # Each round starts with another variant: the first of a round ran slower.
            for name in names[r % len(names) :] + names[: r % len(names)]:
                sheet = sheets[name]
                render._stylesheet = lambda sheet=sheet: sheet
                started = time.process_time()
                for _ in range(5):
                    render.render_pdf(letter, settings)
                times[name].append((time.process_time() - started) / 5 * 1000)
    finally:
        render._stylesheet = shipped

    def qr_ms(**kw) -> float:
        started = time.process_time()
        for _ in range(200):
            segno.make(VERIFY_URL, error="m", **kw).png_data_uri(scale=1, border=0)
        return (time.process_time() - started) / 200 * 1000

    base = statistics.median(times["letter.css as shipped"])
    print(f"kind: {args.kind}; rounds: {args.rounds} x 5 renders; CPU ms per letter (median)")
    print()
    print("| stylesheet | ms per letter | difference |")
    print("|---|---|---|")
    for name, values in times.items():
        ms = statistics.median(values)
        print(f"| {name} | {ms:.1f} | {ms - base:+.1f} |")
    print()
    print(
        f"QR code alone (segno, in render_html): {qr_ms():.1f} ms with the mask chosen by "
        f"penalty score (ISO/IEC 18004), {qr_ms(mask=0):.1f} ms with a fixed mask"
    )


if __name__ == "__main__":
    main()
