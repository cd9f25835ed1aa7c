"""The dashboard: totals by status, by kecamatan, and the clusters of active cooperatives."""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, url_for
from flask_login import current_user
from sqlalchemy import func, select

from .extensions import db
from .geo import regions
from .models import STATUSES, Cluster, Cooperative
from .permissions import ALL_ROLES, public, role_required

bp = Blueprint("dashboard", __name__)


def register_stats() -> dict:
    """Totals used by the dashboard and `flask registry stats --json`."""
    by_status = dict.fromkeys(STATUSES, 0)
    for status, n in db.session.execute(
        select(Cooperative.status, func.count()).group_by(Cooperative.status)
    ):
        by_status[status] = n
    reg = regions()
    by_kec: dict[str, dict[str, int]] = {
        k.nama: dict.fromkeys(STATUSES, 0) for k in reg.kecamatan.values()
    }
    for kode, status, n in db.session.execute(
        select(Cooperative.kecamatan_kode, Cooperative.status, func.count()).group_by(
            Cooperative.kecamatan_kode, Cooperative.status
        )
    ):
        by_kec[reg.kecamatan[kode].nama][status] = n
    return {"total": sum(by_status.values()), "by_status": by_status, "by_kecamatan_status": by_kec}


@bp.route("/")
@public
def home():
    if current_user.is_authenticated:
        return redirect(url_for("dashboard.index"))
    return redirect(url_for("auth.login"))


@bp.route("/favicon.ico")
@public
def favicon():
    # Pages name their icon; browsers, PDF viewers and bookmarks still ask for this path.
    return redirect(url_for("static", filename="img/favicon.svg"), code=301)


@bp.route("/dasbor")
@role_required(*ALL_ROLES)
def index():
    stats = register_stats()
    clusters = db.session.execute(
        select(Cluster, func.count(Cooperative.id))
        .outerjoin(
            Cooperative, (Cooperative.cluster_id == Cluster.id) & (Cooperative.status == "active")
        )
        .group_by(Cluster.id)
        .order_by(func.count(Cooperative.id).desc(), Cluster.sort_order)
    ).all()
    no_cluster = db.session.execute(
        select(func.count())
        .select_from(Cooperative)
        .where(Cooperative.status == "active", Cooperative.cluster_id.is_(None))
    ).scalar_one()
    kec_codes = {k.nama: k.kode for k in regions().kecamatan.values()}
    max_kec = max((sum(v.values()) for v in stats["by_kecamatan_status"].values()), default=1) or 1
    return render_template(
        "dashboard.html",
        stats=stats,
        clusters=clusters,
        no_cluster=no_cluster,
        kec_codes=kec_codes,
        max_kec=max_kec,
    )
