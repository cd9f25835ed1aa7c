"""Bulk sign-off jobs (sign_job)

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-04

A head's bulk sign-off runs on the job queue: the row keeps the ticked proposals, the decision
day, the outcome of each proposal handled so far and the heartbeat of the running worker.
"""
from alembic import op
import sqlalchemy as sa

import coop_audit.models.core


# revision identifiers, used by Alembic.
revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('sign_job',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('proposal_ids', sa.JSON(), nullable=False),
    sa.Column('decided_on', sa.Date(), nullable=False),
    sa.Column('locale', sa.String(length=10), nullable=False),
    sa.Column('outcomes', sa.JSON(), nullable=False),
    sa.Column('total', sa.Integer(), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=False),
    sa.Column('created_at', coop_audit.models.core.UTCDateTime(timezone=True), nullable=False),
    sa.Column('asked_at', coop_audit.models.core.UTCDateTime(timezone=True), nullable=False),
    sa.Column('heartbeat_at', coop_audit.models.core.UTCDateTime(timezone=True), nullable=True),
    sa.Column('finished_at', coop_audit.models.core.UTCDateTime(timezone=True), nullable=True),
    sa.CheckConstraint("status IN ('queued', 'running', 'done', 'failed')", name=op.f('ck_sign_job_status')),
    sa.ForeignKeyConstraint(['created_by_id'], ['user.id'], name=op.f('fk_sign_job_created_by_id_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sign_job'))
    )


def downgrade():
    op.drop_table('sign_job')
