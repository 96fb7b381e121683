"""Use cases of health: take signals in, recompute scores set-based, read an account's health.

Everything here flushes and never commits; `journey.health.jobs` and the routes own the transactions.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from journey import audit
from journey.audit import Actor
from journey.config import get_settings
from journey.errors import InvalidInput
from journey.evaluation import repository as evaluation_repository
from journey.health import domain, repository
from journey.health.scorecards import Scorecard, load_scorecards, scorecard_for
from journey.models import TeamMember

INTERNAL_METRICS = frozenset({"plan_on_time", "tasks_overdue", "packet_completeness", "reviews_held",
                              "objective_progress"})


@lru_cache(maxsize=4)
def _cards(directory: Path) -> tuple[Scorecard, ...]:
    return tuple(load_scorecards(directory))


def all_scorecards() -> tuple[Scorecard, ...]:
    return _cards(get_settings().templates_dir / "scorecards")


@dataclass(frozen=True)
class ScoreChange:
    account_id: int
    old_score: float | None
    old_band: str | None
    new: domain.HealthResult


# ------------------------------------------------------------------------------------------ signals
@dataclass(frozen=True)
class SignalIn:
    id: str
    account: str
    metric: str
    value: float
    at: datetime


def record_signals(session: Session, *, items: Sequence[SignalIn], source: str, now: datetime,
                   actor: Actor, member: TeamMember | None = None, rescore: bool = True) -> dict[str, Any]:
    """Store signals (a known id is ignored), then rescore the accounts they touched, or, with
    `rescore=False`, put them on the evaluate-on-change work list (`journey.evaluation`) for the caller
    or the sweep to evaluate; either way no signal is left unscored.

    With `member`, only accounts in the member's book are writable. Unknown accounts fail the whole
    batch with every bad item listed, so nothing half-lands and the batch can be resent as is.
    """
    found = repository.account_ids_by_ref(session, (i.account for i in items), member=member)
    unknown = [n for n, i in enumerate(items) if found.get(i.account) is None]
    if unknown:
        shown = ", ".join(f"items.{n} ({items[n].account})" for n in unknown[:10])
        raise InvalidInput(f"unknown account in {len(unknown)} item(s): {shown}")
    rows = [{"external_id": i.id, "account_id": found[i.account], "metric": i.metric, "value": i.value,
             "at": i.at, "source": source, "received_at": now} for i in items]
    accepted = sum(repository.insert_signals(session, chunk) for chunk in _chunks(rows, 1000))
    touched = sorted({r["account_id"] for r in rows})
    measured = _objective_progress(session, rows, actor=actor, now=now)
    if accepted:
        audit.record(session, actor=actor, action="signals.recorded", subject=source, accepted=accepted,
                     accounts=len(touched))
    changes = recompute(session, account_ids=touched, now=now, actor=actor) if rescore and accepted else []
    if accepted and not rescore:
        evaluation_repository.mark(session, touched, now=now)
    session.flush()
    return {"accepted": accepted, "duplicates": len(rows) - accepted, "accounts": len(touched),
            "recomputed": len(changes), "objective_measurements": measured, "account_ids": touched}


def _objective_progress(session: Session, rows: list[dict[str, Any]], *, actor: Actor, now: datetime) -> int:
    """Signals of a metric an objective names are that objective's measured progress (before rescoring)."""
    from journey.objectives import service as objectives_service

    points = [objectives_service.SignalPoint(ref=r["external_id"], account_id=r["account_id"], metric=r["metric"],
                                             value=r["value"], at=r["at"]) for r in rows]
    return objectives_service.record_signal_progress(session, signals=points, actor=actor, now=now)


def _chunks(rows: list[Any], size: int) -> list[list[Any]]:
    return [rows[i:i + size] for i in range(0, len(rows), size)]


