"""Every query of reminders and the outbox."""
from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

from sqlalchemy import Dialect, Insert, Table, TableClause, and_, column, func, or_, select, table, update
from sqlalchemy.orm import Session

from journey.db import dialect_insert
from journey.models import OutboxMessage, Reminder


def reminders_of(session: Session, member_id: int, *, status: str | None, after_id: int, limit: int
                 ) -> Sequence[Reminder]:
    stmt = (select(Reminder).where(Reminder.assignee_id == member_id, Reminder.id > after_id)
            .order_by(Reminder.id).limit(limit))
    if status:
        stmt = stmt.where(Reminder.status == status)
    return session.scalars(stmt).all()


def reminder(session: Session, reminder_id: int) -> Reminder | None:
    return session.get(Reminder, reminder_id)


def insert_reminders(session: Session, rows: Sequence[dict[str, Any]]) -> dict[str, int]:
    """Insert reminder rows, skipping used dedupe keys, in multi-row statements: {dedupe key: new id}.
    Every row names every column it sets (column defaults are not applied)."""
    if not rows:
        return {}
    plain = _plain(Reminder.__table__)
    stmt = _insert_ignoring_duplicates(session, plain).returning(plain.c.id, plain.c.dedupe_key)
    return {key: id_ for id_, key in session.execute(stmt, _bound(session, Reminder.__table__, rows))}


def used_dedupe_keys(session: Session, keys: Sequence[str]) -> set[str]:
    """Those of `keys` a reminder already has (one statement per 1,000 keys)."""
    found: set[str] = set()
    for start in range(0, len(keys), 1000):
        found.update(session.scalars(select(Reminder.dedupe_key).where(
            Reminder.dedupe_key.in_(keys[start:start + 1000]))))
    return found


def insert_messages(session: Session, rows: Sequence[dict[str, Any]]) -> None:
    """Insert outbox rows, skipping used dedupe keys, in multi-row statements. Every row names every column
    it sets (column defaults are not applied)."""
    if rows:
        stmt = _insert_ignoring_duplicates(session, _plain(OutboxMessage.__table__))
        session.execute(stmt, _bound(session, OutboxMessage.__table__, rows))


def _insert_ignoring_duplicates(session: Session, target: TableClause) -> Insert:
    """A Core `INSERT ... ON CONFLICT DO NOTHING` on the table (not the ORM class): executed with a list of
    rows it becomes batched multi-row VALUES ("insertmanyvalues"), without the ORM's per-row work."""
    return dialect_insert(session.get_bind().dialect.name, target).on_conflict_do_nothing()


@lru_cache(maxsize=8)
def _plain(model_table: Table) -> TableClause:
    """The table's name and columns without their types: rows given to it are bound as they are, so the
    values must already be what the driver takes (`_bound`)."""
    return table(model_table.name, *(column(c.name) for c in model_table.c))


@lru_cache(maxsize=16)
def _processors(model_table: Table, dialect: Dialect) -> tuple[tuple[str, Callable[[Any], Any]], ...]:
    procs = ((c.name, c.type._cached_bind_processor(dialect)) for c in model_table.c)
    return tuple((name, proc) for name, proc in procs if proc is not None)


def _bound(session: Session, model_table: Table, rows: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """The rows as the column types would bind them (UTC timestamps, JSON), each distinct value converted
    once per batch (empty JSON documents too): a batch's reminders share their `now`s and most of their times,
    and converting them per row through SQLAlchemy's typed executemany cost more than writing them."""
    processors = _processors(model_table, session.get_bind().dialect)
    bound = [dict(row) for row in rows]
    for name, process in processors:
        seen: dict[Any, Any] = {}
        for row in bound:
            if name not in row:
                continue
            value = row[name]
            key = (type(value),) if isinstance(value, dict | list) and not value else value
            if isinstance(key, dict | list):  # JSON documents are unhashable: converted each
                row[name] = process(value)
            elif (done := seen.get(key, seen)) is not seen:
                row[name] = done
            else:
                row[name] = seen[key] = process(value)
    return bound


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


def count_due(session: Session, *, now: datetime) -> int:
    """Pending messages a drainer would claim now (what a dry run of the drain reports)."""
    stmt = (select(func.count()).select_from(OutboxMessage)
            .where(OutboxMessage.status == "pending", OutboxMessage.next_attempt_at <= now,
                   or_(OutboxMessage.locked_until.is_(None), OutboxMessage.locked_until < now)))
    return session.scalar(stmt) or 0


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
