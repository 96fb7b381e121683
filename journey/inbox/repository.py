"""Every query of the webhook inbox."""
from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import Connection, bindparam, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from journey.models import EventStatus, InboundEvent

_TABLE = InboundEvent.__table__
# Built once: the intake runs them on every delivery, so each is compiled once per engine and then found in
# SQLAlchemy's statement cache (a Core INSERT of plain values: no ORM object, no per-request statement building)
_INSERT = {dialect.__name__.rsplit(".", 1)[-1]: dialect.insert(_TABLE).on_conflict_do_nothing()
           .returning(_TABLE.c.id) for dialect in (sqlite, postgresql)}
_COUNT_DUPLICATE = (update(_TABLE)
                    .where(_TABLE.c.source == bindparam("b_source"),
                           _TABLE.c.external_id == bindparam("b_external_id"))
                    .values(duplicates=_TABLE.c.duplicates + 1).returning(_TABLE.c.id))


def _dialect(executor: Connection | Session) -> str:
    return executor.dialect.name if isinstance(executor, Connection) else executor.get_bind().dialect.name


def insert(executor: Connection | Session, **values: object) -> int | None:
    """The new event's id, or None when (source, external_id) is already in the inbox."""
    return executor.execute(_INSERT[_dialect(executor)], values).scalar_one_or_none()


def count_duplicate(executor: Connection | Session, *, source: str, external_id: str) -> int:
    return executor.execute(_COUNT_DUPLICATE, {"b_source": source, "b_external_id": external_id}).scalar_one()


def get(session: Session, event_id: int) -> InboundEvent | None:
    return session.get(InboundEvent, event_id)


def claim_due(session: Session, *, now: datetime, lease: timedelta, limit: int) -> list[tuple[int, str]]:
    """Lease up to `limit` due pending events to the caller; two claimers never get the same row."""
    return [(i, t) for i, t, _ in claim_due_with_source(session, now=now, lease=lease, limit=limit)]


def claim_due_with_source(session: Session, *, now: datetime, lease: timedelta,
                          limit: int) -> list[tuple[int, str, str]]:
    """`claim_due`, each event with its source: (id, type, source)."""
    due = (
        select(InboundEvent.id)
        .where(InboundEvent.status == EventStatus.pending,
               or_(InboundEvent.next_attempt_at.is_(None), InboundEvent.next_attempt_at <= now),
               or_(InboundEvent.locked_until.is_(None), InboundEvent.locked_until < now))
        .order_by(InboundEvent.id)
        .limit(limit)
    )
    if session.get_bind().dialect.name == "postgresql":
        due = due.with_for_update(skip_locked=True)
    rows = session.execute(
        update(InboundEvent)
        .where(InboundEvent.id.in_(due.scalar_subquery()))
        .values(locked_until=now + lease, attempts=InboundEvent.attempts + 1)
        .returning(InboundEvent.id, InboundEvent.type, InboundEvent.source)
        .execution_options(synchronize_session=False)
    ).all()
    return sorted((row[0], row[1], row[2]) for row in rows)


def claim_marks(session: Session, event_ids: list[int]) -> list[tuple[int, int, datetime | None]]:
    """(id, attempts, next_attempt_at) of the events: what tells one claim of them from another."""
    rows = session.execute(select(InboundEvent.id, InboundEvent.attempts, InboundEvent.next_attempt_at)
                           .where(InboundEvent.id.in_(event_ids))).all()
    return [(row[0], row[1], row[2]) for row in rows]


def release_leases(session: Session) -> int:
    """Forget every lease (the embedded server at start: no other process can hold one)."""
    result = session.execute(
        update(InboundEvent).where(InboundEvent.status == EventStatus.pending,
                                   InboundEvent.locked_until.is_not(None))
        .values(locked_until=None)
    )
    return result.rowcount or 0  # type: ignore[attr-defined]


def release(session: Session, event_ids: list[int]) -> None:
    """Undo a claim whose work never started or was cut off (the attempt does not count); events that
    already reached an outcome (finished, or failed and waiting for a retry) are left alone."""
    session.execute(update(InboundEvent)
                    .where(InboundEvent.id.in_(event_ids), InboundEvent.status == EventStatus.pending,
                           InboundEvent.locked_until.is_not(None))
                    .values(locked_until=None, attempts=InboundEvent.attempts - 1))


def defer(session: Session, event_id: int, *, retry_at: datetime, note: str) -> None:
    """Try again later without counting a failed attempt (the event waits for another one)."""
    event = session.get_one(InboundEvent, event_id)
    event.locked_until, event.next_attempt_at, event.error = None, retry_at, note
    event.attempts = max(event.attempts - 1, 0)


def wake_subject(session: Session, *, source: str, subject: str, now: datetime) -> None:
    """Make the waiting events about one deal due now (its deal.signed has just been recorded)."""
    session.execute(update(InboundEvent)
                    .where(InboundEvent.status == EventStatus.pending, InboundEvent.source == source,
                           InboundEvent.subject == subject, InboundEvent.next_attempt_at > now)
                    .values(next_attempt_at=now))


def extend_leases(session: Session, event_ids: list[int], *, until: datetime) -> None:
    """Renew the leases these events hold (one given back, or waiting for a retry, stays free)."""
    session.execute(update(InboundEvent)
                    .where(InboundEvent.id.in_(event_ids), InboundEvent.status == EventStatus.pending,
                           InboundEvent.locked_until.is_not(None))
                    .values(locked_until=until))


def finish(session: Session, event_id: int, *, status: EventStatus, now: datetime, error: str | None = None) -> None:
    event = session.get_one(InboundEvent, event_id)
    event.status = status
    event.handled_at = now
    event.locked_until = None
    event.error = error
    event.duration_ms = int((now - event.received_at).total_seconds() * 1000)


def postpone(session: Session, event_id: int, *, error: str, retry_at: datetime | None, now: datetime) -> None:
    """Record a failed attempt: retry at `retry_at`, or dead letter when it is None."""
    event = session.get_one(InboundEvent, event_id)
    event.error = error
    event.locked_until = None
    event.next_attempt_at = retry_at
    if retry_at is None:
        event.status = EventStatus.dead
        event.handled_at = now


def requeue(session: Session, event_id: int, *, now: datetime) -> None:
    event = session.get_one(InboundEvent, event_id)
    event.status = EventStatus.pending
    event.attempts = 0
    event.next_attempt_at = now
    event.locked_until = None
    event.handled_at = None


def page(session: Session, *, status: EventStatus | None, after_id: int, limit: int) -> Sequence[InboundEvent]:
    stmt = select(InboundEvent).where(InboundEvent.id > after_id).order_by(InboundEvent.id).limit(limit)
    if status is not None:
        stmt = stmt.where(InboundEvent.status == status)
    return session.scalars(stmt).all()


def counts_by_status(session: Session) -> dict[str, int]:
    rows = session.execute(select(InboundEvent.status, func.count()).group_by(InboundEvent.status)).all()
    return {str(status): n for status, n in rows}


def count_due(session: Session, *, now: datetime) -> int:
    """Pending events a runner could claim now: due, and not leased (or their lease expired)."""
    stmt = (select(func.count()).select_from(InboundEvent)
            .where(InboundEvent.status == EventStatus.pending,
                   or_(InboundEvent.next_attempt_at.is_(None), InboundEvent.next_attempt_at <= now),
                   or_(InboundEvent.locked_until.is_(None), InboundEvent.locked_until < now)))
    return session.scalar(stmt) or 0
