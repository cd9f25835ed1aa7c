"""Create the schema from the models (db.create_all) in the database of DATABASE_URL.

Used by bench/run_load.sh and the load smoke test before `flask db stamp head && flask setup`,
so load runs do not depend on the initial migration being regenerated yet.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app import app
from coop_audit.extensions import db

with app.app_context():
    db.create_all()
    print("schema created from the models")
