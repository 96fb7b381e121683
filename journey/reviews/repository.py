"""Every query of reviews."""
from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from journey.models import Review


def has_reviews(session: Session, journey_id: int) -> bool:
    return bool(session.scalar(select(exists().where(Review.journey_id == journey_id))))


def of_journeys(session: Session, journey_ids: Sequence[int]) -> Sequence[Review]:
    stmt = select(Review).where(Review.journey_id.in_(journey_ids)).order_by(Review.due_on, Review.kind)
    return session.scalars(stmt).all()


def of_account(session: Session, account_id: int) -> Sequence[Review]:
    stmt = select(Review).where(Review.account_id == account_id).order_by(Review.due_on, Review.kind)
    return session.scalars(stmt).all()
