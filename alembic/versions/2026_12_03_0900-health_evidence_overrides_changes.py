"""health: the evidence behind a score (unknown until enough data), the CSM's override of the band, and
per day the factors of the score with what moved since the day before

Revision ID: 4e7b9d2a6c18
Revises: d4e1a7c2b9f0
Create Date: 2026-12-03 09:00:00+00:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = '4e7b9d2a6c18'
down_revision: str | None = 'd4e1a7c2b9f0'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), 'postgresql')


def upgrade() -> None:
    with op.batch_alter_table('health_score', schema=None) as batch_op:
        batch_op.add_column(sa.Column('computed_band', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('evidence', sa.Double(), nullable=True))
        batch_op.add_column(sa.Column('min_evidence', sa.Double(), nullable=True))
        batch_op.add_column(sa.Column('missing_inputs', JSON, nullable=False, server_default='[]'))
    with op.batch_alter_table('health_history', schema=None) as batch_op:
        batch_op.add_column(sa.Column('factors', JSON, nullable=True))
        batch_op.add_column(sa.Column('changes', JSON, nullable=False, server_default='[]'))
    op.create_table(
        'health_override',
        sa.Column('account_id', sa.Integer(), nullable=False),
        sa.Column('band', sa.String(length=32), nullable=False),
        sa.Column('reason', sa.Text(), nullable=False),
        sa.Column('set_by_id', sa.Integer(), nullable=True),
        sa.Column('set_by', sa.String(length=320), nullable=False),
        sa.Column('set_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('expires_on', sa.Date(), nullable=False),
        sa.ForeignKeyConstraint(['account_id'], ['account.id'], name=op.f('fk_health_override_account_id_account'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['set_by_id'], ['team_member.id'],
                                name=op.f('fk_health_override_set_by_id_team_member'), ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('account_id', name=op.f('pk_health_override')),
    )


def downgrade() -> None:
    op.drop_table('health_override')
    with op.batch_alter_table('health_history', schema=None) as batch_op:
        batch_op.drop_column('changes')
        batch_op.drop_column('factors')
    with op.batch_alter_table('health_score', schema=None) as batch_op:
        batch_op.drop_column('missing_inputs')
        batch_op.drop_column('min_evidence')
        batch_op.drop_column('evidence')
        batch_op.drop_column('computed_band')
