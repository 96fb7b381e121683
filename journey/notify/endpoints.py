"""`GET /api/reminders`: the signed-in member's reminders, with the reason in a sentence."""
from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel

from journey.accounts.schemas import Page
from journey.deps import CurrentMember, ReadSession
from journey.kit import decode_cursor, encode_cursor
from journey.notify import repository

router = APIRouter(prefix="/api", tags=["reminders"])


class Assignee(BaseModel):
    id: int
    email: str
    role: str


class ReminderRead(BaseModel):
    id: int
    kind: str
    account_id: int | None
    assignee: Assignee
    due_at: datetime
    reason: str
    status: str
    subject: str | None
    details: dict[str, Any]
    created_at: datetime


@router.get("/reminders", response_model=Page[ReminderRead])
def list_reminders(session: ReadSession, member: CurrentMember,
                   status: Literal["open", "done", "dismissed"] | None = "open",
                   limit: Annotated[int, Query(ge=1, le=1000)] = 50, cursor: str | None = None) -> Page[ReminderRead]:
    """Your reminders, oldest first (`?status=open` by default; `done`, `dismissed`)."""
    rows = repository.reminders_of(session, member.id, status=status, after_id=decode_cursor(cursor), limit=limit)
    me = Assignee(id=member.id, email=member.email, role=str(member.role))
    items = [ReminderRead(id=r.id, kind=r.kind, account_id=r.account_id, assignee=me, due_at=r.due_at, reason=r.reason,
                          status=r.status, subject=r.subject, details=r.details or {}, created_at=r.created_at)
             for r in rows]
    return Page(items=items, next=encode_cursor(rows[-1].id) if len(rows) == limit else None)
