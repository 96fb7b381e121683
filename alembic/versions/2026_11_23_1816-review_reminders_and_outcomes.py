"""review reminders and outcomes

Revision ID: 8546e66d83ee
Revises: 24dfa2ed1848
Create Date: 2026-11-23 18:16:40.738571+00:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = '8546e66d83ee'
down_revision: str | None = '24dfa2ed1848'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('review_reminder',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('review_id', sa.Integer(), nullable=False),
    sa.Column('sequence', sa.Integer(), nullable=False),
    sa.Column('lead_days', sa.Integer(), nullable=False),
    sa.Column('due_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['review_id'], ['review.id'], name=op.f('fk_review_reminder_review_id_review'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_review_reminder')),
    sa.UniqueConstraint('review_id', 'sequence', 'lead_days', name=op.f('uq_review_reminder_review_id_sequence_lead_days'))
    )
    with op.batch_alter_table('review_reminder', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_review_reminder_review_id'), ['review_id'], unique=False)
        batch_op.create_index('ix_review_reminder_status_due', ['status', 'due_at'], unique=False)

    with op.batch_alter_table('review', schema=None) as batch_op:
        batch_op.add_column(sa.Column('outcome_details', sa.JSON().with_variant(postgresql.JSONB(), 'postgresql'), nullable=True))
        batch_op.add_column(sa.Column('held_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('missed_at', sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('review', schema=None) as batch_op:
        batch_op.drop_column('missed_at')
        batch_op.drop_column('held_at')
        batch_op.drop_column('outcome_details')

    with op.batch_alter_table('review_reminder', schema=None) as batch_op:
        batch_op.drop_index('ix_review_reminder_status_due')
        batch_op.drop_index(batch_op.f('ix_review_reminder_review_id'))

    op.drop_table('review_reminder')
