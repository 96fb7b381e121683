"""Every query of reminders and the outbox."""
from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from journey.models import OutboxMessage, Reminder


def reminders_of(session: Session, member_id: int, *, status: str | None, after_id: int, limit: int
                 ) -> Sequence[Reminder]:
    stmt = (select(Reminder).where(Reminder.assignee_id == member_id, Reminder.id > after_id)
            .order_by(Reminder.id).limit(limit))
    if status:
        stmt = stmt.where(Reminder.status == status)
    return session.scalars(stmt).all()


def open_reminders_due(session: Session, member_id: int, *, until: datetime) -> Sequence[Reminder]:
    stmt = (select(Reminder).where(Reminder.assignee_id == member_id, Reminder.status == "open",
                                   Reminder.due_at <= until).order_by(Reminder.due_at).limit(50))
    return session.scalars(stmt).all()


def claim_due(session: Session, *, now: datetime, limit: int, lease: timedelta) -> list[int]:
    """Lease up to `limit` due pending messages in one statement; a leased message is nobody else's.

    PostgreSQL: `FOR UPDATE SKIP LOCKED` in the sub-select; SQLite: the writer's `BEGIN IMMEDIATE` already
    serialises claimers."""
    due = (select(OutboxMessage.id)
           .where(OutboxMessage.status == "pending", OutboxMessage.next_attempt_at <= now,
                  or_(OutboxMessage.locked_until.is_(None), OutboxMessage.locked_until < now))
           .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id).limit(limit))
    if session.get_bind().dialect.name == "postgresql":
        due = due.with_for_update(skip_locked=True)
    stmt = (update(OutboxMessage).where(OutboxMessage.id.in_(due.scalar_subquery()))
            .values(locked_until=now + lease, attempts=OutboxMessage.attempts + 1)
            .returning(OutboxMessage.id).execution_options(synchronize_session=False))
    return sorted(session.scalars(stmt).all())


def message(session: Session, message_id: int) -> OutboxMessage | None:
    return session.get(OutboxMessage, message_id)


def mark_sent(session: Session, message_id: int, *, now: datetime) -> bool:
    """Sent, once: only a message still pending becomes sent."""
    stmt = (update(OutboxMessage).where(OutboxMessage.id == message_id, OutboxMessage.status == "pending")
            .values(status="sent", sent_at=now, locked_until=None, error=None)
            .execution_options(synchronize_session=False))
    return session.execute(stmt).rowcount == 1


def mark_failed(session: Session, message_id: int, *, error: str, next_attempt_at: datetime | None,
                status: str = "pending") -> None:
    stmt = (update(OutboxMessage).where(OutboxMessage.id == message_id, OutboxMessage.status == "pending")
            .values(status=status, error=error[:2000], next_attempt_at=next_attempt_at, locked_until=None)
            .execution_options(synchronize_session=False))
    session.execute(stmt)
