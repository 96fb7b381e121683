"""Storing a verified CRM delivery: one inbox row per notification, all in one transaction, then counted."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from journey import db, metrics
from journey.inbox import service as inbox_service
from journey.kit import utcnow


@dataclass(frozen=True)
class Row:
    external_id: str
    type: str
    payload: str
    subject: str | None
    occurred_at: datetime | None


def accept_all(source: str, rows: list[Row]) -> list[inbox_service.Accepted]:
    """Store every row once (a repeat of (source, external_id) is counted as a duplicate); committed on return."""
    now = utcnow()
    with db.transaction() as session:
        accepted = [inbox_service.accept_delivery(session, source=source, external_id=row.external_id,
                                                  type=row.type, payload=row.payload, subject=row.subject,
                                                  occurred_at=row.occurred_at, now=now) for row in rows]
    for item in accepted:
        metrics.received(source, duplicate=item.duplicate)
    return accepted


def wake(dispatcher: object, accepted: list[inbox_service.Accepted]) -> None:
    for item in accepted:
        if not item.duplicate:
            dispatcher.notify(item.event_id)  # type: ignore[attr-defined]
