"""Every query of plans worked together: comments, task slips, share links and the account's activity."""
from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from journey.models import AuditEntry, ShareLink, TaskComment, TaskSlip, TeamMember


def comments_of(session: Session, task_ids: Sequence[int]) -> Sequence[TaskComment]:
    stmt = select(TaskComment).where(TaskComment.task_id.in_(task_ids)).order_by(TaskComment.at, TaskComment.id)
    return session.scalars(stmt).all()


def slips_of_task(session: Session, task_id: int) -> Sequence[TaskSlip]:
    return session.scalars(select(TaskSlip).where(TaskSlip.task_id == task_id).order_by(TaskSlip.id)).all()


def activity(session: Session, account_id: int, *, limit: int = 50,
             actor_kind: str | None = None) -> Sequence[AuditEntry]:
    """The account's audit trail, newest first (`actor_kind` "customer": what the portal's visitors did)."""
    stmt = select(AuditEntry).where(AuditEntry.account_id == account_id)
    if actor_kind is not None:
        stmt = stmt.where(AuditEntry.actor_kind == actor_kind)
    return session.scalars(stmt.order_by(AuditEntry.at.desc(), AuditEntry.id.desc()).limit(limit)).all()


def active_member_emails(session: Session) -> list[str]:
    return list(session.scalars(select(TeamMember.email).where(TeamMember.active.is_(True))))


def member_by_email(session: Session, email: str) -> TeamMember | None:
    return session.scalar(select(TeamMember).where(TeamMember.email == email))


def share_links_of(session: Session, account_id: int) -> Sequence[ShareLink]:
    return session.scalars(select(ShareLink).where(ShareLink.account_id == account_id)
                           .order_by(ShareLink.id.desc())).all()


def share_link_by_digest(session: Session, digest: str) -> ShareLink | None:
    return session.scalar(select(ShareLink).where(ShareLink.token_digest == digest))
