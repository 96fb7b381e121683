"""The health score, computed by hand: weights, curves, thresholds, missing inputs, bands, the top cost."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from journey.config import PROJECT_ROOT
from journey.health.domain import (
    HistoryPoint,
    SignalPoint,
    factor_score,
    lifecycle_stage,
    score,
    score_summaries,
    summarise,
    trend,
)
from journey.health.explanation import explain
from journey.health.scorecards import Scorecard, load_scorecards

NOW = datetime(2027, 3, 1, 12, tzinfo=UTC)
CARD = Scorecard.model_validate({
    "name": "test", "version": 3, "stage": "adopted",
    "bands": [{"name": "red", "below": 50}, {"name": "yellow", "below": 75}, {"name": "green"}],
    "groups": [
        {"name": "A", "weight": 60, "factors": [
            {"name": "f1", "metric": "x", "aggregate": "latest", "window_days": 30, "weight": 1,
             "curve": [[0, 0], [10, 100]]},
            {"name": "f2", "metric": "y", "aggregate": "mean", "window_days": 7, "weight": 3,
             "thresholds": [{"below": 5, "points": 100}, {"points": 20}]}]},
        {"name": "B", "weight": 40, "factors": [
            {"name": "f3", "metric": "z", "per": "w", "aggregate": "latest", "window_days": 30, "weight": 1,
             "curve": [[0, 0], [1, 100]]}]}]})


def sig(metric: str, value: float, days_ago: float = 0) -> SignalPoint:
    return SignalPoint(metric, value, NOW - timedelta(days=days_ago))


BASE = [sig("x", 5, 1), sig("y", 2, 1), sig("y", 4, 2), sig("z", 30, 1), sig("w", 40, 3)]


@pytest.mark.parametrize(("signals", "expected_score", "band", "points", "missing", "top"), [
    # f1: 15 % x 50 = 7.5; f2: 45 % x 100 (mean 3 < 5) = 45; f3: 40 % x 75 (30/40) = 30
    (BASE, 82.5, "green", {"f1": 7.5, "f2": 45, "f3": 30}, (), "f3"),
    # y only 8+ days old: f2 missing, f1 takes group A's 60 %: 60 x 50 % = 30; f3 30
    ([sig("x", 5, 1), sig("y", 2, 8), sig("z", 30, 1), sig("w", 40, 3)], 60, "yellow",
     {"f1": 30, "f2": 0, "f3": 30}, ("f2",), "f1"),
    # no denominator w: group B drops, A takes 100 %: f1 25 x 50 % = 12.5, f2 75
    ([sig("x", 5, 1), sig("y", 2, 1), sig("z", 30, 1)], 87.5, "green", {"f1": 12.5, "f2": 75, "f3": 0}, ("f3",),
     "f1"),
    # mean y = 6: f2 scores 20 -> 9; x 10 -> f1 15; z/w = 0.2 -> f3 8
    ([sig("x", 10, 0), sig("y", 6, 1), sig("z", 8, 1), sig("w", 40, 1)], 32, "red", {"f1": 15, "f2": 9, "f3": 8},
     (), "f2"),
    # x stale (31 days) is missing; x beyond the curve's end would be clamped to 100
    ([sig("x", 50, 31), sig("y", 1, 1), sig("z", 40, 1), sig("w", 40, 1)], 100, "green",
     {"f1": 0, "f2": 60, "f3": 40}, ("f1",), None),
    # f1 alone carries 15 % of the card's weight, below its half: a provisional 100, band unknown
    ([sig("x", 50, 0)], 100, "unknown", {"f1": 100, "f2": 0, "f3": 0}, ("f2", "f3"), None),
    ([], 0, "unknown", {"f1": 0, "f2": 0, "f3": 0}, ("f1", "f2", "f3"), None),
    # a signal from the future (clock skew) is not counted yet
    ([sig("x", 0, -1), sig("x", 10, 2)], 100, "unknown", {"f1": 100, "f2": 0, "f3": 0}, ("f2", "f3"), None),
])
def test_score_by_hand(signals, expected_score, band, points, missing, top) -> None:
    result = score(signals, CARD, NOW)
    assert result.score == pytest.approx(expected_score)
    assert result.band == band
    assert {c.factor: round(c.points, 6) for c in result.contributions} == pytest.approx(points)
    assert result.missing == missing
    assert (result.top_cost.factor if result.top_cost else None) == top
    assert (result.scorecard, result.scorecard_version) == ("test", 3)


@pytest.mark.parametrize(("score_value", "band"), [(0, "red"), (49.99, "red"), (50, "yellow"), (74.9, "yellow"),
                                                   (75, "green"), (100, "green")])
def test_band_boundaries(score_value, band) -> None:
    from journey.health.domain import band_for

    assert band_for(CARD, score_value) == band


@pytest.mark.parametrize(("aggregate", "values_days", "expected"), [
    ("latest", [(1, 5), (9, 1)], 9), ("mean", [(1, 5), (9, 1), (100, 40)], 5), ("min", [(1, 5), (9, 1)], 1),
    ("max", [(1, 5), (9, 1)], 9), ("sum", [(1, 5), (9, 1)], 10), ("count", [(1, 5), (9, 1), (3, 31)], 2),
    ("count", [], 0), ("days_since_last", [(1, 12.5), (1, 40)], 12.5),
])
def test_aggregates(aggregate, values_days, expected) -> None:
    from journey.health.domain import factor_value

    card = Scorecard.model_validate({
        "name": "agg", "version": 1, "stage": "adopted", "bands": [{"name": "any"}],
        "groups": [{"name": "g", "weight": 1, "factors": [
            {"name": "f", "metric": "m", "aggregate": aggregate, "window_days": 30, "weight": 1,
             "curve": [[0, 0], [1, 100]]}]}]})
    summaries = summarise([sig("m", v, d) for v, d in values_days], windows={30}, now=NOW)
    assert factor_value(card.factors[0], summaries, NOW) == pytest.approx(expected)


def test_explanation_names_the_costliest_factor_and_the_missing_ones() -> None:
    text = explain(score([sig("x", 5, 1), sig("y", 2, 8), sig("z", 30, 1), sig("w", 40, 3)], CARD, NOW))
    assert text == ("60/100 (yellow); F1: 5 — 30 of 60 points lost; "
                    "No y recorded yet (send it with POST /api/signals or journey import signals); "
                    "inputs without data weigh nothing yet: their weight is spread over the others")


def test_trend_compares_with_the_score_of_that_day_or_the_one_before() -> None:
    today = NOW.date()
    history = [HistoryPoint(today - timedelta(days=d), s, "x") for d, s in [(40, 90), (31, 80), (8, 70), (7, 60)]]
    assert trend(history, today=today, current=55, days=7) == -5
    assert trend(history, today=today, current=55, days=30) == -25
    assert trend(history, today=today, current=55, days=90) is None


@pytest.mark.parametrize(("reached", "days_since_signature", "stage"), [
    (False, 10, "onboarding"), (True, 10, "adopted"), (False, 200, "adopted"), (False, None, "adopted")])
def test_lifecycle_stage(reached, days_since_signature, stage) -> None:
    signed = None if days_since_signature is None else NOW.date() - timedelta(days=days_since_signature)
    assert lifecycle_stage(value_reached=reached, signed_on=signed, today=NOW.date()) == stage


# ----------------------------------------------------------------------------------------- properties
SHIPPED = load_scorecards(PROJECT_ROOT / "templates" / "scorecards")
CARDS = {c.name: c for c in (CARD, *SHIPPED)}
BIG = 1e7  # beyond every generated value and every curve's or threshold's end
assert {"default_adopted", "default_onboarding", "enterprise_adopted"} <= set(CARDS)


def signal_lists(card: Scorecard) -> st.SearchStrategy[list[SignalPoint]]:
    """Signals of the card's metrics (and one it ignores) over the past 400 days and up to 2 days ahead
    (clock skew), never exactly at NOW. Denominators (`per`) are positive, as seats are."""
    per = {f.per for f in card.factors if f.per}
    days = st.floats(-2, 400).filter(lambda d: d != 0)

    def one(metric: str) -> st.SearchStrategy[SignalPoint]:
        values = st.floats(1, 1e6) if metric in per else st.floats(-1e6, 1e6, allow_nan=False)
        return st.builds(sig, st.just(metric), values, days)

    return st.lists(st.sampled_from(sorted(card.metrics | {"other"})).flatmap(one), max_size=30)


@pytest.mark.parametrize("card", CARDS.values(), ids=CARDS)
@given(data=st.data())
@settings(max_examples=150, deadline=None)
def test_score_is_between_0_and_100_and_is_the_sum_of_points(card, data) -> None:
    result = score(data.draw(signal_lists(card)), card, NOW)
    assert 0 <= result.score <= 100
    if len(result.missing) < len(card.factors):
        assert sum(c.points for c in result.contributions) == pytest.approx(result.score, abs=1e-6)


@pytest.mark.parametrize("card", CARDS.values(), ids=CARDS)
@given(data=st.data())
@settings(max_examples=150, deadline=None)
def test_weights_of_present_factors_renormalise_to_100_percent(card, data) -> None:
    result = score(data.draw(signal_lists(card)), card, NOW)
    present = [c for c in result.contributions if c.factor_score is not None]
    assert sum(c.nominal_weight for c in result.contributions) == pytest.approx(100)
    if present:
        assert sum(c.weight for c in present) == pytest.approx(100)
    assert all(c.weight == 0 for c in result.contributions if c.factor_score is None)


def good_signal(card: Scorecard, metric: str) -> SignalPoint | None:
    """A signal of `metric` that can only help: the newest (at NOW, after every generated one), at the end
    (+BIG or -BIG) where every factor reading the metric is best and scores 100. That holds for a factor
    whose score is monotone in its value, for every aggregate but a count that the factor wants low: a
    latest value becomes the best one, a mean / min / max / sum moves toward the best end, the days since
    the last one drop to 0. None when no such value exists (the metric is a denominator, or its factors
    pull in opposite directions)."""
    factors = [f for f in card.factors if f.metric == metric]
    if not factors or any(f.per == metric for f in card.factors):
        return None
    ends = set()
    for f in factors:
        xs = sorted({-BIG, BIG, *(x for x, _ in f.curve), *(t.below for t in f.thresholds if t.below is not None)})
        ys = [factor_score(f, x) for x in xs]
        if ys != sorted(ys) and ys != sorted(ys, reverse=True):
            return None  # not monotone
        up = ys[-1] >= ys[0]
        if f.aggregate == "days_since_last":
            if up:
                return None  # wants old signals: a new one can hurt
            continue
        if f.aggregate == "count" and not up:
            return None
        if max(ys) != 100:
            return None
        ends.add(BIG if up else -BIG)
    if len(ends) > 1:
        return None
    return sig(metric, ends.pop() if ends else 1.0, 0)


GOOD = {name: {m: g for m in card.metrics if (g := good_signal(card, m)) is not None} for name, card in CARDS.items()}


def test_each_card_has_good_signals_to_add() -> None:
    assert set(GOOD["test"]) == {"x", "y", "z"}  # w is a denominator: more of it lowers f3
    for name in ("default_adopted", "default_onboarding", "enterprise_adopted"):
        assert len(GOOD[name]) >= 5, (name, sorted(GOOD[name]))


@pytest.mark.parametrize("card", CARDS.values(), ids=CARDS)
@given(data=st.data())
@settings(max_examples=150, deadline=None)
def test_adding_a_good_signal_never_lowers_the_score(card, data) -> None:
    signals = data.draw(signal_lists(card))
    good = GOOD[card.name][data.draw(st.sampled_from(sorted(GOOD[card.name])))]
    before = score(signals, card, NOW)
    after = score([*signals, good], card, NOW)
    assert after.score >= before.score - 1e-9, (good, before, after)


def test_summaries_from_sql_shape_score_the_same_as_raw_signals() -> None:
    summaries = summarise(BASE, windows=CARD.windows, now=NOW)
    assert score_summaries(summaries, CARD, NOW) == score(BASE, CARD, NOW)
