"""roster capacity in ARR, and the account's language (a tie-break when assigning the CSM and AM)

Revision ID: 8b2f4d6c0e31
Revises: 7a1e3c5b9d20
Create Date: 2026-11-24 10:10:00+00:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '8b2f4d6c0e31'
down_revision: str | None = '7a1e3c5b9d20'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('team_member', schema=None) as batch_op:
        batch_op.add_column(sa.Column('capacity_arr', sa.Numeric(precision=18, scale=2), nullable=True))
    with op.batch_alter_table('account', schema=None) as batch_op:
        batch_op.add_column(sa.Column('language', sa.String(length=16), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('account', schema=None) as batch_op:
        batch_op.drop_column('language')
    with op.batch_alter_table('team_member', schema=None) as batch_op:
        batch_op.drop_column('capacity_arr')
