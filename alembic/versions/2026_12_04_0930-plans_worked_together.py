"""plans worked together: task comments, task due-date slips, document links, customer share links,
and who validated an objective

Revision ID: e7b2c4d9a1f3
Revises: a4d7e2b9c513
Create Date: 2026-12-04 08:30:00+00:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from alembic import op

revision: str = 'e7b2c4d9a1f3'
down_revision: str | None = 'a4d7e2b9c513'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), 'postgresql')



def upgrade() -> None:
    op.create_table(
        'task_comment',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('task_id', sa.Integer(), nullable=False),
        sa.Column('account_id', sa.Integer(), nullable=False),
        sa.Column('at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('author_kind', sa.String(length=16), nullable=False),
        sa.Column('author', sa.String(length=320), nullable=False),
        sa.Column('body', sa.Text(), nullable=False),
        sa.Column('mentions', JSON, nullable=False),
        sa.Column('shared', sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(['account_id'], ['account.id'], name=op.f('fk_task_comment_account_id_account')),
        sa.ForeignKeyConstraint(['task_id'], ['plan_task.id'], name=op.f('fk_task_comment_task_id_plan_task'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_task_comment')),
    )
    op.create_index(op.f('ix_task_comment_task_id'), 'task_comment', ['task_id'])
    op.create_index(op.f('ix_task_comment_account_id'), 'task_comment', ['account_id'])
    op.create_table(
        'task_slip',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('task_id', sa.Integer(), nullable=False),
        sa.Column('at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('old_due_on', sa.Date(), nullable=False),
        sa.Column('new_due_on', sa.Date(), nullable=False),
        sa.Column('reason', sa.Text(), nullable=False),
        sa.Column('actor', sa.String(length=320), nullable=False),
        sa.ForeignKeyConstraint(['task_id'], ['plan_task.id'], name=op.f('fk_task_slip_task_id_plan_task'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_task_slip')),
    )
    op.create_index(op.f('ix_task_slip_task_id'), 'task_slip', ['task_id'])
    op.create_table(
        'share_link',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('account_id', sa.Integer(), nullable=False),
        sa.Column('email', sa.String(length=320), nullable=False),
        sa.Column('name', sa.String(length=200), nullable=False),
        sa.Column('token_digest', sa.String(length=64), nullable=False),
        sa.Column('created_by', sa.String(length=320), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('last_used_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['account_id'], ['account.id'], name=op.f('fk_share_link_account_id_account')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_share_link')),
        sa.UniqueConstraint('token_digest', name=op.f('uq_share_link_token_digest')),
    )
    op.create_index(op.f('ix_share_link_account_id'), 'share_link', ['account_id'])
    with op.batch_alter_table('plan_task', schema=None) as batch_op:
        batch_op.add_column(sa.Column('document_url', sa.String(length=1000), nullable=True))
    with op.batch_alter_table('objective', schema=None) as batch_op:
        batch_op.add_column(sa.Column('validated_by', sa.String(length=320), nullable=True))
        batch_op.add_column(sa.Column('validated_at', sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('objective', schema=None) as batch_op:
        batch_op.drop_column('validated_at')
        batch_op.drop_column('validated_by')
    with op.batch_alter_table('plan_task', schema=None) as batch_op:
        batch_op.drop_column('document_url')
    op.drop_index(op.f('ix_share_link_account_id'), table_name='share_link')
    op.drop_table('share_link')
    op.drop_index(op.f('ix_task_slip_task_id'), table_name='task_slip')
    op.drop_table('task_slip')
    op.drop_index(op.f('ix_task_comment_account_id'), table_name='task_comment')
    op.drop_index(op.f('ix_task_comment_task_id'), table_name='task_comment')
    op.drop_table('task_comment')
