"""What journey writes to a CRM record, and whether a write is needed. Pure: plain dataclasses in, dicts out.

`journey_values` is the whole of "what an account looks like from the CRM": health score, band and trend,
plan status and on-time percentage, go-live, next review, packet status, objectives, last review, owners and
the link to the account page. `crm_properties` renames them with the mapping; `changed` keeps those that
differ from the last acknowledged write (a value that became empty is a change: it is written as a clear).
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from journey.onboarding.lifecycle import TaskOutcome, on_time_pct

TREND_POINTS = 5.0  # a score that moved less than this over 30 days is flat
TREND_DAYS = 30
OPEN_REVIEWS = frozenset({"proposed", "scheduled"})
CLOSED_TASKS = frozenset({"done", "skipped"})


@dataclass(frozen=True)
class ReviewFact:
    kind: str
    status: str
    due_on: date
    starts_at: datetime | None = None
    held_at: datetime | None = None


@dataclass(frozen=True)
class JourneyFacts:
    """One journey as the CRM sees it: its status, plan tasks, packet state, reviews and objectives."""

    journey_id: int
    status: str  # active, paused, completed
    go_live: date | None = None
    tasks: Sequence[TaskOutcome] = ()
    packet_state: str | None = None
    reviews: Sequence[ReviewFact] = ()
    objectives: Sequence[str] = ()  # the status of each active objective (achieved = met)


@dataclass(frozen=True)
class AccountFacts:
    """An account's share of the values: health now and 30 days ago, owners, the page's link."""

    account_id: int
    score: float | None = None
    band: str | None = None
    score_30_days_ago: float | None = None
    csm_email: str | None = None
    am_email: str | None = None
    url: str | None = None
    journeys: Mapping[int, JourneyFacts] = field(default_factory=dict)  # by deal id


def trend(now: float | None, before: float | None) -> str | None:
    """up / flat / down over 30 days; None without both scores."""
    if now is None or before is None:
        return None
    if now - before >= TREND_POINTS:
        return "up"
    if before - now >= TREND_POINTS:
        return "down"
    return "flat"


def plan_status(journey: JourneyFacts, today: date) -> str | None:
    """paused, done (every task closed, or the journey completed), late (an open task past due), on_time."""
    if journey.status == "paused":
        return "paused"
    if not journey.tasks:
        return "done" if journey.status == "completed" else None
    if journey.status == "completed" or all(str(t.status) in CLOSED_TASKS for t in journey.tasks):
        return "done"
    if any(str(t.status) not in CLOSED_TASKS and t.due_on < today for t in journey.tasks):
        return "late"
    return "on_time"


def next_review(reviews: Sequence[ReviewFact], today: date) -> ReviewFact | None:
    upcoming = [r for r in reviews if r.status in OPEN_REVIEWS and
                (r.starts_at.date() if r.starts_at else r.due_on) >= today]
    return min(upcoming, key=lambda r: (r.starts_at.date() if r.starts_at else r.due_on), default=None)


def journey_values(account: AccountFacts, deal_id: int | None, *, now: datetime) -> dict[str, Any]:
    """Every value journey writes, by its journey name (see write_mapping.VALUES); None = empty in the CRM.

    `deal_id`: the deal written to, whose journey gives the plan, packet and reviews (None: the company,
    which shows the account's latest journey).
    """
    today = now.date()
    if deal_id is None:
        journey = max(account.journeys.values(), key=lambda j: j.journey_id, default=None)
    else:
        journey = account.journeys.get(deal_id)
    values: dict[str, Any] = {
        "health_score": None if account.score is None else int(round(account.score)),
        "health_band": account.band, "health_trend": trend(account.score, account.score_30_days_ago),
        "csm_email": account.csm_email, "am_email": account.am_email, "url": account.url,
        "plan_status": None, "plan_on_time_pct": None, "go_live_date": None, "next_review_date": None,
        "next_review_kind": None, "packet_status": None, "objectives_met": None, "last_review_date": None}
    if journey is None:
        return values
    upcoming = next_review(journey.reviews, today)
    held = [r.held_at for r in journey.reviews if r.held_at is not None]
    pct = on_time_pct(journey.tasks, today)
    values.update({
        "plan_status": plan_status(journey, today),
        "plan_on_time_pct": None if pct is None else int(round(pct)),
        "go_live_date": journey.go_live.isoformat() if journey.go_live else None,
        "next_review_date": _review_day(upcoming).isoformat() if upcoming else None,
        "next_review_kind": upcoming.kind if upcoming else None,
        "packet_status": journey.packet_state,
        "objectives_met": (f"{sum(s == 'achieved' for s in journey.objectives)}/{len(journey.objectives)}"
                           if journey.objectives else None),
        "last_review_date": max(held).date().isoformat() if held else None})
    return values


def _review_day(review: ReviewFact) -> date:
    return review.starts_at.date() if review.starts_at else review.due_on


def crm_properties(values: Mapping[str, Any], fields: Mapping[str, str]) -> dict[str, Any]:
    """The values under their CRM property names; values the mapping turns off are left out."""
    return {prop: values.get(name) for name, prop in fields.items()}


def changed(properties: Mapping[str, Any], sent: Mapping[str, Any]) -> dict[str, Any]:
    """The properties whose value differs from the last acknowledged write; never-written ones count too."""
    missing = object()
    return {prop: value for prop, value in properties.items() if sent.get(prop, missing) != value}


def due_at(now: datetime, *, acked_at: datetime | None, min_interval: float) -> datetime:
    """When a change may be written: now, or `min_interval` seconds after the last acknowledged write."""
    if acked_at is None:
        return now
    return max(now, acked_at + timedelta(seconds=min_interval))


def backoff(attempts: int, retry_after: float | None = None) -> timedelta:
    """1, 2, 4 ... minutes, at most an hour; at least the CRM's Retry-After."""
    wait = min(timedelta(minutes=2 ** max(0, attempts - 1)), timedelta(hours=1))
    return max(wait, timedelta(seconds=retry_after)) if retry_after else wait


def same(a: Any, b: Any) -> bool:
    """Equal as a CRM shows them: empty is None, numbers by value ("72.0" is 72), the rest as text."""
    if a in (None, "") or b in (None, ""):
        return a in (None, "") and b in (None, "")
    try:
        return float(a) == float(b)
    except (TypeError, ValueError):
        return str(a) == str(b)


def edited(seen: Mapping[str, Any], sent: Mapping[str, Any]) -> dict[str, Any]:
    """journey's properties whose value in the CRM is not what journey last wrote there."""
    return {prop: value for prop, value in seen.items() if prop in sent and not same(value, sent[prop])}
