"""An account's health score: computed set-based for a batch of accounts (`score_batch`), and read back with
its history, trends and explanation (`account_health`). Reads only: storing scores and raising alerts is
the callers' (`health.service.recompute`, `evaluation.service`)."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from journey.calendar import calendar_for
from journey.config import get_settings
from journey.health import domain, explanation, metric_repository, overrides, plan, records, repository
from journey.health.scorecards import Scorecard, load_scorecards, scorecard_for


@dataclass(frozen=True)
class ScoreChange:
    account_id: int
    old_score: float | None
    old_band: str | None
    new: domain.HealthResult


@lru_cache(maxsize=4)
def _cards(directory: Path) -> tuple[Scorecard, ...]:
    return tuple(load_scorecards(directory))


def all_scorecards() -> tuple[Scorecard, ...]:
    return _cards(get_settings().templates_dir / "scorecards")


def band_names() -> list[str]:
    """The bands an override may set: those the scorecards name."""
    return sorted({b.name for c in all_scorecards() for b in c.bands})


def score_batch(session: Session, *, account_ids: Sequence[int], now: datetime,
                cards: Sequence[Scorecard]) -> dict[int, tuple[str, domain.HealthResult]]:
    """(stage, result) per account, from inputs read in a handful of set-based queries for the whole batch."""
    today = now.date()
    facts = repository.account_facts(session, account_ids)
    metrics = set().union(*(c.metrics for c in cards))
    windows = set().union(*(c.windows for c in cards))
    factors = [f for c in cards for f in c.factors]
    windowed = [f for f in factors if f.aggregate not in ("latest", "days_since_last")]
    window_metrics: dict[str, set[int]] = {}
    for f in windowed:
        window_metrics.setdefault(f.metric, set()).add(f.window_days)
    summaries = metric_repository.metric_summaries(
        session, account_ids, metrics=metrics, now=now, horizon_days=max(windows),
        windows={f.window_days for f in windowed}, window_metrics=window_metrics,
        stale_metrics={f.metric for f in factors if f.aggregate == "days_since_last"},
        extremes=any(f.aggregate in ("min", "max") for f in factors))
    internal: dict[int, dict[str, float]] = {}
    for part in (repository.packet_signals(session, account_ids),
                 repository.review_signals(session, account_ids, today),
                 repository.objective_signals(session, account_ids), repository.deal_seats(session, account_ids)):
        for account_id, values in part.items():
            internal.setdefault(account_id, {}).update(values)
    tasks = repository.plan_tasks(session, account_ids, today)
    meetings = repository.last_meetings(session, account_ids, now) if "meeting" in metrics else {}
    results: dict[int, tuple[str, domain.HealthResult]] = {}
    card_of: dict[tuple[str | None, str], Scorecard] = {}  # a handful of (segment, stage) pairs per batch
    for account_id, fact in facts.items():
        inputs = dict(summaries.get(account_id, {}))
        for metric, value in internal.get(account_id, {}).items():
            inputs.setdefault(metric, domain.MetricSummary.point(value, now, windows))  # a sent signal wins
        met = meetings.get(account_id)
        if met is not None and ("meeting" not in inputs or inputs["meeting"].last_at < met):  # the latest wins
            inputs["meeting"] = domain.MetricSummary.point(1.0, met, windows, now=now)
        mine = tasks.get(account_id, ())
        due = plan.due_tasks(mine, today=today, calendar=calendar_for(fact["region"], fact["timezone"])) if mine else ()
        stage = domain.lifecycle_stage(value_reached=fact["value_reached"], signed_on=fact["signed_on"], today=today)
        card = card_of.get((fact["segment"], stage))
        if card is None:
            card = card_of[(fact["segment"], stage)] = scorecard_for(cards, segment=fact["segment"], stage=stage)
        results[account_id] = (stage, domain.score_summaries(inputs, card, now, due))
    return results


def plan_on_time_words(session: Session, *, account_id: int, today: Any) -> str | None:
    """The account's plan punctuality in the words of its `plan_on_time` factor ("7 of 9 tasks due are on
    time (grace 2 business days); ..."), from the same tasks and grace; None before any task is due."""
    fact = repository.account_facts(session, [account_id]).get(account_id)
    if fact is None:
        return None
    due = plan.due_tasks(repository.plan_tasks(session, [account_id], today).get(account_id, ()), today=today,
                         calendar=calendar_for(fact["region"], fact["timezone"]))
    return plan.on_time_words(due, plan.plan_lateness(all_scorecards(), segment=fact["segment"])) if due else None


def account_health(session: Session, *, account_id: int, now: datetime) -> dict[str, Any]:
    """The stored score with its history and trends; computed on the spot (not stored) if never scored.

    `band` is the band in force (an override's while it holds), `computed_band` the scorecard's;
    `provisional` while too little data is in; `changes_since` what moved since a week ago, from history."""
    stored = repository.stored_score(session, account_id)
    if stored is None:
        stage, result = score_batch(session, account_ids=[account_id], now=now, cards=all_scorecards())[account_id]
        current = records.score_row(account_id, stage, result, result.band, None, now)
        current.pop("account_id")
    else:
        current = {k: getattr(stored, k) for k in ("score", "band", "computed_band", "scorecard", "scorecard_version",
                                                   "stage", "computed_at", "contributions", "missing", "missing_inputs",
                                                   "evidence", "min_evidence", "top_cost_factor")}
        result = explanation.result_of(stored)
    override = overrides.current(session, account_id=account_id, now=now)
    current |= {"stored": stored is not None, "computed_band": result.band, "provisional": result.provisional,
                "band": override.band if override else result.band,
                "override": None if override is None else {"band": override.band, "reason": override.reason,
                                                           "set_by": override.set_by, "set_at": override.set_at,
                                                           "expires_on": override.expires_on}}
    today = now.date()
    history = repository.history(session, account_id, since=today - timedelta(days=90))
    current["history"] = [{"on": h.on, "score": h.score, "band": h.band, "changes": list(h.changes)} for h in history]
    current["trend"] = {"7d": domain.trend(history, today=today, current=current["score"], days=7),
                        "30d": domain.trend(history, today=today, current=current["score"], days=30)}
    current["changes_since"] = _changes_since(session, account_id, result, today - timedelta(days=7))
    lines = [explanation.explain(result, override=override)]
    if current["changes_since"] is not None:
        lines.append(explanation.since_sentence(current["changes_since"]["since"], [
            domain.FactorChange(c["factor"], c["from"], c["to"], c["points_delta"])
            for c in current["changes_since"]["changes"]]))
    current["explanation"] = "; ".join(lines)
    return current


def _changes_since(session: Session, account_id: int, result: domain.HealthResult, day: Any) -> dict[str, Any] | None:
    """What moved between the stored factors of `day` (or the last scored day before it) and now."""
    then = repository.factors_before(session, [account_id], day, inclusive=True).get(account_id)
    if then is None:
        return None
    moved = domain.factor_changes(then[1], records.stored_factors(result))
    return {"since": then[0], "changes": [records.change_dict(c) for c in moved]}


# ------------------------------------------------------------------------------------------ back-test
