"""per-field occurrence times on deals and accounts (newest wins per field, whatever the arrival order)

Revision ID: 5f0c2a9d8e11
Revises: 1d336900a92b
Create Date: 2026-11-23 19:55:00+00:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = '5f0c2a9d8e11'
down_revision: str | None = '1d336900a92b'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    for table in ('deal', 'account'):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column('field_occurred_at',
                                          sa.JSON().with_variant(postgresql.JSONB(), 'postgresql'), nullable=True))


def downgrade() -> None:
    for table in ('account', 'deal'):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column('field_occurred_at')
