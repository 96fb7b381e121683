"""Use cases of objectives: follow the packet, record measured progress, keep the status current."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy.orm import Session

from journey import audit
from journey.audit import Actor
from journey.errors import InvalidInput, NotFound
from journey.evaluation import repository as evaluation_repository
from journey.models import ActorKind, Journey, Objective, ObjectiveProgress
from journey.objectives import domain, repository

PROGRESS_SOURCES = ("signal", "review", "manual")


def sync_from_packet(session: Session, *, journey_id: int, account_id: int, objectives: Sequence[dict[str, Any]],
                     now: datetime) -> None:
    """Objectives follow the packet's current version, matched by title; removed ones become inactive
    (their measured history is kept)."""
    existing = {o.title: o for o in repository.of_journey(session, journey_id)}
    wanted = {o["title"]: o for o in objectives}
    for title, data in wanted.items():
        row = existing.get(title)
        if row is None:
            row = Objective(journey_id=journey_id, account_id=account_id, title=title, created_at=now,
                            updated_at=now, status="on_track")
            session.add(row)
        fields = dict(kpi=data.get("kpi"), baseline=data.get("baseline"), target=data.get("target"),
                      unit=data.get("unit"), due_on=_date(data.get("due")),
                      source=data.get("source") or "sales_assumed", metric=data.get("metric"), active=True)
        if any(getattr(row, k) != v for k, v in fields.items()):
            for key, value in fields.items():
                setattr(row, key, value)
            row.updated_at = now
    for title, row in existing.items():
        if title not in wanted and row.active:
            row.active, row.updated_at = False, now
    session.flush()


def _date(value: Any) -> date | None:
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(str(value))


@dataclass(frozen=True)
class ObjectiveView:
    objective: Objective
    progress: list[ObjectiveProgress]
    assessment: domain.Assessment


def assess(session: Session, objective: Objective, progress: Sequence[ObjectiveProgress], *,
           today: date) -> domain.Assessment:
    journey = session.get_one(Journey, objective.journey_id)
    return domain.assess(baseline=objective.baseline, target=objective.target, start_on=journey.signed_on,
                         due_on=objective.due_on, today=today,
                         measurements=[domain.Measurement(p.at.date(), p.value) for p in progress])


def objectives_of_account(session: Session, *, account_id: int, today: date) -> list[ObjectiveView]:
    objectives = repository.of_account(session, account_id)
    progress = repository.progress_of(session, [o.id for o in objectives])
    views = []
    for objective in objectives:
        mine = [p for p in progress if p.objective_id == objective.id]
        views.append(ObjectiveView(objective, mine, assess(session, objective, mine, today=today)))
    return views


def record_progress(session: Session, *, objective_id: int, account_id: int, value: float, at: datetime,
                    source: str, note: str | None, actor: Actor, now: datetime) -> ObjectiveView:
    """Add a measured value of the objective's KPI (from a signal, at a review, or by hand)."""
    objective = session.get(Objective, objective_id)
    if objective is None or objective.account_id != account_id:
        raise NotFound(f"no objective {objective_id} on this account")
    if source not in PROGRESS_SOURCES:
        raise InvalidInput(f"source must be one of {', '.join(PROGRESS_SOURCES)}")
    if at > now:
        raise InvalidInput("a measurement cannot be in the future")
    session.add(ObjectiveProgress(objective_id=objective.id, at=at, value=value, source=source, note=note,
                                  recorded_by=actor.label))
    session.flush()
    audit.record(session, actor=actor, action="objective.progress_recorded", account_id=account_id,
                 subject=f"objective {objective.title}"[:200], value=value, at=at.isoformat(), source=source)
    evaluation_repository.mark(session, [account_id], now=now)
    return _refresh(session, objective, actor=actor, today=now.date())


@dataclass(frozen=True)
class SignalPoint:
    """A stored signal, as objective progress reads it."""

    ref: str
    account_id: int
    metric: str
    value: float
    at: datetime


def record_signal_progress(session: Session, *, signals: Sequence[SignalPoint], actor: Actor, now: datetime) -> int:
    """Signals of a metric an objective names become its measured progress (source `signal`).

    Each signal counts once per objective (a resent batch adds nothing); signals dated in the future are
    left out, as a hand-entered measurement would be. Returns how many measurements were added.
    """
    objectives = repository.measured_by_metrics(session, sorted({s.account_id for s in signals}),
                                                {s.metric for s in signals})
    if not objectives:
        return 0
    by_key: dict[tuple[int, str], list[Objective]] = {}
    for objective in objectives:
        by_key.setdefault((objective.account_id, objective.metric or ""), []).append(objective)
    seen = repository.signal_refs(session, [o.id for o in objectives], sorted({s.ref for s in signals}))
    touched: dict[int, Objective] = {}
    added = 0
    for s in signals:
        for objective in by_key.get((s.account_id, s.metric), []):
            if s.at > now or (objective.id, s.ref) in seen:
                continue
            seen.add((objective.id, s.ref))
            session.add(ObjectiveProgress(objective_id=objective.id, at=s.at, value=s.value, source="signal",
                                          note=f"signal {s.ref} ({s.metric})"[:2000], recorded_by=actor.label,
                                          signal_ref=s.ref))
            touched[objective.id], added = objective, added + 1
    session.flush()
    for objective in touched.values():
        _refresh(session, objective, actor=actor, today=now.date())
    if added:
        audit.record(session, actor=actor, action="objective.progress_from_signals", subject="signals",
                     measurements=added, objectives=len(touched))
    return added


def refresh_objective_statuses(session: Session, *, now: datetime, actor: Actor | None = None) -> int:
    """Re-assess every open objective on `now`'s date (a daily scheduler job); how many changed status."""
    actor = actor or Actor(ActorKind.scheduler, "scheduler")
    changed, after_id = 0, 0
    while batch := repository.open_objectives(session, after_id=after_id, limit=500):
        for objective in batch:
            before = objective.status
            _refresh(session, objective, actor=actor, today=now.date())
            changed += objective.status != before
        after_id = batch[-1].id
    return changed


def _refresh(session: Session, objective: Objective, *, actor: Actor, today: date) -> ObjectiveView:
    progress = list(repository.progress_of(session, [objective.id]))
    assessment = assess(session, objective, progress, today=today)
    if assessment.status != objective.status:
        audit.record(session, actor=actor, action="objective.status_changed", account_id=objective.account_id,
                     subject=f"objective {objective.title}"[:200], old=objective.status, new=assessment.status,
                     reason=assessment.reason)
        objective.status = assessment.status
    session.flush()
    return ObjectiveView(objective, progress, assessment)
