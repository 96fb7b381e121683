"""The inbox as the admin pages list it: a page of events by status, and how many were delivered twice."""
from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from journey.models import EventStatus, InboundEvent


def events_page(session: Session, tab: str, *, before_id: int, limit: int) -> list[InboundEvent]:
    """Newest first; `tab` is a status, `duplicates` (delivered more than once) or `all`."""
    stmt = select(InboundEvent).order_by(InboundEvent.id.desc()).limit(limit)
    if before_id:
        stmt = stmt.where(InboundEvent.id < before_id)
    if tab == "duplicates":
        stmt = stmt.where(InboundEvent.duplicates > 0)
    elif tab in {s.value for s in EventStatus}:
        stmt = stmt.where(InboundEvent.status == EventStatus(tab))
    return list(session.scalars(stmt))


def duplicate_count(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(InboundEvent).where(InboundEvent.duplicates > 0)) or 0
