"""Objective status from measured progress: on_track, at_risk, achieved or missed. Pure.

An objective goes from its baseline to its target by its due date (lower is better when the target is
below the baseline). The latest measurement decides: reaching the target is `achieved`; a due date
passed without it is `missed`; falling more than `AT_RISK_GAP` behind the straight line from the start
to the due date, or having no measurement once half the time is gone, is `at_risk`; otherwise `on_track`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Literal

Status = Literal["on_track", "at_risk", "achieved", "missed"]
STATUSES: tuple[str, ...] = ("on_track", "at_risk", "achieved", "missed")
AT_RISK_GAP = 0.2  # progress more than 20 points behind the straight line


@dataclass(frozen=True)
class Measurement:
    on: date
    value: float


@dataclass(frozen=True)
class Assessment:
    status: Status
    progress: float | None  # 0 at the baseline, 1 at the target; None when it cannot be measured
    expected: float | None  # where the straight line says progress should be today
    reason: str


def assess(*, baseline: float | None, target: float | None, start_on: date, due_on: date | None,
           measurements: Sequence[Measurement], today: date) -> Assessment:
    """The status of an objective on `today` from the measurements taken up to today."""
    seen = sorted((m for m in measurements if m.on <= today), key=lambda m: m.on)
    expected = _expected(start_on, due_on, today)
    overdue = due_on is not None and today > due_on
    if target is None:
        status: Status = "missed" if overdue else "on_track"
        return Assessment(status, None, expected, "no target set: progress cannot be measured")
    base = baseline if baseline is not None else (seen[0].value if seen else None)
    if not seen or base is None:
        if overdue:
            return Assessment("missed", None, expected, f"due {due_on} and never measured")
        if expected is not None and expected >= 0.5:
            return Assessment("at_risk", None, expected, "no measurement yet and half the time is gone")
        return Assessment("on_track", None, expected, "no measurement yet")
    latest = seen[-1]
    reached = latest.value >= target if target >= base else latest.value <= target
    progress = 1.0 if target == base else (latest.value - base) / (target - base)
    if reached:
        return Assessment("achieved", progress, expected, f"{latest.value:g} reached the target {target:g}")
    progress = min(progress, 0.9999)  # not reached: never shown as 100 % through float rounding
    if overdue:
        reason = f"{latest.value:g} on {latest.on}, target {target:g} by {due_on}"
        return Assessment("missed", progress, expected, reason)
    if expected is not None and progress < expected - AT_RISK_GAP:
        return Assessment("at_risk", progress, expected,
                          f"{progress:.0%} of the way to {target:g} where {expected:.0%} was expected by now")
    return Assessment("on_track", progress, expected, f"{progress:.0%} of the way to {target:g}")


def _expected(start_on: date, due_on: date | None, today: date) -> float | None:
    if due_on is None:
        return None
    span = (due_on - start_on).days
    if span <= 0:
        return 1.0
    return min(1.0, max(0.0, (today - start_on).days / span))
