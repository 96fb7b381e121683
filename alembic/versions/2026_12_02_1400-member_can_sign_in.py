"""team members may sign in only when allowed: members named by a CRM start without the right

Existing members keep their access: the column is added false for new rows, then set true on every row
that exists when the migration runs.

Revision ID: d4e1a7c2b9f0
Revises: 9c3a5e7d1f42
Create Date: 2026-12-02 14:00:00+00:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = 'd4e1a7c2b9f0'
down_revision: str | None = '9c3a5e7d1f42'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('team_member', schema=None) as batch_op:
        batch_op.add_column(sa.Column('can_sign_in', sa.Boolean(), server_default=sa.false(), nullable=False))
    team_member = sa.table('team_member', sa.column('can_sign_in', sa.Boolean()))
    op.execute(team_member.update().values(can_sign_in=True))


def downgrade() -> None:
    with op.batch_alter_table('team_member', schema=None) as batch_op:
        batch_op.drop_column('can_sign_in')
