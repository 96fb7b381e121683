"""Plan shapes of the API (CONTRACT.md)."""
from __future__ import annotations

from datetime import date

from pydantic import BaseModel


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
    waits_for_packet: bool
    assignee_id: int | None
    skip_reason: str | None


class MilestoneRead(BaseModel):
    key: str
    name: str
    due_on: date
    status: str
    value_milestone: bool
    tasks: list[TaskRead]


class PlanRead(BaseModel):
    journey_id: int
    status: str
    kickoff_on: date | None
    go_live_on: date | None
    milestones: list[MilestoneRead]