# ---------------------------------------------------------------------------------------- recompute
def recompute(session: Session, *, account_ids: Sequence[int], now: datetime, actor: Actor,
              cards: Sequence[Scorecard] | None = None, alerts: bool = True) -> list[ScoreChange]:
    """Score a batch of accounts from one query per kind of input; store scores and today's history."""
    if not account_ids:
        return []
    scored = score_batch(session, account_ids=account_ids, now=now, cards=cards or all_scorecards())
    old = repository.scores_of(session, account_ids)
    changes = [ScoreChange(a, old[a].score if a in old else None, old[a].band if a in old else None, r)
               for a, (_, r) in scored.items()]
    repository.upsert_scores(session, [_score_row(a, stage, r, old.get(a), now) for a, (stage, r) in scored.items()])
    repository.upsert_history(session, [{"account_id": a, "day": now.date(), "score": round(r.score, 2),
                                         "band": r.band, "scorecard_version": r.scorecard_version}
                                        for a, (_, r) in scored.items()])
    for c in changes:
        if c.old_band is not None and c.old_band != c.new.band:
            audit.record(session, actor=actor, action="health.band_changed", account_id=c.account_id,
                         subject=f"{c.old_band} -> {c.new.band}", score=round(c.new.score, 1),
                         scorecard=f"{c.new.scorecard} v{c.new.scorecard_version}")
    if alerts:
        from journey.expansion import service as expansion_service

        expansion_service.raise_risk_alerts(session, changes=changes, now=now)
    session.flush()
    return changes


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
    summaries = repository.metric_summaries(
        session, account_ids, metrics=metrics, now=now, horizon_days=max(windows),
        windows={f.window_days for f in windowed}, window_metrics=window_metrics,
        stale_metrics={f.metric for f in factors if f.aggregate == "days_since_last"},
        extremes=any(f.aggregate in ("min", "max") for f in factors))
    internal: dict[int, dict[str, float]] = {}
    for part in (repository.plan_signals(session, account_ids, today), repository.packet_signals(session, account_ids),
                 repository.review_signals(session, account_ids, today),
                 repository.objective_signals(session, account_ids), repository.deal_seats(session, account_ids)):
        for account_id, values in part.items():
            internal.setdefault(account_id, {}).update(values)
    meetings = repository.last_meetings(session, account_ids, now) if "meeting" in metrics else {}
    results: dict[int, tuple[str, domain.HealthResult]] = {}
    for account_id, fact in facts.items():
        inputs = dict(summaries.get(account_id, {}))
        for metric, value in internal.get(account_id, {}).items():
            inputs.setdefault(metric, domain.MetricSummary.point(value, now, windows))  # a sent signal wins
        met = meetings.get(account_id)
        if met is not None and ("meeting" not in inputs or inputs["meeting"].last_at < met):  # the latest wins
            inputs["meeting"] = domain.MetricSummary.point(1.0, met, windows, now=now)
        stage = domain.lifecycle_stage(value_reached=fact["value_reached"], signed_on=fact["signed_on"], today=today)
        card = scorecard_for(cards, segment=fact["segment"], stage=stage)
        results[account_id] = (stage, domain.score_summaries(inputs, card, now))
    return results


def _score_row(account_id: int, stage: str, r: domain.HealthResult, old: Any, now: datetime) -> dict[str, Any]:
    top = r.top_cost
    changed = old is None or old.band != r.band
    return {"account_id": account_id, "score": round(r.score, 2), "band": r.band, "scorecard": r.scorecard,
            "scorecard_version": r.scorecard_version, "stage": stage, "computed_at": now,
            "contributions": [contribution_dict(c) for c in r.contributions], "missing": list(r.missing),
            "top_cost_factor": top.factor if top else None,
            "previous_band": (old.band if changed else old.previous_band) if old is not None else None,
            "band_changed_at": now if changed else old.band_changed_at}


def contribution_dict(c: domain.Contribution) -> dict[str, Any]:
    return {"factor": c.factor, "group": c.group, "metric": c.metric, "value": _round(c.value, 4),
            "factor_score": _round(c.factor_score, 2), "nominal_weight": round(c.nominal_weight, 2),
            "weight": round(c.weight, 2), "points": round(c.points, 2)}


def _round(value: float | None, digits: int) -> float | None:
    return None if value is None else round(value, digits)


# ---------------------------------------------------------------------------------------------- read
def account_health(session: Session, *, account_id: int, now: datetime) -> dict[str, Any]:
    """The stored score with its history and trends; computed on the spot (not stored) if never scored."""
    stored = repository.stored_score(session, account_id)
    if stored is None:
        stage, result = score_batch(session, account_ids=[account_id], now=now, cards=all_scorecards())[account_id]
        top = result.top_cost
        current = {"score": round(result.score, 2), "band": result.band, "scorecard": result.scorecard,
                   "scorecard_version": result.scorecard_version, "stage": stage,
                   "computed_at": now, "contributions": [contribution_dict(c) for c in result.contributions],
                   "missing": list(result.missing), "top_cost_factor": top.factor if top else None,
                   "explanation": domain.explain(result), "stored": False}
    else:
        current = {k: getattr(stored, k) for k in ("score", "band", "scorecard", "scorecard_version", "stage",
                                                   "computed_at", "contributions", "missing", "top_cost_factor")}
        current |= {"explanation": _stored_explanation(stored), "stored": True}
    today = now.date()
    history = repository.history(session, account_id, since=today - timedelta(days=90))
    current["history"] = [{"on": h.on, "score": h.score, "band": h.band} for h in history]
    current["trend"] = {"7d": domain.trend(history, today=today, current=current["score"], days=7),
                        "30d": domain.trend(history, today=today, current=current["score"], days=30)}
    return current


