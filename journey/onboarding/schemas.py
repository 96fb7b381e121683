"""Plan shapes of the API (docs/reference.md, API)."""
from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator


class Raci(BaseModel):
    responsible: str | None = None
    accountable: str | None = None
    consulted: list[str] = []
    informed: list[str] = []


class TaskRead(BaseModel):
    id: int
    key: str
    title: str
    due_on: date
    status: str
    raci: Raci
    depends_on: list[str]
    blocked_by: list[str] = Field(description="dependencies still open")
    needs_packet_ack: bool
    waits_for_packet: bool = Field(description="true while CSM and AM have not both accepted the packet")
    assignee_id: int | None
    skip_reason: str | None
    started_at: datetime | None
    done_at: datetime | None
    side: Literal["customer", "vendor"] = Field(
        default="vendor", description="whose side is Responsible: the customer's roles or the vendor team")
    document_url: str | None = None


class MilestoneRead(BaseModel):
    key: str
    name: str
    due_on: date
    status: str
    value_milestone: bool
    completed_at: datetime | None
    tasks: list[TaskRead]


class SlipRead(BaseModel):
    """A move of the expected go-live: `from` and `to` dates, why, when and by whom."""

    model_config = ConfigDict(populate_by_name=True)

    from_: date | None = Field(alias="from", description="go-live before the move (null if none was set)")
    to: date
    reason: str
    at: datetime
    actor: str | None = Field(description="who moved it: an email, or the flow that applied a CRM update")
    actor_kind: str | None = Field(description="user, crm, flow, scheduler or cli")


class PlanRead(BaseModel):
    journey_id: int
    status: str
    kickoff_on: date | None
    go_live_on: date | None
    on_time_pct: float | None
    time_to_value_days: int | None
    milestones: list[MilestoneRead]
    slips: list[SlipRead] = Field(default=[], description="every go-live move, oldest first")


class GoLiveUpdate(BaseModel):
    """`PUT /api/accounts/{id}/go-live`: the new expected go-live and why."""

    date: date
    reason: str = Field(min_length=1, max_length=2000)


class TaskUpdate(BaseModel):
    """`PATCH /api/tasks/{id}`: an action, a new assignee (id or email), a new due date (with a reason:
    recorded as a slip), a document link ("" removes it), or several at once."""

    action: Literal["start", "done", "skip", "reopen"] | None = None
    reason: str | None = Field(default=None, max_length=2000, description="required to skip or move due_on")
    assignee: int | str | None = None
    due_on: date | None = None
    document_url: str | None = Field(default=None, max_length=1000, description="an http(s) link, or \"\"")

    @model_validator(mode="after")
    def _something_to_do(self) -> TaskUpdate:
        if all(v is None for v in (self.action, self.assignee, self.due_on, self.document_url)):
            raise ValueError("send an action (start, done, skip, reopen), an assignee, a due_on or a document_url")
        return self


class CommentCreate(BaseModel):
    body: str = Field(min_length=1, max_length=4000, description="plain text; @name or @email mentions a member")
    shared: bool = Field(default=False, description="true: the customer reads it on the shared plan")


class CommentRead(BaseModel):
    id: int
    task_id: int
    at: datetime
    author: str
    author_kind: str = Field(description="member, or customer (through the shared plan)")
    body: str
    mentions: list[str]
    shared: bool


class AccountKpis(BaseModel):
    account_id: int
    name: str
    csm_id: int | None
    plan_status: str
    on_time_pct: float | None
    time_to_value_days: int | None


class TeamKpis(BaseModel):
    csm_id: int | None
    csm_email: str | None
    accounts: int
    on_time_pct: float | None
    median_time_to_value_days: float | None
    value_reached: int


class OnboardingKpis(BaseModel):
    overall: TeamKpis
    teams: list[TeamKpis]
    accounts: list[AccountKpis]
