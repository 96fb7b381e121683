"""The plan card and the `plan_on_time` health factor say how punctual a plan is in the same words, from
the same tasks and the same grace period (one function, `on_time_words`)."""
from __future__ import annotations

import pytest

from journey.config import PROJECT_ROOT
from journey.health.plan import DueTask, on_time_words, plan_detail, plan_lateness
from journey.health.scorecards import Factor, Lateness, load_scorecards

GRACE_2 = Lateness(grace_business_days=2, full_penalty_business_days=10)
ON_TIME, ONE_DAY, TWO_DAYS, FIVE_OPEN = DueTask(0, 0, False), DueTask(1, 1, True), DueTask(3, 2, False), DueTask(
    7, 5, True)


@pytest.mark.parametrize(("tasks", "lateness", "words"), [
    ([ON_TIME], GRACE_2, "1 of 1 task due is on time (grace 2 business days)"),
    # the case: one task a day late is on time within the grace (the card said "0% on time")
    ([ONE_DAY], GRACE_2, "1 of 1 task due is on time (grace 2 business days)"),
    ([ON_TIME, ONE_DAY, TWO_DAYS], GRACE_2, "3 of 3 tasks due are on time (grace 2 business days)"),
    ([ON_TIME, TWO_DAYS, FIVE_OPEN], GRACE_2,
     "2 of 3 tasks due are on time (grace 2 business days); 1 late by 3+ business days (up to 5 business days)"),
    ([FIVE_OPEN, FIVE_OPEN], GRACE_2,
     "0 of 2 tasks due are on time (grace 2 business days); 2 late by 3+ business days (up to 5 business days)"),
    ([ON_TIME, ONE_DAY], Lateness(grace_business_days=1, full_penalty_business_days=5),
     "2 of 2 tasks due are on time (grace 1 business day)"),
    ([ON_TIME, ONE_DAY], Lateness(grace_business_days=0, full_penalty_business_days=5),
     "1 of 2 tasks due is on time (grace 0 business days); 1 late by 1+ business days (up to 1 business day)"),
    # a card without lateness (version 1): strict, calendar days
    ([ON_TIME, ONE_DAY, FIVE_OPEN], None, "1 of 3 tasks due is on time; 2 late (up to 7 days)"),
    ([ON_TIME], None, "1 of 1 task due is on time"),
])
def test_on_time_words(tasks, lateness, words) -> None:
    assert on_time_words(tasks, lateness) == words


def _factor(metric: str, lateness: Lateness | None) -> Factor:
    return Factor(name=metric, metric=metric, lateness=lateness, aggregate="latest", window_days=30, weight=1,
                  curve=[(0, 0), (1, 100)])


@pytest.mark.parametrize(("metric", "lateness", "words"), [
    ("plan_on_time", GRACE_2, "2 of 3 tasks due are on time (grace 2 business days); 1 late by 3+ business days "
                              "(up to 5 business days)"),
    ("tasks_overdue", GRACE_2, "1 open task more than 2 business days late"),
    ("tasks_overdue", None, "2 open tasks past due"),
])
def test_the_factor_detail_is_the_plan_card_s_words(metric, lateness, words) -> None:
    tasks = [ON_TIME, TWO_DAYS, FIVE_OPEN] if metric == "plan_on_time" else [ON_TIME, ONE_DAY, FIVE_OPEN]
    assert plan_detail(_factor(metric, lateness), tasks) == words
    if metric == "plan_on_time":
        assert words == on_time_words(tasks, lateness)


@pytest.mark.parametrize(("segment", "grace"), [("smb", 2), ("enterprise", 2), (None, 2), ("unheard of", 2)])
def test_the_plan_card_takes_the_grace_of_the_onboarding_card(segment, grace) -> None:
    lateness = plan_lateness(load_scorecards(PROJECT_ROOT / "templates" / "scorecards"), segment=segment)
    assert lateness is not None and lateness.grace_business_days == grace


def test_no_card_weighing_the_plan_means_strict_words() -> None:
    adopted = [c for c in load_scorecards(PROJECT_ROOT / "templates" / "scorecards") if c.stage == "adopted"]
    assert plan_lateness(adopted, segment="smb") is None
