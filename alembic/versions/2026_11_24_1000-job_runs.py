"""job_run: the last successful run of each cron job, so a scheduler started after a missed run catches up

Revision ID: c5c7f3872b2c
Revises: 5f0c2a9d8e11
Create Date: 2026-11-24 10:00:00+00:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = 'c5c7f3872b2c'
down_revision: str | None = '5f0c2a9d8e11'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('job_run',
    sa.Column('job_id', sa.String(length=100), nullable=False),
    sa.Column('last_run_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('job_id', name=op.f('pk_job_run'))
    )


def downgrade() -> None:
    op.drop_table('job_run')
