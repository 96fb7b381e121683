"""Every query of browser sign-in: sessions and one-time links (digests only, never the tokens)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from journey.models import SigninLink, TeamMember, WebSession


def insert_session(session: Session, *, digest: str, member_id: int, now: datetime, expires_at: datetime,
                   user_agent: str | None) -> None:
    session.add(WebSession(digest=digest, member_id=member_id, created_at=now, expires_at=expires_at,
                           user_agent=(user_agent or "")[:300] or None))
    session.flush()


def member_for_session(session: Session, digest: str, now: datetime) -> TeamMember | None:
    stmt = (select(TeamMember).join(WebSession, WebSession.member_id == TeamMember.id)
            .where(WebSession.digest == digest, WebSession.expires_at > now, TeamMember.active.is_(True),
                   TeamMember.can_sign_in.is_(True)))
    return session.scalars(stmt).one_or_none()


def delete_session(session: Session, digest: str) -> None:
    session.execute(delete(WebSession).where(WebSession.digest == digest))


def delete_expired(session: Session, now: datetime) -> None:
    session.execute(delete(WebSession).where(WebSession.expires_at <= now))
    session.execute(delete(SigninLink).where(SigninLink.expires_at <= now))


def insert_link(session: Session, *, digest: str, member_id: int, now: datetime, expires_at: datetime) -> None:
    session.add(SigninLink(digest=digest, member_id=member_id, created_at=now, expires_at=expires_at))
    session.flush()


def member_for_link(session: Session, digest: str, now: datetime) -> TeamMember | None:
    """Who an unused, unexpired link signs in (without spending it)."""
    stmt = (select(TeamMember).join(SigninLink, SigninLink.member_id == TeamMember.id)
            .where(SigninLink.digest == digest, SigninLink.used_at.is_(None), SigninLink.expires_at > now,
                   TeamMember.active.is_(True), TeamMember.can_sign_in.is_(True)))
    return session.scalars(stmt).one_or_none()


def spend_link(session: Session, digest: str, now: datetime) -> int | None:
    """Mark the link used in one statement (two clicks cannot both win); the member id, or None."""
    stmt = (update(SigninLink)
            .where(SigninLink.digest == digest, SigninLink.used_at.is_(None), SigninLink.expires_at > now)
            .values(used_at=now).returning(SigninLink.member_id))
    return session.execute(stmt).scalar_one_or_none()
