"""The health score: a pure function of (signals, scorecard, now). No database, settings or I/O.

Each factor turns a metric's values in its window into 0-100; a factor without data is *missing*: it
drops out and its weight is spread over the present factors of its group (a group with nothing present
drops out and its weight is spread over the other groups). The score is the sum of the factors'
points (effective weight x factor score / 100); the factor that costs the most is the one whose missing
points (effective weight x 100 - points) are the largest.

Unknown is not green: below the card's `min_weight_with_data` of its weight with data, the band is
`unknown` and the score provisional. Plan factors weigh each task due by how late it is (`task_penalty`).
An `Override` replaces the band until it lapses; what moved between two stored scores is `factor_changes`.
"""
from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from types import MappingProxyType
from typing import Any, NamedTuple

from journey.health import wording
from journey.health.plan import DueTask, plan_detail, plan_value
from journey.health.scorecards import PLAN_METRICS, Factor, Scorecard, Threshold


@dataclass(frozen=True)
class SignalPoint:
    metric: str
    value: float
    at: datetime


class WindowAgg(NamedTuple):  # a named tuple, not a frozen dataclass: built per (account, metric, window)
    count: int
    total: float
    low: float
    high: float


class MetricSummary(NamedTuple):
    """What the scoring needs of one metric: its latest value and aggregates over each window (a named
    tuple: built per account and metric)."""

    last_value: float
    last_at: datetime
    windows: Mapping[int, WindowAgg] = MappingProxyType({})

    @classmethod
    def point(cls, value: float, at: datetime, windows: Iterable[int], *, now: datetime | None = None
              ) -> MetricSummary:
        """A single observation made at `at` (internal signals computed at `now`, the default), in the
        windows ending at `now` that reach back to it."""
        agg = WindowAgg(1, value, value, value)
        if now is None:  # computed now: in every window
            return cls(value, at, dict.fromkeys(windows, agg))
        return cls(value, at, {w: agg for w in windows if at > now - timedelta(days=w)})


class Contribution(NamedTuple):  # a named tuple, not a frozen dataclass: built per (account, factor)
    factor: str
    group: str
    metric: str
    value: float | None
    factor_score: float | None
    nominal_weight: float  # percent of the score when every input is present
    weight: float  # percent actually used (0 when missing)
    points: float
    detail: str | None = None  # how the value came about, when a sentence says more than the number
    label: str = ""  # the factor in words (`wording.factor_label`)
    unit: str = ""  # how its value reads (`wording.value_words`)

    @property
    def cost(self) -> float:
        return self.weight - self.points


@dataclass(frozen=True)
class HealthResult:
    score: float
    band: str
    scorecard: str
    scorecard_version: int
    contributions: tuple[Contribution, ...]
    missing: tuple[str, ...]
    evidence: float = 1.0  # share of the card's nominal weight carried by factors with data
    min_evidence: float = 0.0  # the card's min_weight_with_data
    missing_inputs: tuple[str, ...] = ()  # the metrics the missing factors lack

    @property
    def provisional(self) -> bool:
        return self.band == "unknown"

    @property
    def top_cost(self) -> Contribution | None:
        """The present factor that costs the most (the first of equals), if it costs anything (> 0.005)."""
        top, most = None, 0.0
        for c in self.contributions:  # `cost` inlined: read for every account of a recompute
            if c.factor_score is not None:
                cost = c.weight - c.points
                if cost > 0.005 and (top is None or cost > most):
                    top, most = c, cost
        return top


