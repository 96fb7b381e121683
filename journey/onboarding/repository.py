"""Every query of onboarding plans."""
from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import exists, func, select
from sqlalchemy.orm import Session

from journey.accounts.repository import visible_to
from journey.models import Account, Journey, Milestone, PlanSlip, PlanTask, TeamMember


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


def slips_of(session: Session, journey_id: int) -> Sequence[PlanSlip]:
    """The journey's go-live slips, oldest first."""
    stmt = select(PlanSlip).where(PlanSlip.journey_id == journey_id).order_by(PlanSlip.at, PlanSlip.id)
    return session.scalars(stmt).all()


def task(session: Session, task_id: int) -> PlanTask | None:
    return session.get(PlanTask, task_id)


def current_journeys(session: Session, member: TeamMember, *, account_id: int | None = None
                     ) -> Sequence[tuple[Journey, Account]]:
    """The latest journey of each account the member can see (one account when `account_id` is set)."""
    latest = select(func.max(Journey.id)).group_by(Journey.account_id)
    stmt = (select(Journey, Account).join(Account, Account.id == Journey.account_id)
            .where(Journey.id.in_(latest)).order_by(Account.id))
    if account_id is not None:
        stmt = stmt.where(Account.id == account_id)
    return [(j, a) for j, a in session.execute(visible_to(stmt, member)).all()]
