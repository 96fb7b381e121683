"""`GET /api/accounts/{id}/reviews`."""
from __future__ import annotations

from datetime import date, datetime

from fastapi import APIRouter
from pydantic import BaseModel

from journey.accounts.endpoints import visible_account
from journey.accounts.schemas import Page
from journey.deps import CurrentMember, ReadSession
from journey.reviews import repository

router = APIRouter(prefix="/api", tags=["reviews"])


class ReviewRead(BaseModel):
    id: int
    kind: str
    title: str
    anchor: str
    due_on: date
    starts_at: datetime | None
    ends_at: datetime | None
    scheduled_at: datetime | None
    status: str
    attendees: list[str]
    remind_days_before: list[int]
    sequence: int


@router.get("/accounts/{ref}/reviews", response_model=Page[ReviewRead])
def list_reviews(ref: str, session: ReadSession, member: CurrentMember) -> Page[ReviewRead]:
    account = visible_account(session, ref, member)
    rows = repository.of_account(session, account.id)
    return Page(items=[ReviewRead(id=r.id, kind=r.kind, title=r.title, anchor=r.anchor, due_on=r.due_on,
                                  starts_at=r.starts_at, ends_at=r.ends_at, scheduled_at=r.scheduled_at,
                                  status=r.status, attendees=r.attendees, remind_days_before=r.remind_days_before,
                                  sequence=r.sequence) for r in rows], next=None)
