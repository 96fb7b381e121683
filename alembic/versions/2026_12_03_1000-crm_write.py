"""crm_write: the CRM write-back queue, one coalesced row per CRM record

Revision ID: 3e7a9c1b5d20
Revises: 4e7b9d2a6c18
Create Date: 2026-12-03 10:00:00+00:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import journey.models.base

revision: str = '3e7a9c1b5d20'
down_revision: str | None = '4e7b9d2a6c18'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), 'postgresql')


def upgrade() -> None:
    op.create_table(
        'crm_write',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('crm', sa.String(length=32), nullable=False),
        sa.Column('object_type', sa.String(length=16), nullable=False),
        sa.Column('object_id', sa.String(length=200), nullable=False),
        sa.Column('account_id', sa.Integer(), nullable=False),
        sa.Column('deal_id', sa.Integer(), nullable=True),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.Column('changed_at', journey.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column('due_at', journey.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column('locked_until', journey.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('sent_values', JSON, nullable=False),
        sa.Column('acked_at', journey.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column('lag_seconds', sa.Double(), nullable=True),
        sa.Column('error', sa.Text(), nullable=True),
        sa.Column('created_at', journey.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['account_id'], ['account.id'], name=op.f('fk_crm_write_account_id_account'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['deal_id'], ['deal.id'], name=op.f('fk_crm_write_deal_id_deal'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_crm_write')),
        sa.UniqueConstraint('crm', 'object_type', 'object_id', name=op.f('uq_crm_write_crm_object_type_object_id')),
    )
    op.create_index('ix_crm_write_due', 'crm_write', ['status', 'due_at'], unique=False)
    op.create_index(op.f('ix_crm_write_account_id'), 'crm_write', ['account_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_crm_write_account_id'), table_name='crm_write')
    op.drop_index('ix_crm_write_due', table_name='crm_write')
    op.drop_table('crm_write')
