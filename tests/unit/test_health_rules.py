"""The rules behind a truthful score: enough evidence for a band, proportional plan penalties, the CSM's
override and its lapse, and what moved between two stored scores. By hand, and as properties."""
from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from journey.calendar import WorkCalendar
from journey.config import PROJECT_ROOT
from journey.health.domain import (
    MetricSummary,
    Override,
    check_override,
    effective_band,
    factor_changes,
    score_summaries,
)
from journey.health.explanation import explain, since_sentence
from journey.health.plan import DueTask, due_tasks, plan_value, task_penalty
from journey.health.scorecards import Lateness, Scorecard, load_scorecards

NOW = datetime(2027, 3, 3, 12, tzinfo=UTC)  # a Wednesday
TODAY = NOW.date()
CAL = WorkCalendar(region=None)  # weekends only
CARDS = {c.name: c for c in load_scorecards(PROJECT_ROOT / "templates" / "scorecards")}
ONBOARDING = CARDS["default_onboarding"]
LATENESS = Lateness(grace_business_days=2, full_penalty_business_days=10)


def card(min_weight: float | None = None) -> Scorecard:
    data = {"name": "t", "version": 1, "stage": "adopted", "bands": [{"name": "red", "below": 50}, {"name": "green"}],
            "groups": [{"name": "g", "weight": 1, "factors": [
                {"name": n, "metric": n, "weight": w, "curve": [[0, 0], [1, 100]]}
                for n, w in (("a", 50), ("b", 30), ("c", 20))]}]}
    return Scorecard.model_validate(data if min_weight is None else data | {"min_weight_with_data": min_weight})


def points(**values: float) -> dict[str, MetricSummary]:
    return {m: MetricSummary.point(v, NOW - timedelta(hours=1), {30}, now=NOW) for m, v in values.items()}


# ----------------------------------------------------------------------------------------- evidence
@pytest.mark.parametrize(("min_weight", "present", "band", "evidence"), [
    (None, {"a": 1}, "green", 0.5),  # exactly half: enough (the default)
    (None, {"b": 1, "c": 1}, "green", 0.5),
    (None, {"b": 1}, "unknown", 0.3),
    (None, {"c": 0.2}, "unknown", 0.2),  # a bad provisional score is no red either
    (None, {}, "unknown", 0.0),
    (0.0, {"c": 1}, "green", 0.2),  # a card may accept any data
    (0.0, {}, "unknown", 0.0),  # but never no data at all
    (1.0, {"a": 1, "b": 1}, "unknown", 0.8),
    (1.0, {"a": 0.1, "b": 1, "c": 1}, "green", 1.0),
])
def test_a_band_needs_enough_of_the_weight_to_have_data(min_weight, present, band, evidence) -> None:
    result = score_summaries(points(**present), card(min_weight), NOW)
    assert result.band == band and result.provisional == (band == "unknown")
    assert result.evidence == pytest.approx(evidence)
    assert result.missing_inputs == tuple(m for m in ("a", "b", "c") if m not in present)


def test_an_unknown_score_is_still_computed_and_says_what_is_missing() -> None:
    result = score_summaries(points(b=0.6), card(), NOW)
    assert result.score == pytest.approx(60)  # provisional: b alone, renormalised
    text = explain(result)
    assert text.startswith("60/100 provisional (unknown): the inputs with data carry 30% of the scorecard's "
                           "weight, 50% needed")
    assert "No a or c recorded yet (send them with POST /api/signals or journey import signals)" in text


def test_a_fresh_onboarding_account_is_unknown_and_names_where_each_input_comes_from() -> None:
    # a packet and a deal's seats, nothing due yet, nothing sent: 20 % of the weight
    result = score_summaries(points(packet_completeness=100, seats=50), ONBOARDING, NOW, plan=())
    assert result.band == "unknown" and result.evidence == pytest.approx(0.2)
    text = explain(result)
    assert ("No plan tasks due recorded yet (no plan task is due yet); No active users, CSM sentiment or "
            "escalation status recorded yet (send them with POST /api/signals or journey import signals)") in text
    assert "missing " not in text and "_" not in text


# ------------------------------------------------------------------------------------- plan penalty
@pytest.mark.parametrize(("late", "grace", "full", "penalty"), [
    (0, 2, 10, 0), (1, 2, 10, 0), (2, 2, 10, 0), (3, 2, 10, 0.1), (7, 2, 10, 0.5), (12, 2, 10, 1), (40, 2, 10, 1),
    (1, 0, 1, 1), (0, 0, 1, 0), (5, 5, 5, 0), (6, 5, 5, 0.2),
])
def test_task_penalty(late, grace, full, penalty) -> None:
    assert task_penalty(late, Lateness(grace_business_days=grace, full_penalty_business_days=full)) == pytest.approx(
        penalty)


