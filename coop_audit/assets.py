"""Front-end libraries served from their XStatic PyPI packages, so no page needs a CDN."""

from __future__ import annotations

import xstatic.pkg.bootstrap
import xstatic.pkg.leaflet
import xstatic.pkg.leaflet_markercluster
from flask import Blueprint, Flask

PACKAGES = {
    "bootstrap": xstatic.pkg.bootstrap,
    "leaflet": xstatic.pkg.leaflet,
    "markercluster": xstatic.pkg.leaflet_markercluster,
}


def init_app(app: Flask) -> None:
    for name, pkg in PACKAGES.items():
        bp = Blueprint(
            f"vendor_{name}",
            __name__,
            static_folder=pkg.BASE_DIR,
            static_url_path=f"/vendor/{name}",
        )
        app.register_blueprint(bp)
