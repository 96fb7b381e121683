"""The health score in words, for the API, the account page, review agendas and the CLI. Pure: no database.

One sentence per thing a CSM would ask: the score and band (or why it is unknown), what costs the most,
how late the plan is, which inputs are missing and where they come from, the override in force, and
which factors moved since an earlier day.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from typing import Any

from journey.health import wording
from journey.health.domain import Contribution, FactorChange, HealthResult, Override


def explain(result: HealthResult, *, override: Override | None = None) -> str:
    """The score, the band or why it is unknown, the override in force, what costs the most, the plan's
    lateness and the missing inputs, as '; '-separated sentences."""
    parts = [headline(result.score, result.band, result.evidence, result.min_evidence)]
    if override is not None:
        parts = [overridden(override)] + [f"computed {parts[0]}"]
    top = result.top_cost
    if top is not None and top.detail is None:
        parts.append(factor_sentence(top))
    parts += [plan_sentence(c) for c in result.contributions if c.detail is not None and c.cost > 0.005]
    if result.missing_inputs:
        parts += wording.missing_words(result.missing_inputs)
        parts.append("inputs without data weigh nothing yet: their weight is spread over the others")
    return "; ".join(parts)


def factor_sentence(c: Contribution) -> str:
    """'Last meeting: 78 days ago — 3.5 of 10 points lost'."""
    return f"{label(c)}: {wording.value_words(unit(c), c.value)} — {_lost(c)}"


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
    """'Plan tasks on time: 7 of 9 tasks due are on time (grace 2 business days); 2 late by 3+ business days
    (up to 5 business days) — 6 of 27 points lost'."""
    return f"{label(c)}: {(c.detail or '').replace('; ', ', ')} — {_lost(c)}"


def missing_sentence(metrics: Sequence[str]) -> str:
    """'No active users or seat count recorded yet (send it with ...); No plan tasks due recorded yet (...)'."""
    return "; ".join(wording.missing_words(metrics))


def since_sentence(day: date, changes: Sequence[FactorChange], *, limit: int = 4,
                   labels: Mapping[str, str] | None = None) -> str:
    """'since 2026-11-16: Plan tasks on time -6 points, NPS -4' (the factors that moved a point or more)."""
    moved = [c for c in changes if abs(c.points_delta) >= 0.5][:limit]
    if not moved:
        return f"since {day.isoformat()}: no factor moved by a point"
    names = labels or {}
    return f"since {day.isoformat()}: " + ", ".join(
        f"{names.get(c.factor) or wording.factor_label(c.factor)} {c.points_delta:+.0f} points" for c in moved)


def label(c: Contribution) -> str:
    return c.label or wording.factor_label(c.factor)


def unit(c: Contribution) -> str:
    return c.unit or wording.guess_unit(c.factor, c.metric)


def contributions_of(stored: Iterable[Mapping[str, Any]]) -> tuple[Contribution, ...]:
    """Contributions back from their stored form (older rows lack some keys)."""
    return tuple(Contribution(str(c.get("factor", "")), str(c.get("group", "")), str(c.get("metric", "")),
                              c.get("value"), c.get("factor_score"), float(c.get("nominal_weight") or 0),
                              float(c.get("weight") or 0), float(c.get("points") or 0), c.get("detail"),
                              str(c.get("label") or ""), str(c.get("unit") or ""))
                 for c in stored)


def result_of(stored: Any) -> HealthResult:
    """A stored score (a `health_score` row) as the result it was computed from, to explain it again."""
    contributions = contributions_of(stored.contributions or [])
    return HealthResult(stored.score, stored.computed_band or stored.band, stored.scorecard,
                        stored.scorecard_version, contributions, tuple(stored.missing or []),
                        1.0 if stored.evidence is None else stored.evidence, stored.min_evidence or 0.0,
                        tuple(stored.missing_inputs or ()))


def _lost(c: Contribution) -> str:
    return f"{wording.num(c.cost)} of {wording.num(c.weight)} points lost"
