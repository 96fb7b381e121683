"""Ownership windows of the CSM + AM pair; objectives and their measured progress.

Revision ID: 574c62ed537f
Revises: 8546e66d83ee
Create Date: 2026-11-23 18:16:57.981185+00:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '574c62ed537f'
down_revision: str | None = '8546e66d83ee'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('account_owner',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('role', sa.String(length=8), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('source', sa.String(length=16), nullable=False),
    sa.Column('assigned_by', sa.String(length=320), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['account.id'], name=op.f('fk_account_owner_account_id_account'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['member_id'], ['team_member.id'], name=op.f('fk_account_owner_member_id_team_member')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_account_owner'))
    )
    with op.batch_alter_table('account_owner', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_account_owner_account_id'), ['account_id'], unique=False)
        batch_op.create_index('ix_account_owner_current', ['account_id', 'role', 'ended_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_account_owner_member_id'), ['member_id'], unique=False)

    op.create_table('objective',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('journey_id', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=500), nullable=False),
    sa.Column('kpi', sa.String(length=300), nullable=True),
    sa.Column('baseline', sa.Double(), nullable=True),
    sa.Column('target', sa.Double(), nullable=True),
    sa.Column('unit', sa.String(length=64), nullable=True),
    sa.Column('due_on', sa.Date(), nullable=True),
    sa.Column('source', sa.String(length=32), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['account.id'], name=op.f('fk_objective_account_id_account')),
    sa.ForeignKeyConstraint(['journey_id'], ['journey.id'], name=op.f('fk_objective_journey_id_journey'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_objective')),
    sa.UniqueConstraint('journey_id', 'title', name=op.f('uq_objective_journey_id_title'))
    )
    with op.batch_alter_table('objective', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_objective_account_id'), ['account_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_objective_journey_id'), ['journey_id'], unique=False)

    op.create_table('objective_progress',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('objective_id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('value', sa.Double(), nullable=False),
    sa.Column('source', sa.String(length=16), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('recorded_by', sa.String(length=320), nullable=False),
    sa.ForeignKeyConstraint(['objective_id'], ['objective.id'], name=op.f('fk_objective_progress_objective_id_objective'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_objective_progress'))
    )
    with op.batch_alter_table('objective_progress', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_objective_progress_objective_id'), ['objective_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('objective_progress', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_objective_progress_objective_id'))

    op.drop_table('objective_progress')
    with op.batch_alter_table('objective', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_objective_journey_id'))
        batch_op.drop_index(batch_op.f('ix_objective_account_id'))

    op.drop_table('objective')
    with op.batch_alter_table('account_owner', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_account_owner_member_id'))
        batch_op.drop_index('ix_account_owner_current')
        batch_op.drop_index(batch_op.f('ix_account_owner_account_id'))

    op.drop_table('account_owner')
