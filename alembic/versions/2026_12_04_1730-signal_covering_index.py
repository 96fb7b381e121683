"""signal_covering_index: the signals' index carries the value, so the health recompute's window
aggregates are read from the index alone (no table row fetched per signal)

At 100,000 accounts x 90 days (13.6M signals, SQLite) the batch's window aggregates went from 36 s to
under a second of the nightly recompute: each signal row had been fetched from the table by its rowid
after the index seek, at random. The index replaces ix_signal_account_metric_at (a prefix of it).

Revision ID: 5b0d6c3e8f21
Revises: c81d4f2a9e67
Create Date: 2026-12-04 17:30:00+00:00
"""
from collections.abc import Sequence

from alembic import op

revision: str = '5b0d6c3e8f21'
down_revision: str | None = 'c81d4f2a9e67'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# Plain index statements, not a batch: on SQLite a batch may copy the whole table.
def upgrade() -> None:
    op.create_index('ix_signal_account_metric_at_value', 'signal', ['account_id', 'metric', 'at', 'value'])
    op.drop_index('ix_signal_account_metric_at', table_name='signal')


def downgrade() -> None:
    op.create_index('ix_signal_account_metric_at', 'signal', ['account_id', 'metric', 'at'])
    op.drop_index('ix_signal_account_metric_at_value', table_name='signal')
