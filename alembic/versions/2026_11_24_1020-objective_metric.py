"""objectives can name a signal metric; progress from a signal remembers which (each counts once)

Revision ID: 9c3a5e7d1f42
Revises: 8b2f4d6c0e31
Create Date: 2026-11-24 10:20:00+00:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '9c3a5e7d1f42'
down_revision: str | None = '8b2f4d6c0e31'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('objective', schema=None) as batch_op:
        batch_op.add_column(sa.Column('metric', sa.String(length=64), nullable=True))
    with op.batch_alter_table('objective_progress', schema=None) as batch_op:
        batch_op.add_column(sa.Column('signal_ref', sa.String(length=200), nullable=True))
        batch_op.create_unique_constraint(op.f('uq_objective_progress_objective_id_signal_ref'),
                                          ['objective_id', 'signal_ref'])


def downgrade() -> None:
    with op.batch_alter_table('objective_progress', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('uq_objective_progress_objective_id_signal_ref'), type_='unique')
        batch_op.drop_column('signal_ref')
    with op.batch_alter_table('objective', schema=None) as batch_op:
        batch_op.drop_column('metric')