def summarise(signals: Iterable[SignalPoint], *, windows: Iterable[int], now: datetime,
              horizon_days: int | None = None, stale_metrics: Collection[str] = ()) -> dict[str, MetricSummary]:
    """Per metric: latest value at or before `now`, and count / sum / min / max over each window (now-w, now].

    With `horizon_days`, the rule of the live recompute (`metric_repository.metric_summaries`): a metric whose
    signals are all older than the horizon is absent, unless it is in `stale_metrics` (a factor counts the
    days since its last signal: an old one is stale, not missing)."""
    windows = sorted(set(windows))
    horizon = None if horizon_days is None else now - timedelta(days=horizon_days)
    by_metric: dict[str, list[SignalPoint]] = {}
    for s in signals:
        if s.at <= now and (horizon is None or s.at > horizon or s.metric in stale_metrics):
            by_metric.setdefault(s.metric, []).append(s)
    out: dict[str, MetricSummary] = {}
    for metric, points in by_metric.items():
        last = max(points, key=lambda p: p.at)
        aggs: dict[int, WindowAgg] = {}
        for w in windows:
            values = [p.value for p in points if p.at > now - timedelta(days=w)]
            if values:
                aggs[w] = WindowAgg(len(values), sum(values), min(values), max(values))
        out[metric] = MetricSummary(last.value, last.at, aggs)
    return out


def factor_value(factor: Factor, summaries: Mapping[str, MetricSummary], now: datetime,
                 plan: Sequence[DueTask] | None = None) -> float | None:
    """The factor's input value, or None when the data is missing (nothing in the window, no denominator,
    no plan task due yet). A plan metric comes from `plan` unless a signal of that name was sent."""
    if factor.metric in PLAN_METRICS and plan is not None and factor.metric not in summaries:
        return plan_value(factor, plan)
    summary = summaries.get(factor.metric)
    value = _aggregate(factor, summary, now)
    if value is None or factor.per is None:
        return value
    denominator = summaries.get(factor.per)
    if denominator is None or denominator.last_value == 0:
        return None
    return value / denominator.last_value


def missing_metrics(factor: Factor, summaries: Mapping[str, MetricSummary], now: datetime) -> tuple[str, ...]:
    """Which of a missing factor's metrics lack data: the metric, its denominator, or both."""
    lacking = []
    if factor.aggregate != "count" and _aggregate(factor, summaries.get(factor.metric), now) is None:
        lacking.append(factor.metric)
    if factor.per is not None and (factor.per not in summaries or summaries[factor.per].last_value == 0):
        lacking.append(factor.per)
    return tuple(lacking) or (factor.metric,)


def _aggregate(factor: Factor, summary: MetricSummary | None, now: datetime) -> float | None:
    if factor.aggregate == "count":
        agg = summary.windows.get(factor.window_days) if summary else None
        return float(agg.count) if agg else 0.0
    if summary is None:
        return None
    if factor.aggregate == "days_since_last":
        return max(0.0, (now - summary.last_at).total_seconds() / 86400)
    if factor.aggregate == "latest":
        return summary.last_value if summary.last_at > now - timedelta(days=factor.window_days) else None
    agg = summary.windows.get(factor.window_days)
    if agg is None:
        return None
    return {"mean": agg.total / agg.count, "min": agg.low, "max": agg.high, "sum": agg.total}[factor.aggregate]


def factor_score(factor: Factor, value: float) -> float:
    """0-100 for a value: the first threshold the value is below, or along the curve (flat beyond its ends)."""
    if factor.thresholds:
        return _step(factor.thresholds, value)
    points = factor.curve
    if value <= points[0][0]:
        return points[0][1]
    for (x0, y0), (x1, y1) in zip(points, points[1:], strict=False):
        if value <= x1:
            return y0 + (y1 - y0) * (value - x0) / (x1 - x0)
    return points[-1][1]


def _step(thresholds: Sequence[Threshold], value: float) -> float:
    for t in thresholds:
        if t.below is None or value < t.below:
            return t.points
    return thresholds[-1].points


def band_for(card: Scorecard, score: float) -> str:
    for band in card.bands:
        if band.below is None or score < band.below:
            return band.name
    return card.bands[-1].name


