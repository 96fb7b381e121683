"""kpi snapshots (one row per ISO week and scope) and expansion opportunities (amount and stage)

Revision ID: 5e1f0c2a7b93
Revises: 486c5ad3f476
Create Date: 2026-12-04 08:30:41.669364+00:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = '5e1f0c2a7b93'
down_revision: str | None = '486c5ad3f476'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:

    op.create_table('kpi_snapshot',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('week', sa.String(length=8), nullable=False),
    sa.Column('week_start', sa.Date(), nullable=False),
    sa.Column('scope', sa.String(length=100), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=True),
    sa.Column('figures', sa.JSON().with_variant(postgresql.JSONB(), 'postgresql'), nullable=False),
    sa.Column('as_of', sa.DateTime(timezone=True), nullable=False),
    sa.Column('taken_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('source', sa.String(length=16), nullable=False),
    sa.ForeignKeyConstraint(['member_id'], ['team_member.id'], name=op.f('fk_kpi_snapshot_member_id_team_member'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_kpi_snapshot')),
    sa.UniqueConstraint('week', 'scope', name=op.f('uq_kpi_snapshot_week_scope'))
    )
    with op.batch_alter_table('kpi_snapshot', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_kpi_snapshot_week_start'), ['week_start'], unique=False)

    op.create_table('opportunity',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=300), nullable=False),
    sa.Column('amount', sa.Numeric(precision=18, scale=2), nullable=True),
    sa.Column('stage', sa.String(length=16), nullable=False),
    sa.Column('source', sa.String(length=16), nullable=False),
    sa.Column('review_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['account_id'], ['account.id'], name=op.f('fk_opportunity_account_id_account'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['review_id'], ['review.id'], name=op.f('fk_opportunity_review_id_review'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_opportunity'))
    )
    with op.batch_alter_table('opportunity', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_opportunity_account_id'), ['account_id'], unique=False)




def downgrade() -> None:

    with op.batch_alter_table('opportunity', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_opportunity_account_id'))

    op.drop_table('opportunity')
    with op.batch_alter_table('kpi_snapshot', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_kpi_snapshot_week_start'))

    op.drop_table('kpi_snapshot')

