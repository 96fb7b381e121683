"""Expansion reminders for the AM and risk alerts for the CSM: pure rules, `today` passed in.

Rules come from YAML (templates/reminders/). An expansion rule fires when its condition holds and the
account is not held back (red, an open escalation, the CSM's do-not-contact); each trigger carries the
reason as a sentence with the numbers and a `period` that makes it unique (the day for cool-down rules,
the review for a review, the contract end for a renewal).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from journey.health import wording
from journey.health.scorecards import load_yaml_model


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class HoldBack(_Spec):
    bands: tuple[str, ...] = ("red",)
    open_escalation: bool = True
    do_not_contact: bool = True


class Rule(_Spec):
    name: str = Field(min_length=1, max_length=64, pattern=r"^[a-z0-9_]+$")
    when: Literal["objectives_achieved", "seat_utilisation", "review_upcoming", "renewal_window"]
    bands: tuple[str, ...] = ()  # empty: any band not held back
    cooldown_days: int = Field(default=30, ge=0)
    min_progress: float = Field(default=1.0, gt=0, le=1)
    threshold: float = Field(default=0.9, gt=0)
    for_days: int = Field(default=30, ge=1, le=365)
    within_days: int = Field(default=21, ge=1)
    days_before: int = Field(default=120, ge=1)
    channels: tuple[Literal["email", "slack"], ...] = ("email",)


class UnresolvedPolicy(_Spec):
    """A state that lasts, not a change: red for `red_days`, or an escalation open for `escalation_days`."""

    red_days: int = Field(default=7, ge=1)
    escalation_days: int = Field(default=3, ge=1)
    cooldown_days: int = Field(default=7, ge=0)


class RiskPolicy(_Spec):
    turns_red: bool = True
    red_band: str = "red"
    drop_points: float = Field(default=15, gt=0)
    drop_days: int = Field(default=7, ge=1)
    cooldown_days: int = Field(default=7, ge=0)
    channels: tuple[Literal["email", "slack"], ...] = ("email", "slack")
    unresolved: UnresolvedPolicy = UnresolvedPolicy()


class ReminderRules(_Spec):
    version: int = Field(ge=1)
    hold_back: HoldBack = HoldBack()
    rules: tuple[Rule, ...] = ()
    risk: RiskPolicy = RiskPolicy()


def load_rules(path: Path) -> ReminderRules:
    return load_yaml_model(path, ReminderRules, "reminder rules file")


@dataclass(frozen=True)
class UpcomingReview:
    id: int
    kind: str
    title: str
    due_on: date


@dataclass(frozen=True)
class AccountState:
    account_id: int
    name: str
    band: str | None
    score: float | None
    escalation_open: bool = False
    do_not_contact: bool = False
    objective_progress: float | None = None
    objectives: int = 0
    seats: float | None = None
    min_active_users: float | None = None  # lowest over the longest seat rule's period, if covered
    covered_days: int = 0
    next_review: UpcomingReview | None = None
    contract_end: date | None = None


@dataclass(frozen=True)
class Trigger:
    rule: Rule
    period: str
    reason: str
    details: dict[str, Any] = field(default_factory=dict)
    cooldown: bool = True  # False when `period` already makes it once-only (a review, a contract end)


def hold_reason(state: AccountState, hold: HoldBack) -> str | None:
    if state.band is None:
        return "no health score yet"
    if state.band in hold.bands:
        return f"health is {state.band} ({state.score:.0f}/100)"
    if hold.open_escalation and state.escalation_open:
        return "an escalation is open"
    if hold.do_not_contact and state.do_not_contact:
        return "the CSM marked it do-not-contact"
    return None


def triggers(state: AccountState, rules: ReminderRules, today: date) -> list[Trigger]:
    """The rules that fire for this account today (none while it is held back)."""
    if hold_reason(state, rules.hold_back) is not None:
        return []
    fired = []
    for rule in rules.rules:
        if rule.bands and state.band not in rule.bands:
            continue
        trigger = _CHECKS[rule.when](rule, state, today)
        if trigger is not None:
            fired.append(trigger)
    return fired


def _health(state: AccountState) -> str:
    return f"health {state.score:.0f}/100 ({state.band})"


def _objectives(rule: Rule, s: AccountState, today: date) -> Trigger | None:
    if s.objective_progress is None or s.objective_progress < rule.min_progress:
        return None
    reason = (f"{s.name}: objectives at {s.objective_progress:.0%} of target"
              f"{f' across {s.objectives} objective(s)' if s.objectives else ''} and {_health(s)}: "
              "time to talk about the next step.")
    return Trigger(rule, today.isoformat(), reason, {"objective_progress": s.objective_progress, "score": s.score})


def _seats(rule: Rule, s: AccountState, today: date) -> Trigger | None:
    if not s.seats or s.min_active_users is None or s.covered_days < rule.for_days:
        return None
    utilisation = s.min_active_users / s.seats
    if utilisation < rule.threshold:
        return None
    reason = (f"{s.name}: at least {s.min_active_users:.0f} of {s.seats:.0f} seats in use every day for "
              f"{rule.for_days} days ({utilisation:.0%}, threshold {rule.threshold:.0%}); {_health(s)}.")
    return Trigger(rule, today.isoformat(), reason, {"utilisation": round(utilisation, 4), "seats": s.seats})


def _review(rule: Rule, s: AccountState, today: date) -> Trigger | None:
    review = s.next_review
    if review is None or not today <= review.due_on <= today + timedelta(days=rule.within_days):
        return None
    days = (review.due_on - today).days
    reason = (f"{s.name}: {review.title} is due on {review.due_on.isoformat()} (in {days} days); "
              f"prepare the expansion discussion, {_health(s)}.")
    return Trigger(rule, f"review-{review.id}", reason, {"review_id": review.id, "due_on": review.due_on.isoformat()},
                   cooldown=False)


def _renewal(rule: Rule, s: AccountState, today: date) -> Trigger | None:
    end = s.contract_end
    if end is None or not end - timedelta(days=rule.days_before) <= today <= end:
        return None
    reason = (f"{s.name}: the contract ends on {end.isoformat()} ({(end - today).days} days from now); the "
              f"{rule.days_before}-day renewal window is open, {_health(s)}.")
    return Trigger(rule, f"renewal-{end.isoformat()}", reason, {"contract_end": end.isoformat()}, cooldown=False)


_CHECKS = {"objectives_achieved": _objectives, "seat_utilisation": _seats, "review_upcoming": _review,
           "renewal_window": _renewal}


# ----------------------------------------------------------------------------------------------- risk
@dataclass(frozen=True)
class RiskAlert:
    kind: str  # risk.turned_red, risk.dropped, risk.unresolved
    reason: str


def risk_alert(*, name: str, old_band: str | None, new_band: str, score: float,
               then: tuple[date, float] | None, today: date, top_factor: str | None,
               policy: RiskPolicy) -> RiskAlert | None:
    """Turned red (from another band) beats a fast drop; None when neither happened.

    `then` is the (day, score) the drop is measured from: `policy.drop_days` ago, or the last scored day
    before that (up to a week earlier), so the sentence names the real span."""
    why = f" Costs the most: {top_factor}." if top_factor else ""
    if policy.turns_red and new_band == policy.red_band and old_band not in (None, policy.red_band):
        return RiskAlert("risk.turned_red", f"{name} turned {new_band}: health {score:.0f}/100 "
                                            f"(was {old_band}).{why}")
    if then is not None and then[1] - score >= policy.drop_points:
        on, earlier = then
        return RiskAlert("risk.dropped", f"{name}: health fell {earlier - score:.0f} points in "
                                         f"{(today - on).days} days, from {earlier:.0f} on {on.isoformat()} "
                                         f"to {score:.0f}.{why}")
    return None


@dataclass(frozen=True)
class RiskState:
    """What the alert for a lasting state reads: the band and since when, the open escalation and since
    when, and the factors costing the most as (label, value), worst first."""

    name: str
    band: str | None
    score: float | None
    band_since: date | None
    escalation_since: date | None
    costs: tuple[tuple[str, str], ...] = ()  # (label, value in its unit)


def unresolved_risk(state: RiskState, *, today: date, policy: RiskPolicy) -> RiskAlert | None:
    """Red for `red_days` or an escalation open for `escalation_days`, said with since when and why:
    "Acme: red since 2026-11-12 (9 days): escalation open since 2026-11-14 (7 days), NPS -20."."""
    rule = policy.unresolved
    red = (today - state.band_since).days if state.band == policy.red_band and state.band_since else None
    escalated = (today - state.escalation_since).days if state.escalation_since else None
    if (red is None or red < rule.red_days) and (escalated is None or escalated < rule.escalation_days):
        return None
    why = [f"{label} {value}" for label, value in state.costs]
    if state.escalation_since is not None:
        why.insert(0, f"escalation open since {state.escalation_since.isoformat()} ({escalated} days)")
    if red is not None and state.band_since is not None:
        head = f"red since {state.band_since.isoformat()} ({red} days)"
        return RiskAlert("risk.unresolved", f"{state.name}: {head}{': ' + ', '.join(why) if why else ''}.")
    health = f"health {state.score:.0f}/100 ({state.band})" if state.score is not None else "no health score yet"
    return RiskAlert("risk.unresolved", f"{state.name}: {why[0]}; {health}"
                                        f"{'; costs the most: ' + ', '.join(why[1:]) if why[1:] else ''}.")


def top_costs(contributions: list[dict[str, Any]], *, n: int = 2) -> tuple[tuple[str, str], ...]:
    """The `n` factors of a stored score that cost the most points (an open escalation is said apart)."""
    costly = [c for c in contributions if c.get("metric") != "escalation_open" and c.get("value") is not None
              and c["weight"] - c["points"] > 0.05]
    costly.sort(key=lambda c: c["weight"] - c["points"], reverse=True)
    return tuple((c.get("label") or wording.factor_label(str(c["factor"])),
                  wording.value_words(c.get("unit") or wording.guess_unit(str(c["factor"]), str(c.get("metric"))),
                                      float(c["value"]))) for c in costly[:n])
