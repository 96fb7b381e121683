"""Health as the pages show it: band, score and 30-day trend per account, history and contributions."""
from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from journey.health import read_repository, repository
from journey.health import scores as health_scores

HEADLINE = re.compile(r"\d+/100 \((?!unknown)[a-z_]+\)")
FILTER_BANDS = {"red": "Red", "yellow": "Yellow", "green": "Green", "unknown": "Unknown (too little data)"}


@dataclass(frozen=True)
class HealthSummary:
    score: float
    band: str
    trend: float | None  # points gained (+) or lost (-) over 30 days


def scores(session: Session, account_ids: Sequence[int], today: date | None = None) -> dict[int, HealthSummary]:
    if not account_ids:
        return {}
    current = read_repository.current_scores(session, account_ids)
    if not current:
        return {}
    first = read_repository.first_scores_since(session, list(current),
                                               (today or date.today()) - timedelta(days=30))
    return {a: HealthSummary(score=score, band=band, trend=round(score - first[a], 1) if a in first else None)
            for a, (score, band) in current.items()}


def detail(session: Session, account_id: int, now: datetime | None = None) -> dict[str, Any] | None:
    """The current score with its contributions, its explanation (override and what moved in a week
    included) and the last 180 days of history, or None."""
    current = repository.stored_score(session, account_id)
    if current is None:
        return None
    read = health_scores.account_health(session, account_id=account_id, now=now or datetime.now(UTC))
    history = read_repository.recent_history(session, account_id, days=180)
    return {"score": current, "history": [(h.day, h.score, h.band) for h in history],
            "band": read["band"], "provisional": read["provisional"], "override": read["override"],
            "explanation": page_lines(read["explanation"]),
            "contributions": sorted(current.contributions or [], key=lambda c: -abs(c.get("points") or 0))}


def page_lines(explanation: str) -> list[str]:
    """The explanation's sentences as the account page lists them: without the '31/100 (red)' headline
    the big number and the band pill above already say (an unknown band's or an override's first line stays)."""
    lines = explanation.split("; ")
    return lines[1:] if lines and HEADLINE.fullmatch(lines[0]) else lines


def mix_parts(mix: dict[str, int] | None) -> tuple[dict[str, int], int]:
    """The health mix of the accounts with a band, and apart the number still unknown (too little data)."""
    mix = mix or {}
    return {b: n for b, n in mix.items() if b != "unknown"}, mix.get("unknown", 0)


def band_mix(session: Session, account_ids_stmt: Any) -> dict[str, int]:
    """How many accounts of the (visible) book sit in each band."""
    return read_repository.band_counts(session, account_ids_stmt)
