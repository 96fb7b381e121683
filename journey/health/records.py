"""What a recompute stores: the score row (computed band, band in force, the evidence behind it) and the
day's history row with its factors and what moved since the day before. Flushes nothing itself."""
from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from journey.health import domain, repository


def score_row(account_id: int, stage: str, r: domain.HealthResult, band: str, old: Any, now: datetime
              ) -> dict[str, Any]:
    """The `health_score` row: `band` is the band in force (`r.band` unless an override holds)."""
    top = r.top_cost
    changed = old is None or old.band != band
    return {"account_id": account_id, "score": round(r.score, 2), "band": band, "computed_band": r.band,
            "scorecard": r.scorecard, "scorecard_version": r.scorecard_version, "stage": stage, "computed_at": now,
            "contributions": [contribution_dict(c) for c in r.contributions], "missing": list(r.missing),
            "missing_inputs": list(r.missing_inputs), "evidence": round(r.evidence, 4),
            "min_evidence": r.min_evidence, "top_cost_factor": top.factor if top else None,
            "previous_band": (old.band if changed else old.previous_band) if old is not None else None,
            "band_changed_at": now if changed else old.band_changed_at}


def contribution_dict(c: domain.Contribution) -> dict[str, Any]:
    """A contribution as the score row keeps it, rounded for reading (11 factors x every account: unpacked once,
    and a missing factor's zero weight and points are not rounded)."""
    factor, group, metric, value, factor_score, nominal, weight, points, detail, label, unit = c
    out = {"factor": factor, "group": group, "metric": metric, "value": None if value is None else round(value, 4),
           "factor_score": None if factor_score is None else round(factor_score, 2),
           "nominal_weight": round(nominal, 2), "weight": round(weight, 2) if weight else 0.0,
           "points": round(points, 2) if points else 0.0, "label": label, "unit": unit}
    if detail:
        out["detail"] = detail
    return out


def stored_factors(r: domain.HealthResult) -> dict[str, list[float | None]]:
    """{factor: [value, points]} as a history row keeps them (rounded as the score row shows them)."""
    return {c.factor: [None if c.value is None else round(c.value, 4), round(c.points, 2)] for c in r.contributions}


def factors_of(contributions: list[dict[str, Any]]) -> dict[str, list[float | None]]:
    """`stored_factors` from the score row's contributions (`contribution_dict`), already rounded alike."""
    return {c["factor"]: [c["value"], c["points"]] for c in contributions}


def history_rows(session: Session, results: Mapping[int, domain.HealthResult], bands: Mapping[int, str],
                 now: datetime, factors: Mapping[int, dict[str, list[float | None]]] | None = None
                 ) -> list[dict[str, Any]]:
    """Today's history row per account: the score, the band in force, and the factors with what moved
    since the last earlier day; factors are kept only when they differ from that day's (null = same).
    `factors` are the accounts' `stored_factors` when the caller has them already (`factors_of`)."""
    today = now.date()
    before = repository.factors_before(session, list(results), today)
    rows = []
    for account_id, r in results.items():
        factors_now = stored_factors(r) if factors is None else factors[account_id]
        previous = before.get(account_id)
        moved = domain.factor_changes(previous[1], factors_now) if previous else []
        rows.append({"account_id": account_id, "day": today, "score": round(r.score, 2), "band": bands[account_id],
                     "scorecard_version": r.scorecard_version,
                     "factors": factors_now if previous is None or moved else None,
                     "changes": [change_dict(c) for c in moved]})
    return rows


def change_dict(c: domain.FactorChange) -> dict[str, Any]:
    return {"factor": c.factor, "from": c.before, "to": c.after, "points_delta": c.points_delta}

