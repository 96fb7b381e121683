"""Use cases of onboarding plans: build one from the playbook, move it when go-live slips."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy.orm import Session

from journey import audit
from journey.audit import Actor
from journey.calendar import calendar_for
from journey.models import Account, Deal, Journey, Milestone, PlanSlip, PlanTask, TaskStatus
from journey.onboarding import domain, repository
from journey.playbooks import playbook_named


def build_plan(session: Session, *, journey_id: int, actor: Actor) -> bool:
    """Create the journey's plan from its playbook; False (and nothing done) if it already has one."""
    if repository.has_plan(session, journey_id):
        return False
    journey = session.get_one(Journey, journey_id)
    account = session.get_one(Account, journey.account_id)
    deal = session.get_one(Deal, journey.deal_id)
    calendar = calendar_for(account.region, account.timezone)
    draft = domain.build_plan(playbook_named(journey.playbook), signed_on=journey.signed_on,
                              expected_go_live=deal.expected_go_live, calendar=calendar)
    for m in draft.milestones:
        milestone = Milestone(journey_id=journey_id, key=m.key, name=m.name, position=m.position,
                              value_milestone=m.value_milestone, due_on=m.due_on)
        session.add(milestone)
        session.flush()
        session.add_all(PlanTask(journey_id=journey_id, milestone_id=milestone.id, key=t.key, title=t.title,
                                 position=t.position, raci=t.raci, anchor=t.anchor,
                                 offset_business_days=t.offset_business_days, depends_on=list(t.depends_on),
                                 needs_packet_ack=t.needs_packet_ack, due_on=t.due_on, status=TaskStatus.todo)
                        for t in m.tasks)
    journey.kickoff_on, journey.go_live_on = draft.kickoff_on, draft.go_live_on
    audit.record(session, actor=actor, action="plan.built", account_id=account.id,
                 subject=f"journey {journey_id}", playbook=journey.playbook,
                 kickoff_on=str(draft.kickoff_on), go_live_on=str(draft.go_live_on))
    session.flush()
    return True


def move_go_live(session: Session, *, journey_id: int, new_go_live: date, reason: str, actor: Actor,
                 now: datetime) -> list[domain.TaskMove]:
    """Re-date open go-live tasks (done ones stay) and record the slip with its reason."""
    journey = session.get_one(Journey, journey_id)
    if journey.go_live_on == new_go_live:
        return []
    account = session.get_one(Account, journey.account_id)
    tasks = list(repository.tasks_of(session, [journey_id]))
    scheduled = [domain.ScheduledTask(key=t.key, anchor=t.anchor, offset_business_days=t.offset_business_days,  # type: ignore[arg-type]
                                      due_on=t.due_on, status=t.status, depends_on=tuple(t.depends_on))
                 for t in tasks]
    moves = domain.reschedule_for_go_live(scheduled, new_go_live=new_go_live,
                                          calendar=calendar_for(account.region, account.timezone))
    by_key = {t.key: t for t in tasks}
    for move in moves:
        by_key[move.key].due_on = move.new_due_on
    _refresh_milestone_dues(session, journey_id, tasks)
    session.add(PlanSlip(journey_id=journey_id, at=now, old_go_live=journey.go_live_on, new_go_live=new_go_live,
                         reason=reason, moves=[{"task": m.key, "from": str(m.old_due_on), "to": str(m.new_due_on)}
                                               for m in moves]))
    audit.record(session, actor=actor, action="plan.go_live_moved", account_id=account.id,
                 subject=f"journey {journey_id}", old=str(journey.go_live_on), new=str(new_go_live),
                 reason=reason, tasks_moved=len(moves))
    journey.go_live_on = new_go_live
    session.flush()
    return moves


def _refresh_milestone_dues(session: Session, journey_id: int, tasks: list[PlanTask]) -> None:
    for milestone in repository.milestones_of(session, [journey_id]):
        dues = [t.due_on for t in tasks if t.milestone_id == milestone.id]
        if dues:
            milestone.due_on = max(dues)
