"""Plan shapes of the API (CONTRACT.md)."""
from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, Field, model_validator


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


class MilestoneRead(BaseModel):
    key: str
    name: str
    due_on: date
    status: str
    value_milestone: bool
    completed_at: datetime | None
    tasks: list[TaskRead]


class PlanRead(BaseModel):
    journey_id: int
    status: str
    kickoff_on: date | None
    go_live_on: date | None
    on_time_pct: float | None
    time_to_value_days: int | None
    milestones: list[MilestoneRead]


class TaskUpdate(BaseModel):
    """`PATCH /api/tasks/{id}`: an action, a new assignee (id or email), or both."""

    action: Literal["start", "done", "skip", "reopen"] | None = None
    reason: str | None = Field(default=None, max_length=2000, description="required to skip")
    assignee: int | str | None = None

    @model_validator(mode="after")
    def _something_to_do(self) -> TaskUpdate:
        if self.action is None and self.assignee is None:
            raise ValueError("send an action (start, done, skip, reopen) and/or an assignee")
        return self


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
