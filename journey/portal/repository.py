"""Every query of the shared success plan: the account's current journey, its objectives and reviews."""
from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from journey.models import Journey, Objective, Review, TaskComment


def current_journey(session: Session, account_id: int) -> Journey | None:
    latest = select(func.max(Journey.id)).where(Journey.account_id == account_id).scalar_subquery()
    return session.scalar(select(Journey).where(Journey.id == latest))


def objectives_of(session: Session, journey_id: int) -> Sequence[Objective]:
    stmt = select(Objective).where(Objective.journey_id == journey_id, Objective.active.is_(True)).order_by(
        Objective.id)
    return session.scalars(stmt).all()


def upcoming_reviews(session: Session, journey_id: int, *, today: date) -> Sequence[Review]:
    stmt = (select(Review).where(Review.journey_id == journey_id, Review.status.in_(("proposed", "scheduled")),
                                 Review.due_on >= today).order_by(Review.due_on, Review.id))
    return session.scalars(stmt).all()


def shared_comments(session: Session, task_ids: Sequence[int]) -> Sequence[TaskComment]:
    stmt = (select(TaskComment).where(TaskComment.task_id.in_(task_ids), TaskComment.shared.is_(True))
            .order_by(TaskComment.at, TaskComment.id))
    return session.scalars(stmt).all()
