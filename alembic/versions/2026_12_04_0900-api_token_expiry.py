"""API tokens expire (existing ones 90 days after this upgrade), remember their last use and last characters;
deactivated members lose their tokens, sessions and sign-in links

Revision ID: a4d7e2b9c513
Revises: 5e1f0c2a7b93
Create Date: 2026-12-04 08:00:00+00:00
"""
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from alembic import op

revision: str = 'a4d7e2b9c513'
down_revision: str | None = '5e1f0c2a7b93'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('api_token', schema=None) as batch_op:
        batch_op.add_column(sa.Column('expires_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('last_used_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('hint', sa.String(length=8), nullable=True))
    # Tokens made before expiry existed keep working for the default lifetime, counted from now, so an
    # upgrade does not cut off a running integration; `journey tokens list` shows when each one ends.
    now = datetime.now(UTC)
    if op.get_bind().dialect.name == 'sqlite':
        now = now.replace(tzinfo=None)  # SQLite stores naive UTC (journey.models.base.UTCDateTime)
    token = sa.table('api_token', sa.column('member_id', sa.Integer()),
                     sa.column('revoked_at', sa.DateTime(timezone=True)),
                     sa.column('expires_at', sa.DateTime(timezone=True)))
    op.execute(token.update().where(token.c.expires_at.is_(None)).values(expires_at=now + timedelta(days=90)))
    # Before this revision deactivating a member left their tokens and sessions in place, and reactivating
    # them revived every one: end those of members who are inactive now.
    member = sa.table('team_member', sa.column('id', sa.Integer()), sa.column('active', sa.Boolean()))
    inactive = sa.select(member.c.id).where(member.c.active.is_(False))
    op.execute(token.update().where(token.c.member_id.in_(inactive), token.c.revoked_at.is_(None))
               .values(revoked_at=now))
    for name in ('web_session', 'signin_link'):
        rows = sa.table(name, sa.column('member_id', sa.Integer()))
        op.execute(rows.delete().where(rows.c.member_id.in_(inactive)))
    with op.batch_alter_table('api_token', schema=None) as batch_op:
        batch_op.alter_column('expires_at', existing_type=sa.DateTime(timezone=True), nullable=False)


def downgrade() -> None:
    with op.batch_alter_table('api_token', schema=None) as batch_op:
        batch_op.drop_column('hint')
        batch_op.drop_column('last_used_at')
        batch_op.drop_column('expires_at')
