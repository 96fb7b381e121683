"""The queries behind the pages' health figures: current scores, their 30-day start, history, the band mix."""
from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from journey.models import HealthHistory, HealthScore


def current_scores(session: Session, account_ids: Sequence[int]) -> dict[int, tuple[float, str]]:
    """(score, band) of each account that has a stored score."""
    stmt = select(HealthScore.account_id, HealthScore.score, HealthScore.band).where(
        HealthScore.account_id.in_(account_ids))
    return {account_id: (score, band) for account_id, score, band in session.execute(stmt)}


def first_scores_since(session: Session, account_ids: Sequence[int], since: date) -> dict[int, float]:
    """Each account's score on the first day recorded since `since`."""
    first: dict[int, float] = {}
    stmt = (select(HealthHistory.account_id, HealthHistory.score)
            .where(HealthHistory.account_id.in_(list(account_ids)), HealthHistory.day >= since)
            .order_by(HealthHistory.day))
    for account_id, score in session.execute(stmt):
        first.setdefault(account_id, score)
    return first


def recent_history(session: Session, account_id: int, *, days: int) -> list[HealthHistory]:
    """The account's last `days` recorded days, oldest first."""
    stmt = (select(HealthHistory).where(HealthHistory.account_id == account_id)
            .order_by(HealthHistory.day.desc()).limit(days))
    return list(reversed(session.scalars(stmt).all()))


def band_counts(session: Session, account_ids_stmt: Any) -> dict[str, int]:
    """How many of the accounts (a subquery of their ids) sit in each band."""
    stmt = (select(HealthScore.band, func.count()).where(HealthScore.account_id.in_(account_ids_stmt))
            .group_by(HealthScore.band))
    return {band: int(n) for band, n in session.execute(stmt)}
