"""Every query of onboarding plans."""
from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from journey.models import Milestone, PlanTask


def has_plan(session: Session, journey_id: int) -> bool:
    return bool(session.scalar(select(exists().where(Milestone.journey_id == journey_id))))


def milestones_of(session: Session, journey_ids: Sequence[int]) -> Sequence[Milestone]:
    stmt = select(Milestone).where(Milestone.journey_id.in_(journey_ids)).order_by(
        Milestone.journey_id, Milestone.position)
    return session.scalars(stmt).all()


def tasks_of(session: Session, journey_ids: Sequence[int]) -> Sequence[PlanTask]:
    stmt = select(PlanTask).where(PlanTask.journey_id.in_(journey_ids)).order_by(
        PlanTask.milestone_id, PlanTask.position)
    return session.scalars(stmt).all()


def task(session: Session, task_id: int) -> PlanTask | None:
    return session.get(PlanTask, task_id)
