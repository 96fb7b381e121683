"""Every query about team members and API tokens."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from journey.db import insert_ignoring_duplicates
from journey.models import ApiToken, Role, TeamMember


def by_email(session: Session, email: str) -> TeamMember | None:
    return session.scalars(select(TeamMember).where(TeamMember.email == email.lower())).one_or_none()


def insert_if_new(session: Session, *, email: str, name: str, role: Role) -> None:
    insert_ignoring_duplicates(session, TeamMember, email=email.lower(), name=name, role=role,
                               timezone="UTC", segments=[], regions=[], languages=[], active=True)


def by_token_digest(session: Session, digest: str) -> TeamMember | None:
    stmt = (select(TeamMember).join(ApiToken, ApiToken.member_id == TeamMember.id)
            .where(ApiToken.digest == digest, ApiToken.revoked_at.is_(None), TeamMember.active.is_(True)))
    return session.scalars(stmt).one_or_none()
