"""Read use cases of plans: the plan of a journey as the API shows it, and the onboarding KPIs."""
from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from sqlalchemy.orm import Session

from journey.accounts.repository import members_by_id
from journey.calendar import calendar_for
from journey.handoff import repository as handoff_repository
from journey.models import Account, Journey, Milestone, PlanTask, TeamMember
from journey.onboarding import domain, lifecycle, repository
from journey.onboarding.schemas import (
    AccountKpis,
    MilestoneRead,
    OnboardingKpis,
    PlanRead,
    Raci,
    SlipRead,
    TaskRead,
    TeamKpis,
)
from journey.worked.domain import side_of


def plan_of(session: Session, journey: Journey, account: Account, *, today: date) -> PlanRead | None:
    milestones = repository.milestones_of(session, [journey.id])
    if not milestones:
        return None
    tasks = repository.tasks_of(session, [journey.id])
    packet = handoff_repository.packet_for_journey(session, journey.id)
    accepted = packet is not None and packet.state == "accepted"
    key_of = {m.id: m.key for m in milestones}
    states = [domain.TaskState(key_of[t.milestone_id], t.status, t.due_on) for t in tasks]
    status_of = {t.key: str(t.status) for t in tasks}
    out = []
    for m in milestones:
        mine = [t for t in tasks if t.milestone_id == m.id]
        out.append(MilestoneRead(
            key=m.key, name=m.name, due_on=m.due_on, value_milestone=m.value_milestone, completed_at=m.completed_at,
            status=domain.milestone_status(s for s in states if s.milestone_key == m.key),
            tasks=[_task_read(t, status_of, accepted) for t in mine]))
    outcomes = _outcomes(tasks, account)
    return PlanRead(
        journey_id=journey.id, kickoff_on=journey.kickoff_on, go_live_on=journey.go_live_on,
        status=domain.plan_status([domain.MilestoneState(m.key, m.due_on) for m in milestones], states, today),
        on_time_pct=lifecycle.on_time_pct(outcomes, today),
        time_to_value_days=_time_to_value(journey, account, milestones), milestones=out,
        slips=[SlipRead(from_=s.old_go_live, to=s.new_go_live, reason=s.reason, at=s.at, actor=s.actor,
                        actor_kind=str(s.actor_kind) if s.actor_kind else None)
               for s in repository.slips_of(session, journey.id)])


def task_read(session: Session, task: PlanTask) -> TaskRead:
    packet = handoff_repository.packet_for_journey(session, task.journey_id)
    status_of = {t.key: str(t.status) for t in repository.tasks_of(session, [task.journey_id])}
    return _task_read(task, status_of, packet is not None and packet.state == "accepted")


def _task_read(t: PlanTask, status_of: dict[str, str], accepted: bool) -> TaskRead:
    return TaskRead(
        id=t.id, key=t.key, title=t.title, due_on=t.due_on, status=str(t.status), raci=Raci(**t.raci),
        depends_on=list(t.depends_on),
        blocked_by=[d for d in t.depends_on if status_of.get(d) in domain.OPEN_STATUSES],
        needs_packet_ack=t.needs_packet_ack, waits_for_packet=t.needs_packet_ack and not accepted,
        assignee_id=t.assignee_id, skip_reason=t.skip_reason, started_at=t.started_at, done_at=t.done_at,
        side=side_of(t.raci), document_url=t.document_url)


def _outcomes(tasks: Sequence[PlanTask], account: Account) -> list[lifecycle.TaskOutcome]:
    calendar = calendar_for(account.region, account.timezone)
    return [lifecycle.TaskOutcome(str(t.status), t.due_on, calendar.local_date(t.done_at) if t.done_at else None)
            for t in tasks]


def _time_to_value(journey: Journey, account: Account, milestones: Sequence[Milestone]) -> int | None:
    value = next((m for m in milestones if m.value_milestone), None)
    if value is None or value.completed_at is None:
        return None
    reached = calendar_for(account.region, account.timezone).local_date(value.completed_at)
    return lifecycle.time_to_value_days(journey.signed_on, reached)


def onboarding_kpis(session: Session, member: TeamMember, *, today: date) -> OnboardingKpis:
    """Plan status, on-time % and time-to-value per visible account, per CSM and overall."""
    rows = repository.current_journeys(session, member)
    ids = [j.id for j, _ in rows]
    tasks = repository.tasks_of(session, ids) if ids else []
    milestones = repository.milestones_of(session, ids) if ids else []
    accounts: list[AccountKpis] = []
    per_csm: dict[int | None, list[tuple[list[lifecycle.TaskOutcome], int | None]]] = {}
    for journey, account in rows:
        mine = [t for t in tasks if t.journey_id == journey.id]
        stones = [m for m in milestones if m.journey_id == journey.id]
        if not stones:
            continue
        key_of = {m.id: m.key for m in stones}
        states = [domain.TaskState(key_of[t.milestone_id], t.status, t.due_on) for t in mine]
        outcomes = _outcomes(mine, account)
        ttv = _time_to_value(journey, account, stones)
        accounts.append(AccountKpis(
            account_id=account.id, name=account.name, csm_id=account.csm_id, time_to_value_days=ttv,
            plan_status=domain.plan_status([domain.MilestoneState(m.key, m.due_on) for m in stones], states, today),
            on_time_pct=lifecycle.on_time_pct(outcomes, today)))
        per_csm.setdefault(account.csm_id, []).append((outcomes, ttv))
    emails = {m.id: m.email for m in _members(session, {k for k in per_csm if k is not None})}
    teams = [_team(csm_id, emails.get(csm_id or 0), rows_, today) for csm_id, rows_ in per_csm.items()]
    everything = [row for rows_ in per_csm.values() for row in rows_]
    return OnboardingKpis(overall=_team(None, None, everything, today), accounts=accounts,
                          teams=sorted(teams, key=lambda t: (t.csm_email or "~")))


def _team(csm_id: int | None, email: str | None, rows: Sequence[tuple[Sequence[lifecycle.TaskOutcome], int | None]],
          today: date) -> TeamKpis:
    s = lifecycle.summarise(rows, today)
    return TeamKpis(csm_id=csm_id, csm_email=email, accounts=s.accounts, on_time_pct=s.on_time_pct,
                    median_time_to_value_days=s.median_time_to_value_days, value_reached=s.value_reached)


def _members(session: Session, ids: set[int]) -> Sequence[TeamMember]:
    return list(members_by_id(session, ids).values())
