"""Use cases of health: take signals in, recompute scores set-based, read an account's health.

Everything here flushes and never commits; `journey.health.jobs` and the routes own the transactions.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from journey import audit
from journey.audit import Actor
from journey.errors import InvalidInput
from journey.evaluation import repository as evaluation_repository
from journey.expansion import service as expansion_service
from journey.health import domain, overrides, records, repository
from journey.health.backtest import Scored
from journey.health.scorecards import Scorecard, scorecard_for
from journey.health.scores import ScoreChange, all_scorecards, band_names, score_batch
from journey.models import TeamMember
from journey.objectives import service as objectives_service
from journey.writeback import service as writeback_service

INTERNAL_METRICS = frozenset({"plan_on_time", "tasks_overdue", "packet_completeness", "reviews_held",
                              "objective_progress"})


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

    points = [objectives_service.SignalPoint(ref=r["external_id"], account_id=r["account_id"], metric=r["metric"],
                                             value=r["value"], at=r["at"]) for r in rows]
    return objectives_service.record_signal_progress(session, signals=points, actor=actor, now=now)


def _chunks(rows: list[Any], size: int) -> list[list[Any]]:
    return [rows[i:i + size] for i in range(0, len(rows), size)]


# ---------------------------------------------------------------------------------------- recompute
def recompute(session: Session, *, account_ids: Sequence[int], now: datetime, actor: Actor,
              cards: Sequence[Scorecard] | None = None, alerts: bool = True) -> list[ScoreChange]:
    """Score a batch of accounts from one query per kind of input; store scores and today's history.

    The band in force is an override's while it holds (a lapsed one is removed here, audited); the
    change of band that alerts and reminders see is the change of that band."""
    if not account_ids:
        return []
    scored = score_batch(session, account_ids=account_ids, now=now, cards=cards or all_scorecards())
    old = repository.scores_of(session, account_ids)
    held = overrides.in_force(session, account_ids=list(scored), now=now, actor=actor)
    bands = {a: domain.effective_band(r.band, held.get(a), now.date()) for a, (_, r) in scored.items()}
    changes = [ScoreChange(a, old[a].score if a in old else None, old[a].band if a in old else None,
                           replace(r, band=bands[a])) for a, (_, r) in scored.items()]
    rows = [records.score_row(a, stage, r, bands[a], old.get(a), now) for a, (stage, r) in scored.items()]
    repository.upsert_scores(session, rows)
    repository.upsert_history(session, records.history_rows(
        session, {a: r for a, (_, r) in scored.items()}, bands, now,
        factors={row["account_id"]: records.factors_of(row["contributions"]) for row in rows}))
    audit.record_for_accounts(session, actor=actor, action="health.band_changed", entries=[
        (c.account_id, f"{c.old_band} -> {c.new.band}",
         {"score": round(c.new.score, 1), "scorecard": f"{c.new.scorecard} v{c.new.scorecard_version}"})
        for c in changes if c.old_band is not None and c.old_band != c.new.band])
    moved = [c.account_id for c in changes if c.old_score is None or c.old_band != c.new.band
             or round(c.old_score) != round(c.new.score)]
    writeback_service.mark_changed(session, account_ids=moved, now=now)
    if alerts:
        expansion_service.raise_risk_alerts(session, changes=changes, now=now)
    session.flush()
    return changes


def contribution_dict(c: domain.Contribution) -> dict[str, Any]:
    return records.contribution_dict(c)


# ------------------------------------------------------------------------------------------ override
def override_band(session: Session, *, account: Any, member: TeamMember, band: str, reason: str,
                  expires_on: Any, now: datetime) -> domain.Override:
    """Set the account's band by hand (`overrides.set_override`) and rescore it: the band is in force at once."""
    held = overrides.set_override(session, account=account, member=member, band=band, reason=reason,
                                  expires_on=expires_on, now=now, bands=band_names())
    recompute(session, account_ids=[account.id], now=now, actor=Actor.user(member.email), alerts=False)
    evaluation_repository.mark(session, [account.id], now=now)  # expansion rules read the band in force
    return held


def clear_band_override(session: Session, *, account: Any, member: TeamMember, now: datetime) -> None:
    """Remove the override and rescore: the computed band is in force again."""
    overrides.clear_override(session, account=account, member=member)
    recompute(session, account_ids=[account.id], now=now, actor=Actor.user(member.email), alerts=False)
    evaluation_repository.mark(session, [account.id], now=now)


# ---------------------------------------------------------------------------------------------- read
BACKTEST_LEAD = timedelta(days=90)


def backtest(session: Session, *, outcomes: Sequence[Any], card: Scorecard | None = None,
             cards: Sequence[Scorecard] | None = None) -> list[Any]:
    """Score each outcome's account at the end of the outcome date and 90 days before, from the stored
    signals, as the live recompute would have then: the card of the account's segment and of the stage it
    was in on that day, the same rule for old signals (a days-since-last metric is stale, never missing).

    `card` stands in for the shipped card of the same name (or the same stage and segments), so two
    versions can be compared; `cards` replaces the whole shipped set (an older version of every card).
    Internal signals (plan, packet, reviews, objectives) are not kept per day: they drop out here.
    Signals are read per batch of 500 accounts, not per outcome."""

    rule = _ScoringRule(_with_candidate(cards or all_scorecards(), card))
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
    """The score and band, provisional ones included (band `unknown`): both versions of a card rank the
    same accounts. Nothing at all without any data."""
    return (None, None) if result.evidence <= 0 else (result.score, result.band)
