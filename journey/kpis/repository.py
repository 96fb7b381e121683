"""Every query of the weekly review: the facts of each account as they stood at an instant (read back from
the timestamps the tables keep: deals' signature and loss, milestones' and tasks' completion, the daily
health history, opportunities' creation and closing), the snapshots, and the opportunities."""
from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Select, func, insert, select
from sqlalchemy.orm import Session

from journey.kpis.domain import AccountFacts, Contract, Pipeline
from journey.models import (
    Account,
    Deal,
    DealStatus,
    HandoffPacket,
    HealthHistory,
    HealthScore,
    Journey,
    KpiSnapshot,
    Milestone,
    Opportunity,
    PlanTask,
    TaskStatus,
    TeamMember,
)
from journey.onboarding.lifecycle import TaskOutcome


def contracts(session: Session) -> list[Contract]:
    """Every won or lost deal with an amount, as a contract: signed on, and lost on (when the loss arrived)."""
    stmt = select(Deal).where(Deal.status.in_((DealStatus.won, DealStatus.lost)), Deal.amount.is_not(None))
    out = []
    for d in session.scalars(stmt):
        signed = d.signed_at.date() if d.signed_at else (d.contract_start or d.created_at.date())
        lost = None
        if d.status == DealStatus.lost:
            seen = (d.field_occurred_at or {}).get("status")
            lost = datetime.fromisoformat(seen).date() if seen else d.updated_at.date()
        out.append(Contract(d.account_id, Decimal(d.amount or 0), signed, lost))
    return out


def won_expansions(session: Session) -> list[tuple[int, Decimal, date]]:
    stmt = select(Opportunity.account_id, Opportunity.amount, Opportunity.closed_at).where(
        Opportunity.stage == "won", Opportunity.closed_at.is_not(None))
    return [(a, Decimal(amount or 0), closed.date()) for a, amount, closed in session.execute(stmt)]


def facts_at(session: Session, at: datetime, contract_rows: Sequence[Contract]) -> list[AccountFacts]:
    """Every account whose journey had started by `at` (its deal signed), as it stood then."""
    day = at.date()
    started = select(Journey.account_id).where(Journey.signed_on <= day)
    accounts = list(session.scalars(select(Account).where(Account.id.in_(started)).order_by(Account.id)))
    arr: dict[int, Decimal] = {}
    for c in contract_rows:
        if c.live_on(day):
            arr[c.account_id] = arr.get(c.account_id, Decimal(0)) + c.amount
    bands = _bands_at(session, at)
    journeys = _journeys_at(session, at)
    tasks = _tasks_at(session, at)
    packets = _packets_at(session, at)
    pipeline = _pipeline_at(session, at)
    out = []
    for a in accounts:
        signed_on, value_on = journeys.get(a.id, (None, None))
        completeness, accepted = packets.get(a.id, (None, False))
        out.append(AccountFacts(
            id=a.id, name=a.name, segment=a.segment, region=a.region, csm_id=a.csm_id, am_id=a.am_id,
            arr=arr.get(a.id, Decimal(0)), band=bands.get(a.id), signed_on=signed_on, value_on=value_on,
            tasks=tuple(tasks.get(a.id, ())), completeness=completeness, accepted=accepted,
            pipeline=tuple(pipeline.get(a.id, ()))))
    return out


def _bands_at(session: Session, at: datetime) -> dict[int, str]:
    """Each account's band on the last day of history up to `at`; the current score when it is older."""
    latest = (select(HealthHistory.account_id, func.max(HealthHistory.day).label("day"))
              .where(HealthHistory.day <= at.date()).group_by(HealthHistory.account_id).subquery())
    stmt = select(HealthHistory.account_id, HealthHistory.band).join(
        latest, (latest.c.account_id == HealthHistory.account_id) & (latest.c.day == HealthHistory.day))
    bands = {a: b for a, b in session.execute(stmt)}
    for a, b in session.execute(select(HealthScore.account_id, HealthScore.band).where(HealthScore.computed_at <= at)):
        bands.setdefault(a, b)
    return bands


def _journeys_at(session: Session, at: datetime) -> dict[int, tuple[date, date | None]]:
    """(signed on, first value milestone reached on, by `at`) of each account's latest journey."""
    reached = (select(Milestone.journey_id, func.min(Milestone.completed_at).label("done"))
               .where(Milestone.value_milestone.is_(True), Milestone.completed_at <= at)
               .group_by(Milestone.journey_id).subquery())
    stmt = (select(Journey.account_id, Journey.signed_on, reached.c.done)
            .outerjoin(reached, reached.c.journey_id == Journey.id)
            .where(Journey.signed_on <= at.date()).order_by(Journey.id))
    return {a: (signed, done.date() if done else None) for a, signed, done in session.execute(stmt)}


def _tasks_at(session: Session, at: datetime) -> dict[int, list[TaskOutcome]]:
    """Each account's tasks as they stood at `at`: done if done by then, skipped as now, else open."""
    stmt = (select(Journey.account_id, PlanTask.status, PlanTask.due_on, PlanTask.done_at)
            .join(Journey, Journey.id == PlanTask.journey_id).where(Journey.signed_on <= at.date()))
    out: dict[int, list[TaskOutcome]] = {}
    for account_id, status, due_on, done_at in session.execute(stmt):
        if done_at is not None and done_at <= at:
            outcome = TaskOutcome("done", due_on, done_at.date())
        elif status == TaskStatus.skipped:
            outcome = TaskOutcome("skipped", due_on, None)
        else:
            outcome = TaskOutcome("todo", due_on, None)
        out.setdefault(account_id, []).append(outcome)
    return out


