"""pending_evaluation: accounts whose inputs moved, waiting for the evaluate-on-change sweep

Revision ID: 486c5ad3f476
Revises: 3e7a9c1b5d20
Create Date: 2026-12-04 08:00:00+00:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '486c5ad3f476'
down_revision: str | None = '3e7a9c1b5d20'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # no index beyond the key: the table holds only the accounts changed in the last few seconds
    op.create_table('pending_evaluation',
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('first_marked_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_marked_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('marks', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['account.id'], name=op.f('fk_pending_evaluation_account_id_account'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('account_id', name=op.f('pk_pending_evaluation'))
    )


def downgrade() -> None:
    op.drop_table('pending_evaluation')
