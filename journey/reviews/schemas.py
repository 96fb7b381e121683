"""Shapes of the reviews API."""
from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field


class ReviewRead(BaseModel):
    id: int
    account_id: int
    kind: str
    title: str
    anchor: str
    due_on: date
    starts_at: datetime | None
    ends_at: datetime | None
    scheduled_at: datetime | None
    status: str
    fixed_by_hand: bool
    attendees: list[str]
    remind_days_before: list[int]
    sequence: int
    held_at: datetime | None = None
    missed_at: datetime | None = None
    outcome: dict[str, Any] | None = None

    @classmethod
    def of(cls, r: Any) -> ReviewRead:
        outcome = None
        if r.status == "held":
            outcome = {"notes": r.outcome, **(r.outcome_details or {})}
        return cls(id=r.id, account_id=r.account_id, kind=r.kind, title=r.title, anchor=r.anchor, due_on=r.due_on,
                   starts_at=r.starts_at, ends_at=r.ends_at, scheduled_at=r.scheduled_at, status=r.status,
                   fixed_by_hand=r.fixed_by_hand, attendees=r.attendees, remind_days_before=r.remind_days_before,
                   sequence=r.sequence, held_at=r.held_at, missed_at=r.missed_at, outcome=outcome)


class ReviewPatch(BaseModel):
    """Book the review at a time (`starts_at`, aware), or cancel it (`status: cancelled`).

    A time outside the account's working hours (08:00-18:00 local, business days of its region) is
    refused with 422 `outside_working_hours` unless `outside_working_hours` is true.
    """

    model_config = ConfigDict(extra="forbid")

    starts_at: AwareDatetime | None = None
    duration_minutes: int | None = Field(default=None, gt=0, le=480)
    status: Literal["scheduled", "cancelled"] | None = None
    outside_working_hours: bool = False  # true books a time outside the account's working hours on purpose


class ObjectiveProgressIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    objective: str = Field(min_length=1, max_length=500)
    value: float | None = None
    comment: str | None = Field(default=None, max_length=2000)


class ReviewOutcome(BaseModel):
    model_config = ConfigDict(extra="forbid")

    notes: str = Field(default="", max_length=20000)
    progress: list[ObjectiveProgressIn] = Field(default_factory=list, max_length=100)
    expansion_opportunities: list[str] = Field(default_factory=list, max_length=50)
    next_steps: list[str] = Field(default_factory=list, max_length=50)


class AgendaRead(BaseModel):
    """The team's agenda (internal), with the customer's one as `customer_text`."""

    review_id: int
    title: str
    account: str
    when: str
    attendees: list[str]
    objectives: list[dict[str, Any]]
    risks: list[str]
    promises: list[str]
    health: dict[str, Any] | None
    previous_next_steps: list[str]
    previous_expansion: list[str]
    se_notes: str | None = None
    text: str  # the team's agenda: stays in the app and in e-mails to staff
    html: str
    customer_text: str  # what invitations carry: purpose, agreed objectives, agenda items, last next steps
