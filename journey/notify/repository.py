"""Every query of reminders and the outbox."""
from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any, NamedTuple

from sqlalchemy import (
    Insert,
    Integer,
    TableClause,
    and_,
    bindparam,
    func,
    or_,
    select,
    update,
)
from sqlalchemy.orm import Session

from journey.db import bound_rows, dialect_insert, insert_bound_rows, plain_table
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


class ReminderRow(NamedTuple):
    """One reminder to insert, in the table's column order; every column it sets (no column default applies)."""

    kind: str
    account_id: int | None
    assignee_id: int
    due_at: datetime
    reason: str
    status: str
    dedupe_key: str
    subject: str | None
    details: dict[str, Any]
    created_at: datetime


class MessageRow(NamedTuple):
    """One outbox message to insert, in the table's column order; every column it sets."""

    channel: str
    recipient: str
    subject: str
    body_text: str
    body_html: str | None
    attachments: Sequence[dict[str, Any]]
    dedupe_key: str
    reminder_id: int | None
    status: str
    attempts: int
    next_attempt_at: datetime | None
    created_at: datetime


def insert_reminders(session: Session, rows: Sequence[ReminderRow]) -> dict[str, int]:
    """Insert reminder rows by `INSERT ... ON CONFLICT DO NOTHING`, skipping used dedupe keys (and a key's later
    rows): {dedupe key: new id}.

    PostgreSQL: SQLAlchemy's multi-row statements with RETURNING, right under concurrent writers.
    SQLite: the driver's executemany (a loop in C; it cannot return rows), then the new rows read back as those
    above the largest id before it. That is exact because the transaction that writes holds SQLite's only
    write lock (the writer's `BEGIN IMMEDIATE`; in WAL mode a deferred transaction that read cannot write once
    another has committed since): no other row can appear meanwhile, and SQLite gives a new row the largest id
    plus one. Should it ever pick another id (only once the largest possible id is used), the rows read back
    would not be the rows written, and the batch fails (rolled back, sent by the next run) instead."""
    if not rows:
        return {}
    bound = bound_rows(session, Reminder.__table__, ReminderRow._fields, rows)
    dialect = session.get_bind().dialect.name
    plain = plain_table(Reminder.__table__)
    stmt = _insert_ignoring_duplicates(dialect, plain)
    if dialect != "sqlite":
        params = [dict(zip(ReminderRow._fields, row, strict=True)) for row in bound]
        return {key: id_ for id_, key in session.execute(stmt.returning(plain.c.id, plain.c.dedupe_key), params)}
    largest, above = _ids_statements(plain)
    before = session.scalar(largest) or 0
    written = insert_bound_rows(session, stmt, ReminderRow._fields, bound)
    created = {key: id_ for key, id_ in session.execute(above, {"before": before}).all()}
    if len(created) != written:
        raise RuntimeError(f"reminder: {written} rows written but {len(created)} found above id {before}")
    return created


def used_dedupe_keys(session: Session, keys: Sequence[str]) -> set[str]:
    """Those of `keys` a reminder already has (one statement per 1,000 keys)."""
    found: set[str] = set()
    for start in range(0, len(keys), 1000):
        found.update(session.scalars(select(Reminder.dedupe_key).where(
            Reminder.dedupe_key.in_(keys[start:start + 1000]))))
    return found


def insert_messages(session: Session, rows: Sequence[MessageRow]) -> None:
    """Insert outbox rows, skipping used dedupe keys, by one executemany of `INSERT ... ON CONFLICT DO NOTHING`."""
    dialect = session.get_bind().dialect.name
    insert_bound_rows(session, _insert_ignoring_duplicates(dialect, plain_table(OutboxMessage.__table__)),
                      MessageRow._fields, bound_rows(session, OutboxMessage.__table__, MessageRow._fields, rows))


@lru_cache(maxsize=8)
def _insert_ignoring_duplicates(dialect: str, target: TableClause) -> Insert:
    """A Core `INSERT ... ON CONFLICT DO NOTHING` on the table (not the ORM class), built once per dialect:
    executed with a list of rows it becomes batched multi-row VALUES ("insertmanyvalues") or the driver's
    executemany, without the ORM's per-row work."""
    return dialect_insert(dialect, target).on_conflict_do_nothing()  # type: ignore[no-any-return]


@lru_cache(maxsize=2)
def _ids_statements(plain: TableClause) -> tuple[Any, Any]:
    """The largest reminder id, and the (dedupe key, id) of the reminders above a given one: built once."""
    return (select(func.max(plain.c.id)),
            select(plain.c.dedupe_key, plain.c.id).where(plain.c.id > bindparam("before", type_=Integer)))


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
