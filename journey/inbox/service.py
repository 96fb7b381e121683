"""Use cases of the inbox: accept a delivery, record how its processing went, replay a dead letter."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Connection
from sqlalchemy.orm import Session

from journey import db
from journey.errors import Conflict, NotFound
from journey.inbox import repository
from journey.models import EventStatus

MAX_BACKOFF = timedelta(hours=1)


@dataclass(frozen=True)
class Accepted:
    event_id: int
    duplicate: bool


def release_all_leases() -> int:
    """Forget every lease, in a transaction of its own: at the embedded server's start, or once its runner child
    died (on SQLite no other process works this inbox)."""
    with db.transaction() as session:
        return repository.release_leases(session)


def accept_delivery(session: Connection | Session, *, source: str, external_id: str, type: str, payload: str,
                    subject: str | None, occurred_at: datetime | None, now: datetime) -> Accepted:
    """Store a verified delivery once; a repeat of the same (source, delivery id) is counted, not stored.
    Core statements only: the webhook endpoints call it on a bare connection (`db.core_transaction()`)."""
    event_id = repository.insert(session, source=source, external_id=external_id, type=type, payload=payload,
                                 subject=subject, occurred_at=occurred_at, received_at=now,
                                 status=EventStatus.pending, attempts=0, duplicates=0)
    if event_id is not None:
        return Accepted(event_id=event_id, duplicate=False)
    return Accepted(event_id=repository.count_duplicate(session, source=source, external_id=external_id),
                    duplicate=True)


def retry_delay(attempts: int) -> timedelta:
    """Exponential backoff: 5 s, 10 s, 20 s ... capped at an hour."""
    return min(timedelta(seconds=5 * 2 ** max(attempts - 1, 0)), MAX_BACKOFF)


UPSTREAM_FIRST_DELAY = timedelta(seconds=30)
MAX_RETRY_AFTER = timedelta(hours=6)


def upstream_delay(attempts: int, retry_after: float | None) -> timedelta:
    """A CRM API that is down or rate-limiting: 30 s, 1 min, 2 min ... capped at an hour, and never
    sooner than the API's Retry-After (believed up to 6 hours)."""
    backoff = min(UPSTREAM_FIRST_DELAY * 2 ** min(max(attempts - 1, 0), 20), MAX_BACKOFF)
    asked = timedelta(seconds=retry_after) if retry_after and retry_after > 0 else timedelta(0)
    return max(backoff, min(asked, MAX_RETRY_AFTER))


def record_failure(session: Session, *, event_id: int, error: str, max_attempts: int, now: datetime,
                   upstream: bool = False, retry_after: float | None = None) -> bool:
    """Schedule the next attempt, or make the event a dead letter; True when it is now dead.

    An `upstream` failure (a CRM API down or rate-limiting us) waits on :func:`upstream_delay` and is
    given its own, larger `max_attempts` by the caller, so an outage of minutes or hours dead-letters nothing.
    """
    event = repository.get(session, event_id)
    if event is None or event.status != EventStatus.pending:
        return False
    dead = event.attempts >= max_attempts
    delay = upstream_delay(event.attempts, retry_after) if upstream else retry_delay(event.attempts)
    repository.postpone(session, event_id, error=error[:4000], now=now, retry_at=None if dead else now + delay)
    return dead


WAIT_POLL = timedelta(minutes=1)


def defer_event(session: Session, *, event_id: int, reason: str, now: datetime, max_wait: timedelta,
                expired: EventStatus) -> str:
    """The event needs another one first (an update before its deal.signed): look again in a minute, or
    at once when that event arrives; after `max_wait`, end it as `expired` with the reason."""
    event = repository.get(session, event_id)
    if event is None or event.status != EventStatus.pending:
        return "skipped"
    if now - event.received_at > max_wait:
        repository.finish(session, event_id, status=expired, now=now,
                          error=f"{reason} (gave up after {max_wait})")
        return str(expired)
    repository.defer(session, event_id, retry_at=now + WAIT_POLL, note=reason)
    return "waiting"


def replay_event(session: Session, *, event_id: int, now: datetime) -> None:
    event = repository.get(session, event_id)
    if event is None:
        raise NotFound(f"no inbound event {event_id}")
    if event.status == EventStatus.pending:
        raise Conflict(f"event {event_id} is already waiting to be processed")
    repository.requeue(session, event_id, now=now)


def finish_event(session: Session, *, event_id: int, status: EventStatus, now: datetime,
                 note: str | None = None) -> None:
    """The event's flow ran to its end: processed, or ignored (with the reason)."""
    repository.finish(session, event_id, status=status, now=now, error=note)
