"""The health score in words, for the API, the account page, review agendas and the CLI. Pure: no database.

One sentence per thing a CSM would ask: the score and band (or why it is unknown), what costs the most,
how late the plan is, which inputs are missing and where they come from, the override in force, and
which factors moved since an earlier day.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from typing import Any

from journey.health.domain import Contribution, FactorChange, HealthResult, Override

SENT = "send them with POST /api/signals or journey import signals"
WHERE_FROM = {  # the internal inputs: why one can be missing
    "plan_on_time": "no plan task is due yet",
    "tasks_overdue": "no plan task is due yet",
    "packet_completeness": "no handoff packet yet",
    "reviews_held": "no review was due yet",
    "objective_progress": "no handoff objective has a measure yet",
    "meeting": "no review held yet (or send meeting signals)",
}


def explain(result: HealthResult, *, override: Override | None = None) -> str:
    """The score, the band or why it is unknown, the override in force, what costs the most, the plan's
    lateness and the missing inputs, as '; '-separated sentences."""
    parts = [headline(result.score, result.band, result.evidence, result.min_evidence)]
    if override is not None:
        parts = [overridden(override)] + [f"computed {parts[0]}"]
    top = result.top_cost
    if top is not None and top.detail is None:
        parts.append(f"{top.factor} costs {top.cost:.1f} points (value {_fmt(top.value)}, "
                     f"scored {top.factor_score:.0f})")
    parts += [plan_sentence(c) for c in result.contributions if c.detail is not None and c.cost > 0.005]
    if result.missing_inputs:
        parts.append(missing_sentence(result.missing_inputs) + " (their weight is spread over the others)")
    return "; ".join(parts)


def headline(score: float, band: str, evidence: float, min_evidence: float) -> str:
    if band != "unknown":
        return f"{score:.0f}/100 ({band})"
    if evidence <= 0:
        return "no score yet (unknown): no input has data"
    return (f"{score:.0f}/100 provisional (unknown): the inputs with data carry {evidence:.0%} of the "
            f"scorecard's weight, {min_evidence:.0%} needed")


def overridden(override: Override) -> str:
    return (f"{override.band} (set by {override.set_by} on {override.set_at:%Y-%m-%d}, until "
            f"{override.expires_on.isoformat()}: {override.reason})")


def plan_sentence(c: Contribution) -> str:
    """'7 of 9 tasks due are on time (grace 2 business days); 2 late by 3+ business days (up to 5 business
    days): 6.0 / 27.0 points lost (plan_on_time)'."""
    return f"{c.detail}: {c.cost:.1f} / {c.weight:.1f} points lost ({c.factor})"


def missing_sentence(metrics: Sequence[str]) -> str:
    """'missing active_users and seats: send them with ...; plan_on_time: no plan task is due yet'."""
    by_reason: dict[str, list[str]] = {}
    for metric in metrics:
        by_reason.setdefault(WHERE_FROM.get(metric, SENT), []).append(metric)
    return "missing " + "; ".join(f"{_and(names)}: {reason}" for reason, names in by_reason.items())


def since_sentence(day: date, changes: Sequence[FactorChange], *, limit: int = 4) -> str:
    """'since 2026-11-16: plan_on_time -6, nps -4' (the factors that moved a point or more)."""
    moved = [c for c in changes if abs(c.points_delta) >= 0.5][:limit]
    if not moved:
        return f"since {day.isoformat()}: no factor moved by a point"
    return f"since {day.isoformat()}: " + ", ".join(f"{c.factor} {c.points_delta:+.0f}" for c in moved)


def contributions_of(stored: Iterable[Mapping[str, Any]]) -> tuple[Contribution, ...]:
    """Contributions back from their stored form (older rows lack some keys)."""
    return tuple(Contribution(str(c.get("factor", "")), str(c.get("group", "")), str(c.get("metric", "")),
                              c.get("value"), c.get("factor_score"), float(c.get("nominal_weight") or 0),
                              float(c.get("weight") or 0), float(c.get("points") or 0), c.get("detail"))
                 for c in stored)


def result_of(stored: Any) -> HealthResult:
    """A stored score (a `health_score` row) as the result it was computed from, to explain it again."""
    contributions = contributions_of(stored.contributions or [])
    return HealthResult(stored.score, stored.computed_band or stored.band, stored.scorecard,
                        stored.scorecard_version, contributions, tuple(stored.missing or []),
                        1.0 if stored.evidence is None else stored.evidence, stored.min_evidence or 0.0,
                        tuple(stored.missing_inputs or ()))


def _and(names: Sequence[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def _fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}".rstrip("0").rstrip(".")
