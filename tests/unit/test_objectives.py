"""Objective status from measured progress."""
from __future__ import annotations

from datetime import date

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from journey.objectives.domain import Measurement, assess

D = date.fromisoformat
START, DUE = D("2026-01-01"), D("2026-12-31")  # 364 days


def _m(*points):  # type: ignore[no-untyped-def]
    return [Measurement(D(on), value) for on, value in points]


@pytest.mark.parametrize(
    ("baseline", "target", "points", "today", "status"),
    [
        (21, 7, [], "2026-03-01", "on_track"),  # early, nothing measured yet
        (21, 7, [], "2026-08-01", "at_risk"),  # more than half the time gone, never measured
        (21, 7, [("2026-07-02", 14)], "2026-07-02", "on_track"),  # half way at half time (lower is better)
        (21, 7, [("2026-07-02", 19)], "2026-07-02", "at_risk"),  # 14 % where 50 % was expected
        (21, 7, [("2026-05-01", 7)], "2026-05-02", "achieved"),
        (21, 7, [("2026-05-01", 5)], "2026-05-02", "achieved"),  # beyond the target
        (100, 500, [("2026-12-30", 450)], "2027-01-02", "missed"),
        (100, 500, [("2027-01-05", 600)], "2027-01-02", "missed"),  # a future measurement does not count
        (None, 500, [("2026-02-01", 100), ("2026-07-02", 310)], "2026-07-02", "on_track"),  # first value = baseline
        (100, None, [("2026-02-01", 100)], "2026-07-02", "on_track"),  # no target: cannot measure
        (100, None, [], "2027-02-01", "missed"),
    ],
)
def test_assess(baseline, target, points, today, status) -> None:  # type: ignore[no-untyped-def]
    result = assess(baseline=baseline, target=target, start_on=START, due_on=DUE, measurements=_m(*points),
                    today=D(today))
    assert result.status == status, result.reason


def test_reason_has_the_numbers() -> None:
    result = assess(baseline=21, target=7, start_on=START, due_on=DUE, measurements=_m(("2026-07-02", 19)),
                    today=D("2026-07-02"))
    assert result.reason == "14% of the way to 7 where 50% was expected by now"


@settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])  # a shared 2-core machine
@given(st.floats(-1e6, 1e6), st.floats(-1e6, 1e6), st.floats(-1e6, 1e6), st.dates(START, D("2027-06-01")))
def test_reaching_the_target_is_achieved(baseline, target, value, today) -> None:  # type: ignore[no-untyped-def]
    result = assess(baseline=baseline, target=target, start_on=START, due_on=DUE,
                    measurements=[Measurement(START, value)], today=today)
    reached = value >= target if target >= baseline else value <= target
    assert (result.status == "achieved") == reached
