"""Health as the pages show it: band, score and 30-day trend per account, history and contributions."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from journey.health import scores as health_scores
from journey.models import health

FILTER_BANDS = {"red": "Red", "yellow": "Yellow", "green": "Green", "unknown": "Unknown (too little data)"}


@dataclass(frozen=True)
class HealthSummary:
    score: float
    band: str
    trend: float | None  # points gained (+) or lost (-) over 30 days


def scores(session: Session, account_ids: Sequence[int], today: date | None = None) -> dict[int, HealthSummary]:
    if not account_ids:
        return {}
    score = health.HealthScore
    current = {h.account_id: h for h in session.execute(
        select(score.account_id, score.score, score.band).where(score.account_id.in_(account_ids)))}
    if not current:
        return {}
    since = (today or date.today()) - timedelta(days=30)
    first: dict[int, float] = {}
    stmt = (select(health.HealthHistory.account_id, health.HealthHistory.score)
            .where(health.HealthHistory.account_id.in_(list(current)), health.HealthHistory.day >= since)
            .order_by(health.HealthHistory.day))
    for account_id, score in session.execute(stmt):
        first.setdefault(account_id, score)
    return {a: HealthSummary(score=h.score, band=h.band,
                             trend=round(h.score - first[a], 1) if a in first else None) for a, h in current.items()}


def detail(session: Session, account_id: int, now: datetime | None = None) -> dict[str, Any] | None:
    """The current score with its contributions, its explanation (override and what moved in a week
    included) and the last 180 days of history, or None."""
    current = session.get(health.HealthScore, account_id)
    if current is None:
        return None
    read = health_scores.account_health(session, account_id=account_id, now=now or datetime.now(UTC))
    stmt = (select(health.HealthHistory).where(health.HealthHistory.account_id == account_id)
            .order_by(health.HealthHistory.day.desc()).limit(180))
    history = list(reversed(session.scalars(stmt).all()))
    return {"score": current, "history": [(h.day, h.score, h.band) for h in history],
            "band": read["band"], "provisional": read["provisional"], "override": read["override"],
            "explanation": read["explanation"].split("; "),
            "contributions": sorted(current.contributions or [], key=lambda c: -abs(c.get("points") or 0))}


def mix_parts(mix: dict[str, int] | None) -> tuple[dict[str, int], int]:
    """The health mix of the accounts with a band, and apart the number still unknown (too little data)."""
    mix = mix or {}
    return {b: n for b, n in mix.items() if b != "unknown"}, mix.get("unknown", 0)


def band_mix(session: Session, account_ids_stmt: Any) -> dict[str, int] | None:
    """How many accounts of the (visible) book sit in each band; None before health exists."""
    stmt = (select(health.HealthScore.band, func.count()).where(health.HealthScore.account_id.in_(account_ids_stmt))
            .group_by(health.HealthScore.band))
    return {band: int(n) for band, n in session.execute(stmt)}
