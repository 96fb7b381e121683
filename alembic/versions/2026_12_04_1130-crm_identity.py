"""crm_identity: who journey is in each CRM (learned from the CRM), to recognise its own writes' echo

Revision ID: c81d4f2a9e67
Revises: e7b2c4d9a1f3
Create Date: 2026-12-04 11:30:00+00:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import journey.models.base

revision: str = 'c81d4f2a9e67'
down_revision: str | None = 'e7b2c4d9a1f3'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'crm_identity',
        sa.Column('crm', sa.String(length=32), nullable=False),
        sa.Column('integration_id', sa.String(length=200), nullable=False),
        sa.Column('learned_at', journey.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('crm', name=op.f('pk_crm_identity')),
    )


def downgrade() -> None:
    op.drop_table('crm_identity')