def _packets_at(session: Session, at: datetime) -> dict[int, tuple[float, bool]]:
    """(completeness, accepted) of each account's packet created by `at` (its current completeness: the
    packet keeps no history of it)."""
    stmt = (select(HandoffPacket.account_id, HandoffPacket.completeness, HandoffPacket.state)
            .join(Journey, Journey.id == HandoffPacket.journey_id).where(Journey.signed_on <= at.date())
            .order_by(HandoffPacket.id))
    return {a: (float(c), state == "accepted") for a, c, state in session.execute(stmt)}


def _pipeline_at(session: Session, at: datetime) -> dict[int, list[Pipeline]]:
    stmt = select(Opportunity).where(Opportunity.created_at <= at)
    out: dict[int, list[Pipeline]] = {}
    for o in session.scalars(stmt):
        closed = o.closed_at is not None and o.closed_at <= at
        stage = o.stage if closed or o.stage in ("open", "proposed") else "proposed"
        out.setdefault(o.account_id, []).append(Pipeline(o.amount, stage))
    return out


def owners(session: Session) -> list[TeamMember]:
    """Active CSMs and AMs, whose books get a snapshot of their own."""
    stmt = select(TeamMember).where(TeamMember.role.in_(("csm", "am")), TeamMember.active.is_(True))
    return list(session.scalars(stmt.order_by(TeamMember.name, TeamMember.id)))


# ------------------------------------------------------------------------------------------ snapshots
def snapshots_of_week(session: Session, week: str) -> dict[str, KpiSnapshot]:
    return {s.scope: s for s in session.scalars(select(KpiSnapshot).where(KpiSnapshot.week == week))}


def snapshots_of_scope(session: Session, scope: str, *, since: date, until: date) -> list[KpiSnapshot]:
    stmt = (select(KpiSnapshot).where(KpiSnapshot.scope == scope, KpiSnapshot.week_start >= since,
                                      KpiSnapshot.week_start <= until).order_by(KpiSnapshot.week_start))
    return list(session.scalars(stmt))


# ------------------------------------------------------------------------------------------ opportunities
def opportunities_of(session: Session, account_id: int) -> list[Opportunity]:
    stmt = select(Opportunity).where(Opportunity.account_id == account_id).order_by(Opportunity.id)
    return list(session.scalars(stmt))


def open_opportunity_titles(session: Session, account_ids: Sequence[int], stages: Sequence[str]
                            ) -> set[tuple[int, str]]:
    """(account id, title) of the opportunities of these accounts in one of `stages`, in one statement."""
    stmt = select(Opportunity.account_id, Opportunity.title).where(Opportunity.account_id.in_(account_ids),
                                                                   Opportunity.stage.in_(stages))
    return {(a, title) for a, title in session.execute(stmt)}


def insert_opportunities(session: Session, rows: Sequence[dict[str, Any]]) -> None:
    """Multi-row INSERT of opportunity rows (Core, no ORM object per row)."""
    if rows:
        session.execute(insert(Opportunity.__table__), list(rows))


def opportunity(session: Session, opportunity_id: int) -> Opportunity | None:
    return session.get(Opportunity, opportunity_id)


def scope_ids(scope: str) -> Select | None:
    """The ids of a scope's accounts as they are now, as a statement (None: every account)."""
    kind, _, value = scope.partition(":")
    if kind == "team":
        return None
    column = {"segment": Account.segment, "region": Account.region}.get(kind)
    if column is not None:
        return select(Account.id).where(column == value)
    member_id = int(value)
    return select(Account.id).where((Account.csm_id == member_id) | (Account.am_id == member_id))


def at_risk_accounts(session: Session, visible: Select, scope: Select | None, bands: frozenset[str], *,
                     limit: int = 50) -> list[tuple[Account, str, float]]:
    """(account, band, score) of the visible accounts of the scope whose current band is in `bands`, worst first."""
    stmt = (select(Account, HealthScore.band, HealthScore.score).join(HealthScore, HealthScore.account_id == Account.id)
            .where(HealthScore.band.in_(bands), Account.id.in_(visible.scalar_subquery()))
            .order_by(HealthScore.score, Account.name).limit(limit))
    if scope is not None:
        stmt = stmt.where(Account.id.in_(scope.scalar_subquery()))
    return [(a, b, s) for a, b, s in session.execute(stmt)]


def open_opportunities(session: Session, visible: Select, scope: Select | None, stages: Sequence[str], *,
                       limit: int = 50) -> list[tuple[Opportunity, Account]]:
    """(opportunity, account) of the visible accounts of the scope in one of `stages`, largest amount first."""
    stmt = (select(Opportunity, Account).join(Account, Account.id == Opportunity.account_id)
            .where(Opportunity.stage.in_(stages), Account.id.in_(visible.scalar_subquery()))
            .order_by(Opportunity.amount.desc().nulls_last(), Account.name).limit(limit))
    if scope is not None:
        stmt = stmt.where(Account.id.in_(scope.scalar_subquery()))
    return [(o, a) for o, a in session.execute(stmt)]


def member_names(session: Session, ids: set[int]) -> dict[int, tuple[str, str]]:
    if not ids:
        return {}
    stmt = select(TeamMember.id, TeamMember.name, TeamMember.role).where(TeamMember.id.in_(ids))
    return {i: (n, str(r)) for i, n, r in session.execute(stmt)}