def _stored_explanation(stored: Any) -> str:
    text = f"{stored.score:.0f}/100 ({stored.band})"
    top = next((c for c in stored.contributions if c["factor"] == stored.top_cost_factor), None)
    if top is not None:
        text += (f"; {top['factor']} costs {top['weight'] - top['points']:.1f} points "
                 f"(value {top['value']:g}, scored {top['factor_score']:.0f})")
    if stored.missing:
        text += f"; no data for {', '.join(stored.missing)} (weight spread over the others)"
    return text


# ------------------------------------------------------------------------------------------ back-test
BACKTEST_LEAD = timedelta(days=90)


def backtest(session: Session, *, outcomes: Sequence[Any], card: Scorecard | None = None) -> list[Any]:
    """Score each outcome's account at the end of the outcome date and 90 days before, from the stored
    signals, as the live recompute would have then: the card of the account's segment and of the stage it
    was in on that day, the same rule for old signals (a days-since-last metric is stale, never missing).

    `card` stands in for the shipped card of the same name (or the same stage and segments), so two
    versions can be compared. Internal signals (plan, packet, reviews, objectives) are not kept per day:
    they drop out here. Signals are read per batch of 500 accounts, not per outcome."""
    from journey.health.backtest import Scored

    cards = _with_candidate(all_scorecards(), card)
    rule = _ScoringRule(cards)
    found = repository.account_ids_by_ref(session, (o.account for o in outcomes))
    by_account: dict[int, list[Any]] = {}
    for o in outcomes:
        if o.account in found:
            by_account.setdefault(found[o.account], []).append(o)
    results: dict[int, Any] = {}
    for chunk in _chunks(sorted(by_account), 500):
        mine = [o for a in chunk for o in by_account[a]]
        ends = [_end_of(o.on) for o in mine]
        facts = repository.stage_facts(session, chunk)
        points = repository.signal_points(session, chunk, since=min(ends) - BACKTEST_LEAD - rule.horizon,
                                          until=max(ends), stale_metrics=rule.stale)
        for a in chunk:
            for o in by_account[a]:
                at = _end_of(o.on)
                now_result = rule.score(points.get(a, []), facts[a], at)
                before = rule.score(points.get(a, []), facts[a], at - BACKTEST_LEAD)
                results[id(o)] = Scored(o, *_known(now_result), *_known(before))
    return [results.get(id(o)) or Scored(o, None, None, None, None) for o in outcomes]


def _end_of(day: Any) -> datetime:
    return datetime.combine(day, datetime.min.time(), tzinfo=UTC) + timedelta(days=1)


def _with_candidate(cards: Sequence[Scorecard], card: Scorecard | None) -> list[Scorecard]:
    if card is None:
        return list(cards)
    key = (card.stage, frozenset(card.segments))
    return [c for c in cards if c.name != card.name and (c.stage, frozenset(c.segments)) != key] + [card]


class _ScoringRule:
    """The live recompute's choices for a set of cards: horizon, stale metrics, card per segment and stage."""

    def __init__(self, cards: Sequence[Scorecard]) -> None:
        self.cards = cards
        self.windows = set().union(*(c.windows for c in cards))
        self.horizon = timedelta(days=max(self.windows))
        self.stale = {f.metric for c in cards for f in c.factors if f.aggregate == "days_since_last"}

    def score(self, points: Sequence[domain.SignalPoint], fact: dict[str, Any], at: datetime) -> domain.HealthResult:
        today = at.date()
        signed = [d for d in fact["signed"] if d <= today]
        reached = fact["value_reached_at"] is not None and fact["value_reached_at"] <= at
        stage = domain.lifecycle_stage(value_reached=reached, signed_on=signed[-1] if signed else None, today=today)
        card = scorecard_for(self.cards, segment=fact["segment"], stage=stage)
        summaries = domain.summarise(points, windows=self.windows, now=at, horizon_days=self.horizon.days,
                                     stale_metrics=self.stale)
        return domain.score_summaries(summaries, card, at)


def _known(result: domain.HealthResult) -> tuple[float | None, str | None]:
    return (None, None) if result.band == "unknown" else (result.score, result.band)
