"""Alerts for states that last (pure rule): red for N days, an escalation open for N days, said with since
when and why."""
from __future__ import annotations

from datetime import date

import pytest

from journey.expansion.domain import RiskPolicy, RiskState, UnresolvedPolicy, top_costs, unresolved_risk

TODAY = date(2026, 11, 21)
POLICY = RiskPolicy()


def state(**over: object) -> RiskState:
    base = {"name": "Acme", "band": "red", "score": 31.0, "band_since": date(2026, 11, 12),
            "escalation_since": date(2026, 11, 14), "costs": (("NPS", "-20"),)}
    return RiskState(**(base | over))  # type: ignore[arg-type]


@pytest.mark.parametrize(("over", "reason"), [
    ({}, "Acme: red since 2026-11-12 (9 days): escalation open since 2026-11-14 (7 days), NPS -20."),
    ({"escalation_since": None}, "Acme: red since 2026-11-12 (9 days): NPS -20."),
    ({"escalation_since": None, "costs": ()}, "Acme: red since 2026-11-12 (9 days)."),
    ({"band": "yellow", "score": 62.0, "escalation_since": date(2026, 11, 18)},
     "Acme: escalation open since 2026-11-18 (3 days); health 62/100 (yellow); costs the most: NPS -20."),
    ({"band": None, "score": None, "band_since": None, "costs": ()},
     "Acme: escalation open since 2026-11-14 (7 days); no health score yet."),
    # red for 2 days only, but the escalation has been open for 7: alert, saying both
    ({"band_since": date(2026, 11, 19)},
     "Acme: red since 2026-11-19 (2 days): escalation open since 2026-11-14 (7 days), NPS -20."),
])
def test_a_lasting_state_alerts_with_since_when_and_why(over: dict, reason: str) -> None:
    alert = unresolved_risk(state(**over), today=TODAY, policy=POLICY)
    assert alert is not None and alert.kind == "risk.unresolved"
    assert alert.reason == reason


@pytest.mark.parametrize("over", [
    {"band_since": date(2026, 11, 15), "escalation_since": None},  # red for 6 days
    {"band": "yellow", "escalation_since": date(2026, 11, 19)},  # escalation open for 2 days
    {"band": "green", "escalation_since": None},
    {"band": "red", "band_since": None, "escalation_since": None},
])
def test_not_yet_or_nothing_to_say(over: dict) -> None:
    assert unresolved_risk(state(**over), today=TODAY, policy=POLICY) is None


def test_the_thresholds_come_from_the_policy() -> None:
    strict = RiskPolicy(unresolved=UnresolvedPolicy(red_days=3, escalation_days=10))
    assert unresolved_risk(state(band_since=date(2026, 11, 18), escalation_since=None), today=TODAY,
                           policy=strict) is not None
    assert unresolved_risk(state(band="yellow"), today=TODAY, policy=strict) is None  # escalation 7 < 10 days


def test_the_costliest_factors_name_their_label_and_value_in_its_unit() -> None:
    contributions = [
        {"factor": "nps", "metric": "nps", "value": -20, "weight": 10, "points": 2},
        {"factor": "escalation", "metric": "escalation_open", "value": 1, "weight": 12, "points": 0},
        {"factor": "seat_utilisation", "metric": "active_users", "value": 0.3, "weight": 20, "points": 5},
        {"factor": "csat", "metric": "csat", "value": 5, "weight": 10, "points": 10},
        {"factor": "adoption", "metric": "feature_adoption", "value": None, "weight": 0, "points": 0},
    ]
    assert top_costs(contributions) == (("Seat utilisation", "30 %"), ("NPS", "-20"))
