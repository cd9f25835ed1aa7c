"""`flask letters ...`: batch printing, the job-queue worker, stale-job recovery."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import AppGroup

from ..extensions import db
from . import jobs
from . import operations as ops
from .render import KINDS

letters_cli = AppGroup("letters", help="Official letters: batch printing and the job worker.")


def _fail(message: str) -> None:
    db.session.rollback()
    click.echo(f"Error: {message}", err=True)
    sys.exit(1)


@letters_cli.command("batch")
@click.option("--kind", required=True, type=click.Choice(KINDS), help="Letter kind.")
@click.option("--unsent", is_flag=True, help="Only letters not yet marked as sent.")
@click.option("--kecamatan", default="", help="Kecamatan name or code, e.g. Jaten.")
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False), help="PDF file.")
@click.option("--no-mark-sent", is_flag=True, help="Do not mark the printed letters as sent.")
def batch_command(kind, unsent, kecamatan, out, no_mark_sent) -> None:
    """Merge stored letters into one PDF to print (synchronously, no rendering)."""
    out_path = Path(out)
    if not out_path.parent.exists():
        _fail(f"--out: folder {out_path.parent} does not exist")
    if out_path.suffix.lower() != ".pdf":
        _fail("--out: the file name must end in .pdf")
    flt = ops.LetterFilter(kind=kind, unsent=unsent, kecamatan=kecamatan.strip())
    if flt.kecamatan:
        from ..geo import regions

        names = {k.nama.lower() for k in regions().kecamatan.values()}
        codes = set(regions().kecamatan)
        if flt.kecamatan.lower() not in names and flt.kecamatan not in codes:
            _fail(f"--kecamatan: unknown kecamatan {kecamatan!r}")
    ids = ops.batch_letters(flt)
    if not ids:
        _fail("no valid letter matches this selection; nothing was written")
    try:
        data = ops.merged_pdf(ids)
        ops.write_atomically(out_path, data)
    except (ops.LetterError, OSError) as e:
        _fail(getattr(e, "message", None) or str(e))
    marked = 0 if no_mark_sent else ops.mark_sent(ids, None)
    db.session.commit()
    click.echo(f"{len(ids)} letter(s) written to {out_path} ({marked} newly marked as sent).")


@letters_cli.command("worker")
@click.option("--workers", default=1, show_default=True, type=click.IntRange(1, 16))
def worker_command(workers) -> None:
    """Run the job-queue consumer (batch print runs, bulk sign-offs; every minute it re-queues
    jobs whose worker stopped)."""
    huey = current_app.extensions["huey"]
    if huey.immediate:
        _fail("the queue runs in immediate mode (HUEY_IMMEDIATE); no worker is needed")
    removed = jobs.cleanup_partial_files()
    requeued = jobs.recover_stale_jobs()
    click.echo(f"Recovered {requeued} stale job(s), removed {removed} partial file(s).")
    consumer = huey.create_consumer(workers=workers, worker_type="thread", periodic=True)
    consumer.run()


@letters_cli.command("recover")
@click.option("--stale-seconds", default=jobs.STALE_SECONDS, show_default=True, type=int)
def recover_command(stale_seconds) -> None:
    """Re-queue batch jobs whose worker stopped (or fail them after the retries)."""
    n = jobs.recover_stale_jobs(stale_seconds=stale_seconds)
    click.echo(f"{n} stale job(s) handled.")


def init_app(app: Flask) -> None:
    app.cli.add_command(letters_cli)
