"""Indexes for the book page at 10k accounts: tasks by journey and status, reviews by account and status,
and journey_id added to the task status index so the "overdue" filter reads no table rows.

Revision ID: 1d336900a92b
Revises: 7840c0a18cac
Create Date: 2026-11-23 19:37:15.486860+00:00
"""
from collections.abc import Sequence

from alembic import op

revision: str = '1d336900a92b'
down_revision: str | None = '7840c0a18cac'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.drop_index('ix_plan_task_status_due', table_name='plan_task')
    op.create_index('ix_plan_task_status_due', 'plan_task', ['status', 'due_on', 'done_at', 'journey_id'])
    op.create_index('ix_plan_task_journey_status_due', 'plan_task', ['journey_id', 'status', 'due_on'])
    op.create_index('ix_review_account_status_due', 'review', ['account_id', 'status', 'due_on'])


def downgrade() -> None:
    op.drop_index('ix_review_account_status_due', table_name='review')
    op.drop_index('ix_plan_task_journey_status_due', table_name='plan_task')
    op.drop_index('ix_plan_task_status_due', table_name='plan_task')
    op.create_index('ix_plan_task_status_due', 'plan_task', ['status', 'due_on', 'done_at'])