def score_summaries(summaries: Mapping[str, MetricSummary], card: Scorecard, now: datetime,
                    plan: Sequence[DueTask] | None = None) -> HealthResult:
    """Score an account from its metric summaries and the plan tasks due so far (the recompute's set-based
    path lands here)."""
    slots = _slots(card)
    values = [factor_value(s.factor, summaries, now, plan) for s in slots]
    present = [0.0] * len(card.groups)  # per group: the weight of its factors with data
    for s, value in zip(slots, values, strict=True):
        if value is not None:
            present[s.group_at] += s.factor.weight
    present_total = sum(g.weight for g, weight in zip(card.groups, present, strict=True) if weight)
    contributions: list[Contribution] = []
    for s, value in zip(slots, values, strict=True):
        f = s.factor
        if value is None:
            contributions.append(Contribution(f.name, s.group, f.metric, None, None, s.nominal, 0.0, 0.0, None,
                                              s.label, s.unit))
            continue
        weight = 100 * s.group_weight / present_total * f.weight / present[s.group_at]
        fscore = factor_score(f, value)
        detail = plan_detail(f, plan) if f.metric in PLAN_METRICS and plan and f.metric not in summaries else None
        contributions.append(Contribution(f.name, s.group, f.metric, value, fscore, s.nominal, weight,
                                          weight * fscore / 100, detail, s.label, s.unit))
    score = min(100.0, max(0.0, sum(c.points for c in contributions))) if present_total else 0.0
    missing = tuple(c.factor for c in contributions if c.factor_score is None)
    evidence = evidence_of(contributions)
    band = band_for(card, score) if enough_evidence(evidence, card.min_weight_with_data) else "unknown"
    lacking = [m for s, value in zip(slots, values, strict=True) if value is None
               for m in missing_metrics(s.factor, summaries, now)]
    return HealthResult(score, band, card.name, card.version, tuple(contributions), missing, evidence,
                        card.min_weight_with_data, tuple(dict.fromkeys(lacking)))


class _Slot(NamedTuple):
    """A factor of a card with what scoring it needs whatever the account: its group (name, weight, position),
    its nominal weight (percent of the score with every input present) and its words."""

    factor: Factor
    group: str
    group_weight: float
    group_at: int
    nominal: float
    label: str
    unit: str


_SLOTS: dict[int, tuple[Scorecard, tuple[_Slot, ...]]] = {}


def _slots(card: Scorecard) -> tuple[_Slot, ...]:
    """The card's factors as `_Slot`s in its order (group by group), computed once per card object (held with
    it, so its id is not reused)."""
    held = _SLOTS.get(id(card))
    if held is not None and held[0] is card:
        return held[1]
    group_total = sum(g.weight for g in card.groups)
    slots = []
    for at, group in enumerate(card.groups):
        factor_total = sum(f.weight for f in group.factors)
        slots += [_Slot(f, group.name, group.weight, at, 100 * group.weight / group_total * f.weight / factor_total,
                        wording.factor_label(f.name, f.label), wording.factor_unit(f.metric, f.per, f.unit or ""))
                  for f in group.factors]
    if len(_SLOTS) >= 256:  # tests build cards by the hundred; the shipped set is a handful
        _SLOTS.clear()
    _SLOTS[id(card)] = (card, tuple(slots))
    return _SLOTS[id(card)][1]


def evidence_of(contributions: Iterable[Contribution]) -> float:
    """The share (0-1) of the card's nominal weight carried by the factors that have data."""
    return min(1.0, sum(c.nominal_weight for c in contributions if c.factor_score is not None) / 100)


def enough_evidence(evidence: float, min_weight_with_data: float) -> bool:
    """A band needs some data, and at least the card's minimum share of its weight (rounding aside)."""
    return evidence > 0 and evidence >= min_weight_with_data - 1e-9


def score(signals: Iterable[SignalPoint], card: Scorecard, now: datetime) -> HealthResult:
    """(signals, scorecard, now) -> score, band, contributions in points, missing inputs."""
    return score_summaries(summarise(signals, windows=card.windows, now=now), card, now)


