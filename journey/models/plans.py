"""Onboarding plans: milestones, tasks with RACI and due dates, and go-live slips."""
from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from journey.models.base import ActorKind, Base, StrEnumType, TaskStatus


class Milestone(Base):
    __tablename__ = "milestone"
    __table_args__ = (UniqueConstraint("journey_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    journey_id: Mapped[int] = mapped_column(ForeignKey("journey.id", ondelete="CASCADE"), index=True)
    key: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))
    position: Mapped[int]
    value_milestone: Mapped[bool] = mapped_column(default=False)
    due_on: Mapped[date]
    completed_at: Mapped[datetime | None]


class PlanTask(Base):
    __tablename__ = "plan_task"
    __table_args__ = (UniqueConstraint("journey_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    journey_id: Mapped[int] = mapped_column(ForeignKey("journey.id", ondelete="CASCADE"), index=True)
    milestone_id: Mapped[int] = mapped_column(ForeignKey("milestone.id", ondelete="CASCADE"), index=True)
    key: Mapped[str] = mapped_column(String(64))
    title: Mapped[str] = mapped_column(String(300))
    position: Mapped[int]
    raci: Mapped[dict[str, Any]] = mapped_column(default=dict)
    anchor: Mapped[str] = mapped_column(String(16))
    offset_business_days: Mapped[int]
    depends_on: Mapped[list[Any]] = mapped_column(default=list)
    needs_packet_ack: Mapped[bool] = mapped_column(default=False)
    due_on: Mapped[date]
    status: Mapped[TaskStatus] = mapped_column(StrEnumType(TaskStatus), default=TaskStatus.todo)
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("team_member.id"))
    skip_reason: Mapped[str | None] = mapped_column(Text)
    started_at: Mapped[datetime | None]
    done_at: Mapped[datetime | None]
    document_url: Mapped[str | None] = mapped_column(String(1000))  # a link to the task's document


class PlanSlip(Base):
    __tablename__ = "plan_slip"

    id: Mapped[int] = mapped_column(primary_key=True)
    journey_id: Mapped[int] = mapped_column(ForeignKey("journey.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime]
    old_go_live: Mapped[date | None]
    new_go_live: Mapped[date]
    reason: Mapped[str] = mapped_column(Text)
    moves: Mapped[list[Any]] = mapped_column(default=list)
    # who moved it (a user through the API or CLI, the CRM's update through its flow); null on older rows
    actor_kind: Mapped[ActorKind | None] = mapped_column(StrEnumType(ActorKind))
    actor: Mapped[str | None] = mapped_column(String(320))
