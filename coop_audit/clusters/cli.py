"""`flask clusters export`: GeoJSON or KML of the register, filtered like the map."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from flask.cli import AppGroup

from ..extensions import db
from ..geo import regions
from ..models import STATUSES
from ..registry.query import RegisterFilter
from ..timeutil import local_today
from . import exports

clusters_cli = AppGroup("clusters", help="Business clusters: exports for other tools.")


def _fail(message: str) -> None:
    db.session.rollback()
    click.echo(f"Error: {message}", err=True)
    sys.exit(1)


@clusters_cli.command("export")
@click.option("--format", "fmt", required=True, type=click.Choice(["geojson", "kml"]))
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--status",
    default="active",
    show_default=True,
    help=f"One of {', '.join(STATUSES)}, or 'all'.",
)
@click.option("--kecamatan", default="", help="Kecamatan name (e.g. Jaten) or code 33.13.xx.")
@click.option("--cluster", "cluster_code", default="", help="Cluster code, or 'none'.")
@click.option("--base-url", default="", help="Prefix for links to the register pages.")
def export_command(fmt, out, status, kecamatan, cluster_code, base_url) -> None:
    """Write the cooperatives with coordinates as GeoJSON or KML 2.2 (Google Earth, My Maps)."""
    if status not in (*STATUSES, "all"):
        _fail(f"--status: unknown status {status!r}; use one of {', '.join(STATUSES)} or all")
    args = {"status": status}
    if kecamatan:
        reg = regions()
        kec = reg.kecamatan.get(kecamatan) or reg.find_kecamatan(kecamatan)
        if kec is None:
            _fail(f"--kecamatan: no kecamatan named {kecamatan!r} in Karanganyar")
        args["kecamatan"] = kec.kode
    if cluster_code:
        if cluster_code == "none":
            args["cluster"] = "none"
        else:
            cl = exports.cluster_by_code(cluster_code)
            if cl is None:
                _fail(f"--cluster: no cluster with code {cluster_code!r}")
            args["cluster"] = str(cl.id)
    if not out.parent.exists():
        _fail(f"--out: the folder {out.parent} does not exist")
    flt = RegisterFilter.from_args(args)
    rows, skipped = exports.export_rows(flt)
    if fmt == "geojson":
        data = exports.to_geojson(rows, base_url.rstrip("/"))
    else:
        data = exports.to_kml(rows, exports.export_title(flt, local_today()), base_url.rstrip("/"))
    try:
        out.write_bytes(data)
    except OSError as e:
        _fail(f"--out: cannot write {out}: {e.strerror}")
    click.echo(f"Wrote {len(rows)} cooperatives to {out} ({skipped} without coordinates left out).")
