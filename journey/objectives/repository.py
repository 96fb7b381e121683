"""Every query of objectives and their progress."""
from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from journey.models import Journey, JourneyStatus, Objective, ObjectiveProgress


def of_journey(session: Session, journey_id: int) -> Sequence[Objective]:
    return session.scalars(select(Objective).where(Objective.journey_id == journey_id).order_by(Objective.id)).all()


def of_account(session: Session, account_id: int) -> Sequence[Objective]:
    stmt = (select(Objective).where(Objective.account_id == account_id, Objective.active.is_(True))
            .order_by(Objective.journey_id, Objective.id))
    return session.scalars(stmt).all()


def measured_by_metrics(session: Session, account_ids: Sequence[int], metrics: set[str]) -> Sequence[Objective]:
    """Active objectives of these accounts that name one of these signal metrics."""
    if not account_ids or not metrics:
        return []
    stmt = (select(Objective).where(Objective.account_id.in_(account_ids), Objective.metric.in_(metrics),
                                    Objective.active.is_(True)).order_by(Objective.id))
    return session.scalars(stmt).all()


def signal_refs(session: Session, objective_ids: Sequence[int], refs: Sequence[str]) -> set[tuple[int, str]]:
    """(objective, signal id) pairs already recorded as progress, among these."""
    if not objective_ids or not refs:
        return set()
    stmt = select(ObjectiveProgress.objective_id, ObjectiveProgress.signal_ref).where(
        ObjectiveProgress.objective_id.in_(objective_ids), ObjectiveProgress.signal_ref.in_(refs))
    return {(objective_id, ref) for objective_id, ref in session.execute(stmt).all()}


def progress_of(session: Session, objective_ids: Sequence[int]) -> Sequence[ObjectiveProgress]:
    if not objective_ids:
        return []
    stmt = (select(ObjectiveProgress).where(ObjectiveProgress.objective_id.in_(objective_ids))
            .order_by(ObjectiveProgress.objective_id, ObjectiveProgress.at, ObjectiveProgress.id))
    return session.scalars(stmt).all()


def open_objectives(session: Session, *, after_id: int, limit: int) -> Sequence[Objective]:
    """Active objectives of active journeys not achieved yet, by id (for the daily status sweep)."""
    stmt = (select(Objective).join(Journey, Journey.id == Objective.journey_id)
            .where(Objective.id > after_id, Objective.active.is_(True), Objective.status != "achieved",
                   Journey.status == JourneyStatus.active)
            .order_by(Objective.id).limit(limit))
    return session.scalars(stmt).all()
