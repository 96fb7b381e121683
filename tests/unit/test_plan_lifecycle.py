"""Task transitions with the packet gate, on-time % and time-to-value."""
from __future__ import annotations

from datetime import date

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from journey.onboarding.lifecycle import (
    TaskOutcome,
    TransitionRefused,
    on_time_pct,
    summarise,
    time_to_value_days,
    transition,
)

D = date.fromisoformat


@pytest.mark.parametrize(
    ("status", "action", "gated", "reason", "expected"),
    [
        ("todo", "start", False, None, ("in_progress", True)),
        ("todo", "done", False, None, ("done", True)),
        ("in_progress", "done", False, None, ("done", True)),
        ("in_progress", "start", False, None, ("in_progress", False)),  # a retried request changes nothing
        ("done", "done", True, None, ("done", False)),
        ("todo", "skip", True, "not in scope", ("skipped", True)),  # the gate does not stop a skip
        ("skipped", "reopen", False, None, ("todo", True)),
        ("done", "reopen", False, None, ("todo", True)),
        ("todo", "reopen", False, None, ("todo", False)),
        ("todo", "start", True, None, "waits_for_packet"),
        ("in_progress", "done", True, None, "waits_for_packet"),
        ("todo", "skip", False, "  ", "reason_required"),
        ("done", "start", False, None, "invalid_transition"),
        ("skipped", "done", False, None, "invalid_transition"),
        ("done", "skip", False, "late", "invalid_transition"),
        ("todo", "finish", False, None, "unknown_action"),
    ],
)
def test_transition(status, action, gated, reason, expected) -> None:  # type: ignore[no-untyped-def]
    if isinstance(expected, str):
        with pytest.raises(TransitionRefused) as refused:
            transition(status, action, gated=gated, reason=reason)
        assert refused.value.code == expected
    else:
        step = transition(status, action, gated=gated, reason=reason)
        assert (step.status, step.changed) == expected


TODAY = D("2026-07-10")


@pytest.mark.parametrize(
    ("tasks", "expected"),
    [
        ([], None),
        ([("todo", "2026-07-20", None)], None),  # not due yet: does not count
        ([("done", "2026-07-09", "2026-07-09"), ("done", "2026-07-08", "2026-07-09")], 50.0),
        ([("done", "2026-07-09", "2026-07-01"), ("todo", "2026-07-09", None)], 50.0),  # open and overdue: late
        ([("skipped", "2026-07-01", None), ("in_progress", "2026-07-10", None)], None),  # due today is not late
        ([("done", "2026-07-09", "2026-07-09"), ("done", "2026-07-09", "2026-07-02"),
          ("todo", "2026-07-01", None)], 66.7),
    ],
)
def test_on_time_pct(tasks, expected) -> None:  # type: ignore[no-untyped-def]
    outcomes = [TaskOutcome(s, D(due), D(done) if done else None) for s, due, done in tasks]
    assert on_time_pct(outcomes, TODAY) == expected


def test_time_to_value_and_team_summary() -> None:
    assert time_to_value_days(D("2026-07-01"), None) is None
    assert time_to_value_days(D("2026-07-01"), D("2026-09-09")) == 70
    a = [TaskOutcome("done", D("2026-07-09"), D("2026-07-09"))]
    b = [TaskOutcome("done", D("2026-07-09"), D("2026-07-10")), TaskOutcome("todo", D("2026-07-01"))]
    summary = summarise([(a, 70), (b, None), ([], 40)], TODAY)
    assert (summary.accounts, summary.on_time_pct, summary.median_time_to_value_days, summary.value_reached) == (
        3, 33.3, 55, 2)


OUTCOMES = st.lists(st.builds(TaskOutcome, st.sampled_from(["todo", "in_progress", "done", "skipped"]),
                              st.dates(D("2026-06-01"), D("2026-08-01")),
                              st.one_of(st.none(), st.dates(D("2026-06-01"), D("2026-08-01")))), max_size=30)


@settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])  # a shared 2-core machine
@given(OUTCOMES)
def test_on_time_pct_is_a_percentage_of_counted_tasks(outcomes) -> None:  # type: ignore[no-untyped-def]
    pct = on_time_pct(outcomes, TODAY)
    late_open = any(o.status in ("todo", "in_progress") and o.due_on < TODAY for o in outcomes)
    if pct is None:
        assert not late_open and not any(o.status == "done" for o in outcomes)
    else:
        assert 0 <= pct <= 100
        if late_open:
            assert pct < 100
