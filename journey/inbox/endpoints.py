"""`/api/events`: the webhook inbox, for admins: deliveries, dead letters, replay."""
from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel

from journey import db
from journey.accounts.schemas import Page
from journey.deps import InboxMember, ReadSession, RowId
from journey.errors import InvalidInput
from journey.inbox import repository, service
from journey.kit import decode_cursor, encode_cursor, utcnow
from journey.models import EventStatus, InboundEvent
from journey.policy import Action, require

router = APIRouter(prefix="/api/events", tags=["inbox"])


class EventRead(BaseModel):
    id: int
    source: str
    external_id: str
    type: str
    subject: str | None
    status: str
    attempts: int
    duplicates: int
    received_at: datetime
    handled_at: datetime | None
    duration_ms: int | None
    error: str | None

    @classmethod
    def of(cls, e: InboundEvent) -> EventRead:
        return cls(id=e.id, source=e.source, external_id=e.external_id, type=e.type, subject=e.subject,
                   status=str(e.status), attempts=e.attempts, duplicates=e.duplicates, received_at=e.received_at,
                   handled_at=e.handled_at, duration_ms=e.duration_ms, error=e.error)


@router.get("", response_model=Page[EventRead])
def list_events(session: ReadSession, _member: InboxMember, limit: Annotated[int, Query(ge=1, le=1000)] = 50,
                cursor: str | None = None, status: str | None = None) -> Page[EventRead]:
    try:
        wanted = EventStatus(status) if status else None
    except ValueError as exc:
        raise InvalidInput(f"status must be one of {', '.join(s.value for s in EventStatus)}") from exc
    rows = repository.page(session, status=wanted, after_id=decode_cursor(cursor), limit=limit)
    return Page(items=[EventRead.of(e) for e in rows], next=encode_cursor(rows[-1].id) if len(rows) == limit else None)


@router.post("/{event_id}/replay", response_model=EventRead, status_code=202)
def replay(event_id: RowId, request: Request, member: InboxMember) -> EventRead:
    require(member, Action.replay_event)
    with db.transaction() as session:
        service.replay_event(session, event_id=event_id, now=utcnow())
        event = repository.get(session, event_id)
        assert event is not None
        out = EventRead.of(event)
    request.app.state.dispatcher.notify(event_id)
    return out
