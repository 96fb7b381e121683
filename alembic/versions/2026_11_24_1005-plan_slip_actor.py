"""who moved the go-live: the actor of each plan slip (older slips have none)

Revision ID: 7a1e3c5b9d20
Revises: c5c7f3872b2c
Create Date: 2026-11-24 10:00:00+00:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '7a1e3c5b9d20'
down_revision: str | None = 'c5c7f3872b2c'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('plan_slip', schema=None) as batch_op:
        batch_op.add_column(sa.Column('actor_kind', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('actor', sa.String(length=320), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('plan_slip', schema=None) as batch_op:
        batch_op.drop_column('actor')
        batch_op.drop_column('actor_kind')
