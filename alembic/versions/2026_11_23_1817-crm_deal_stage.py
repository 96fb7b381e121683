"""crm_deal_stage: per CRM deal, the last stage change applied (out-of-order deliveries)

Revision ID: 5bb833f5ca1a
Revises: 574c62ed537f
Create Date: 2026-11-23 18:17:23.415062+00:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '5bb833f5ca1a'
down_revision: str | None = '574c62ed537f'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('crm_deal_stage',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('source', sa.String(length=32), nullable=False),
    sa.Column('external_id', sa.String(length=200), nullable=False),
    sa.Column('pipeline', sa.String(length=200), nullable=True),
    sa.Column('stage', sa.String(length=200), nullable=True),
    sa.Column('won', sa.Boolean(), nullable=False),
    sa.Column('occurred_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('event_id', sa.Integer(), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_crm_deal_stage')),
    sa.UniqueConstraint('source', 'external_id', name=op.f('uq_crm_deal_stage_source_external_id'))
    )


def downgrade() -> None:
    op.drop_table('crm_deal_stage')