@given(a=st.integers(0, 300), b=st.integers(0, 300), grace=st.integers(0, 30), full=st.integers(1, 60))
def test_penalty_grows_with_lateness_between_0_and_1(a, b, grace, full) -> None:
    lateness = Lateness(grace_business_days=grace, full_penalty_business_days=full)
    low, high = sorted((a, b))
    assert 0 <= task_penalty(low, lateness) <= task_penalty(high, lateness) <= 1
    assert task_penalty(min(low, grace), lateness) == 0


def plan_factor(lateness: Lateness | None = LATENESS, metric: str = "plan_on_time"):  # type: ignore[no-untyped-def]
    factor = next(f for f in ONBOARDING.factors if f.metric == metric)
    return factor.model_copy(update={"lateness": lateness})


tasks_st = st.lists(st.builds(lambda d, o: DueTask(d, d * 5 // 7, o), st.integers(0, 60), st.booleans()),
                    min_size=1, max_size=30)


@given(tasks=tasks_st, extra=st.integers(0, 400))
@settings(max_examples=200)
def test_one_more_late_task_costs_at_most_its_share_and_one_within_the_grace_costs_nothing(tasks, extra) -> None:
    factor = plan_factor()
    before = plan_value(factor, tasks)
    late = plan_value(factor, [*tasks, DueTask(extra, extra, True)])
    n = len(tasks) + 1
    assert late >= before * (n - 1) / n - 1e-9  # it costs at most its share: before / n <= 1 / n
    assert plan_value(factor, [*tasks, DueTask(2, 2, True)]) >= before - 1e-9  # 2 business days late: free
    assert 0 <= late <= 1


@given(tasks=tasks_st, index=st.integers(0, 29), more=st.integers(1, 50))
def test_a_later_task_never_raises_the_plan_value(tasks, index, more) -> None:
    factor = plan_factor()
    t = tasks[index % len(tasks)]
    later = [*tasks]
    later[index % len(tasks)] = DueTask(t.days_late + more, t.business_days_late + more, t.open)
    assert plan_value(factor, later) <= plan_value(factor, tasks) + 1e-12


def test_one_task_a_day_late_on_a_22_task_plan_costs_nothing_and_a_week_late_a_few_points() -> None:
    due = [DueTask(0, 0, False)] * 8
    for late, lost in ((1, 0.0), (2, 0.0), (5, 27 * 0.3 / 9), (30, 27 / 9)):
        result = score_summaries(points(packet_completeness=100, active_users=40, seats=50, escalation_open=0),
                                 ONBOARDING, NOW, plan=(*due, DueTask(late * 7 // 5, late, True)))
        plan = next(c for c in result.contributions if c.factor == "plan_on_time")
        assert plan.weight == pytest.approx(27) and plan.cost == pytest.approx(lost)
    assert result.band != "unknown"


def test_the_explanation_shows_the_formula_at_work() -> None:
    due = [DueTask(0, 0, False)] * 7 + [DueTask(7, 5, False), DueTask(14, 10, True)]
    inputs = points(packet_completeness=100, escalation_open=0, active_users=40, seats=50, csm_sentiment=4)
    result = score_summaries(inputs, ONBOARDING, NOW, plan=tuple(due))
    # penalties 0.3 and 0.8 over 9 tasks due: 27 x 1.1 / 9 = 3.3 points lost
    assert ("Plan tasks on time: 7 of 9 tasks due are on time (grace 2 business days), 2 late by 3+ business days "
            "(up to 10 business days) — 3.3 of 27 points lost") in explain(result)
    assert "Overdue plan tasks: 1 open task more than 2 business days late — " in explain(result)


@pytest.mark.parametrize(("lateness", "metric", "expected"), [
    (None, "plan_on_time", 1 / 4),  # version 1: the share done by the due date
    (LATENESS, "plan_on_time", 1 - (0 + 0 + 0 + 0.3) / 4),
    (None, "tasks_overdue", 2),  # version 1: open past the due date
    (LATENESS, "tasks_overdue", 1),  # beyond the grace only
])
def test_plan_value_by_version(lateness, metric, expected) -> None:
    tasks = [DueTask(0, 0, False), DueTask(3, 1, False), DueTask(1, 1, True), DueTask(7, 5, True)]
    assert plan_value(plan_factor(lateness, metric), tasks) == pytest.approx(expected)
    assert plan_value(plan_factor(lateness, metric), []) is None


@pytest.mark.parametrize(("due", "done", "expected"), [
    (date(2027, 2, 26), date(2027, 3, 1), DueTask(3, 1, False)),  # Friday -> Monday: one business day
    (date(2027, 3, 1), date(2027, 2, 27), DueTask(0, 0, False)),  # done early
    (date(2027, 2, 24), None, DueTask(7, 5, True)),  # open a week
    (date(2027, 3, 2), date(2027, 3, 8), DueTask(1, 1, True)),  # done after today: open today
    (date(2027, 3, 3), None, None),  # due today and open: not late yet
    (date(2027, 3, 3), date(2027, 3, 3), DueTask(0, 0, False)),  # due and done today: counts
    (date(2027, 3, 4), None, None),  # not due yet
])
def test_due_tasks_count_business_days_late(due, done, expected) -> None:
    assert due_tasks([(due, done)], today=TODAY, calendar=CAL) == ((expected,) if expected else ())


def test_public_holidays_are_not_business_days() -> None:
    # Thursday 6 May 2027, Ascension, is a public holiday in France
    [task] = due_tasks([(date(2027, 5, 5), date(2027, 5, 7))], today=date(2027, 5, 20),
                       calendar=WorkCalendar(region="FR"))
    assert (task.days_late, task.business_days_late) == (2, 1)


# ------------------------------------------------------------------------------------------ override
OVERRIDE = Override("red", "champion left", "csm@x.example", NOW, date(2027, 3, 10))


@pytest.mark.parametrize(("override", "today", "computed", "band"), [
    (None, TODAY, "green", "green"),
    (OVERRIDE, TODAY, "green", "red"),
    (OVERRIDE, TODAY, "unknown", "red"),  # the CSM's judgment where data is thin
    (OVERRIDE, date(2027, 3, 10), "green", "red"),  # holds through its last day
    (OVERRIDE, date(2027, 3, 11), "green", "green"),  # then lapses by itself
])
def test_an_override_wins_until_it_lapses(override, today, computed, band) -> None:
    assert effective_band(computed, override, today) == band


@pytest.mark.parametrize(("band", "reason", "expires", "fragment"), [
    ("red", "why", TODAY, None), ("purple", "why", TODAY, "band must be one of green, red, yellow"),
    ("red", "  ", TODAY, "reason must say why"), ("red", "why", TODAY - timedelta(days=1), "in the past"),
    ("red", "why", TODAY + timedelta(days=400), "within 366 days"),
    ("unknown", "why", TODAY, "band must be one of"),
])
def test_override_checks(band, reason, expires, fragment) -> None:
    problems = check_override(band=band, reason=reason, expires_on=expires, today=TODAY,
                              bands={"red", "yellow", "green"})
    assert (fragment is None and problems == []) or (fragment is not None and fragment in "; ".join(problems))


def test_the_explanation_shows_the_override_beside_the_computed_score() -> None:
    text = explain(score_summaries(points(a=0.9, b=0.9), card(), NOW), override=OVERRIDE)
    assert text.startswith("red (set by csm@x.example on 2027-03-03, until 2027-03-10: champion left); "
                           "computed 90/100 (green)")


# ------------------------------------------------------------------------------------------- changes
def test_changes_name_the_factors_that_moved_largest_first() -> None:
    before = {"plan_on_time": [1.0, 27.0], "nps": [40, 20.0], "csat": [4, 10.0], "old": [1, 5.0]}
    after = {"plan_on_time": [0.78, 21.0], "nps": [20, 16.0], "csat": [4, 10.0], "new": [3, 2.0]}
    moved = factor_changes(before, after)
    assert [(c.factor, c.before, c.after, c.points_delta) for c in moved] == [
        ("plan_on_time", 1.0, 0.78, -6.0), ("old", 1, None, -5.0), ("nps", 40, 20, -4.0), ("new", None, 3, 2.0)]
    assert since_sentence(date(2026, 11, 16), moved) == (
        "since 2026-11-16: Plan tasks on time -6 points, Old -5 points, NPS -4 points, New +2 points")
    assert factor_changes(after, after) == []


@given(st.dictionaries(st.sampled_from("abcdef"), st.tuples(st.floats(0, 1), st.floats(0, 50)), max_size=6),
       st.dictionaries(st.sampled_from("abcdef"), st.tuples(st.floats(0, 1), st.floats(0, 50)), max_size=6))
def test_the_deltas_add_up_to_the_difference_of_the_scores(before, after) -> None:
    moved = factor_changes(before, after)
    total = sum(p for _, p in after.values()) - sum(p for _, p in before.values())
    assert sum(c.points_delta for c in moved) == pytest.approx(total, abs=0.01 * (len(before) + len(after)) + 1e-9)
