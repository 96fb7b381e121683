"""Every query of reminders and the outbox."""
from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Insert, and_, or_, select, update
from sqlalchemy.orm import Session

from journey.models import Account, HealthScore, OutboxMessage, Reminder, TeamMember


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


def insert_reminders(session: Session, rows: Sequence[dict[str, Any]]) -> dict[str, int]:
    """Insert reminder rows, skipping used dedupe keys, in multi-row statements: {dedupe key: new id}."""
    if not rows:
        return {}
    table = Reminder.__table__
    stmt = _insert_ignoring_duplicates(session, table).returning(table.c.id, table.c.dedupe_key)
    return {key: id_ for id_, key in session.execute(stmt, list(rows))}


def insert_messages(session: Session, rows: Sequence[dict[str, Any]]) -> None:
    """Insert outbox rows, skipping used dedupe keys, in multi-row statements."""
    if rows:
        session.execute(_insert_ignoring_duplicates(session, OutboxMessage.__table__), list(rows))


def _insert_ignoring_duplicates(session: Session, table: Any) -> Insert:
    """A Core `INSERT ... ON CONFLICT DO NOTHING` on the table (not the ORM class): executed with a list of
    rows it becomes batched multi-row VALUES ("insertmanyvalues"), without the ORM's per-row work."""
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert(table).on_conflict_do_nothing()


def claim_due(session: Session, *, now: datetime, limit: int, lease: timedelta) -> list[tuple[int, int]]:
    """Lease up to `limit` due pending messages in one statement; a leased message is nobody else's.

    Returns (id, attempts) pairs: each claim bumps `attempts`, so the count a drainer got back is its
    fencing token. A drainer whose lease ran out and whose message was claimed again holds a stale count,
    and every later write it tries (`hold_lease`, `mark_*`) matches no row.
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
            .returning(OutboxMessage.id, OutboxMessage.attempts).execution_options(synchronize_session=False))
    return sorted((id_, attempts) for id_, attempts in session.execute(stmt))


def _held(message_id: int, token: int) -> Any:
    return and_(OutboxMessage.id == message_id, OutboxMessage.status == "pending", OutboxMessage.attempts == token)


def hold_lease(session: Session, message_id: int, *, token: int, until: datetime) -> bool:
    """Extend our lease on a message to `until`; False if it is no longer ours (claimed again, or settled)."""
    stmt = (update(OutboxMessage).where(_held(message_id, token)).values(locked_until=until)
            .execution_options(synchronize_session=False))
    return session.execute(stmt).rowcount == 1


def message(session: Session, message_id: int) -> OutboxMessage | None:
    return session.get(OutboxMessage, message_id)


def mark_sent(session: Session, message_id: int, *, token: int, now: datetime) -> bool:
    """Sent, once: only a message still pending and still ours becomes sent."""
    stmt = (update(OutboxMessage).where(_held(message_id, token))
            .values(status="sent", sent_at=now, locked_until=None, error=None)
            .execution_options(synchronize_session=False))
    return session.execute(stmt).rowcount == 1


def mark_failed(session: Session, message_id: int, *, token: int, error: str, next_attempt_at: datetime | None,
                status: str = "pending") -> None:
    stmt = (update(OutboxMessage).where(_held(message_id, token))
            .values(status=status, error=error[:2000], next_attempt_at=next_attempt_at, locked_until=None)
            .execution_options(synchronize_session=False))
    session.execute(stmt)


def messages(session: Session, *, status: str | None, after_id: int, limit: int) -> Sequence[OutboxMessage]:
    stmt = select(OutboxMessage).where(OutboxMessage.id > after_id).order_by(OutboxMessage.id).limit(limit)
    if status:
        stmt = stmt.where(OutboxMessage.status == status)
    return session.scalars(stmt).all()


def requeue(session: Session, message_id: int, *, now: datetime, note: str) -> bool:
    """An unconfirmed or dead message goes back to pending, due now; False for any other status."""
    stmt = (update(OutboxMessage)
            .where(OutboxMessage.id == message_id, OutboxMessage.status.in_(("unconfirmed", "dead")))
            .values(status="pending", next_attempt_at=now, locked_until=None, error=note)
            .execution_options(synchronize_session=False))
    return session.execute(stmt).rowcount == 1


def digest_members(session: Session) -> Sequence[TeamMember]:
    """Active members who own at least one account as CSM or AM."""
    owns = select(Account.id).where(or_(Account.csm_id == TeamMember.id, Account.am_id == TeamMember.id)).exists()
    return session.scalars(select(TeamMember).where(TeamMember.active.is_(True), owns).order_by(TeamMember.id)).all()


def book_with_health(session: Session, member_id: int) -> list[Any]:
    stmt = (select(Account.id, Account.name, HealthScore.score, HealthScore.band, HealthScore.previous_band,
                   HealthScore.band_changed_at)
            .outerjoin(HealthScore, HealthScore.account_id == Account.id)
            .where(or_(Account.csm_id == member_id, Account.am_id == member_id)).order_by(Account.name))
    return list(session.execute(stmt))