# --------------------------------------------------------------------------------------------- override
@dataclass(frozen=True)
class Override:  # a band set by hand for the account, with why and the last day it holds
    band: str
    reason: str
    set_by: str
    set_at: datetime
    expires_on: date


def override_in_force(override: Override | None, today: date) -> Override | None:
    """The override while it holds (through `expires_on`); None once it has lapsed."""
    return override if override is not None and today <= override.expires_on else None


def effective_band(computed: str, override: Override | None, today: date) -> str:
    """An override in force wins over the computed band (unknown included); a lapsed one counts for nothing."""
    held = override_in_force(override, today)
    return held.band if held is not None else computed


def check_override(*, band: str, reason: str, expires_on: date, today: date, bands: Collection[str],
                   max_days: int = 366) -> list[str]:
    """What is wrong with an override, in words (empty when it may be set)."""
    problems = []
    if band not in bands:
        problems.append(f"band must be one of {', '.join(sorted(bands))}, got {band!r}")
    if not reason.strip():
        problems.append("reason must say why (it is shown beside the band)")
    if expires_on < today:
        problems.append(f"expires_on {expires_on} is in the past")
    elif expires_on > today + timedelta(days=max_days):
        problems.append(f"expires_on must be within {max_days} days")
    return problems


# ---------------------------------------------------------------------------------------------- changes
@dataclass(frozen=True)
class FactorChange:  # a factor that moved between two stored scores
    factor: str
    before: float | None  # the factor's value
    after: float | None
    points_delta: float


def factor_points(contributions: Iterable[Contribution]) -> dict[str, tuple[float | None, float]]:
    """What a stored score keeps of each factor: (value, points)."""
    return {c.factor: (c.value, c.points) for c in contributions}


def factor_changes(before: Mapping[str, Sequence[float | None]], after: Mapping[str, Sequence[float | None]],
                   *, tolerance: float = 0.005) -> list[FactorChange]:
    """The factors whose value or points moved between two stored scores, the largest move first. A factor
    only one side has (another card, another stage) moves from or to nothing; the deltas add up to the
    difference of the two scores."""
    changes = []
    for name in dict.fromkeys([*before, *after]):
        v0, p0 = before.get(name, (None, 0.0))
        v1, p1 = after.get(name, (None, 0.0))
        delta = (p1 or 0.0) - (p0 or 0.0)
        value_moved = (v0 is None) != (v1 is None) or (v0 is not None and abs(v1 - v0) > 1e-9)  # type: ignore[operator]
        if abs(delta) >= tolerance or value_moved:
            changes.append(FactorChange(name, v0, v1, round(delta, 2)))
    return sorted(changes, key=lambda c: -abs(c.points_delta))


# ------------------------------------------------------------------------------------------------ trend
@dataclass(frozen=True)
class HistoryPoint:
    on: date
    score: float
    band: str
    changes: tuple[Any, ...] = ()  # as stored: [{factor, from, to, points_delta}] since the day before


def score_on_or_before(history: Sequence[HistoryPoint], day: date) -> HistoryPoint | None:
    earlier = [h for h in history if h.on <= day]
    return max(earlier, key=lambda h: h.on, default=None)


def trend(history: Sequence[HistoryPoint], *, today: date, current: float, days: int) -> float | None:
    """Points gained (positive) or lost since `days` ago; None without a score that old."""
    then = score_on_or_before(history, today - timedelta(days=days))
    return None if then is None else round(current - then.score, 1)


def lifecycle_stage(*, value_reached: bool, signed_on: date | None, today: date, onboarding_days: int = 180) -> str:
    """Onboarding until the first value milestone is reached (or `onboarding_days` after signature)."""
    if value_reached or signed_on is None:
        return "adopted"
    return "onboarding" if (today - signed_on).days < onboarding_days else "adopted"
