"""Use cases of onboarding plans: build one from the playbook, move it when go-live slips, move tasks."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy.orm import Session

from journey import audit, db
from journey.accounts.access import account_for
from journey.audit import Actor
from journey.calendar import calendar_for
from journey.errors import Conflict, InvalidInput, NotFound
from journey.evaluation import repository as evaluation_repository
from journey.handoff import repository as handoff_repository
from journey.kit import row_id, utcnow
from journey.models import (
    Account,
    Deal,
    Journey,
    JourneyStatus,
    Milestone,
    PlanSlip,
    PlanTask,
    TaskStatus,
    TeamMember,
)
from journey.onboarding import domain, lifecycle, repository
from journey.playbooks import playbook_named
from journey.policy import Action
from journey.team import repository as team_repository
from journey.worked import packet_sync
from journey.worked import tasks as worked_tasks
from journey.writeback import service as writeback_service


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
    people = {"csm": account.csm_id, "am": account.am_id, "ae": deal.ae_id, "se": deal.se_id}
    milestone_ids = db.insert_rows_returning_ids(session, Milestone, [  # one INSERT per table, not an object per row
        {"journey_id": journey_id, "key": m.key, "name": m.name, "position": m.position,
         "value_milestone": m.value_milestone, "due_on": m.due_on, "completed_at": None} for m in draft.milestones],
        key="key")
    db.insert_rows(session, PlanTask, [
        {"journey_id": journey_id, "milestone_id": milestone_id, "key": t.key, "title": t.title,
         "position": t.position, "raci": t.raci, "anchor": t.anchor, "offset_business_days": t.offset_business_days,
         "depends_on": list(t.depends_on), "needs_packet_ack": t.needs_packet_ack, "due_on": t.due_on,
         "status": TaskStatus.todo, "assignee_id": people.get(t.raci.get("responsible"))}  # by RACI and the pair
        for m in draft.milestones for milestone_id in (milestone_ids[m.key],) for t in m.tasks])
    journey.kickoff_on, journey.go_live_on = draft.kickoff_on, draft.go_live_on
    audit.record(session, actor=actor, action="plan.built", account_id=account.id,
                 subject=f"journey {journey_id}", playbook=journey.playbook,
                 kickoff_on=str(draft.kickoff_on), go_live_on=str(draft.go_live_on))
    session.flush()
    packet_sync.sync_packet_tasks(session, journey_id=journey_id, actor=actor, now=utcnow())
    writeback_service.mark_changed(session, account_ids=account.id)
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
                                               for m in moves],
                         actor_kind=actor.kind, actor=actor.label))
    audit.record(session, actor=actor, action="plan.go_live_moved", account_id=account.id,
                 subject=f"journey {journey_id}", old=str(journey.go_live_on), new=str(new_go_live),
                 reason=reason, tasks_moved=len(moves))
    journey.go_live_on = new_go_live
    evaluation_repository.mark(session, [account.id], now=now)
    session.flush()
    writeback_service.mark_changed(session, account_ids=account.id, now=now)
    return moves


def _refresh_milestone_dues(session: Session, journey_id: int, tasks: list[PlanTask]) -> None:
    for milestone in repository.milestones_of(session, [journey_id]):
        dues = [t.due_on for t in tasks if t.milestone_id == milestone.id]
        if dues:
            milestone.due_on = max(dues)


@dataclass(frozen=True)
class TaskChange:
    """What a member changes on a task: its status (`action`), assignee, due date (with `reason`), document."""

    action: str | None = None
    reason: str | None = None
    assignee: int | str | None = None
    due_on: date | None = None
    document_url: str | None = None


def update_task(session: Session, *, task_id: int, member: TeamMember, action: str | None,
                reason: str | None, assignee: int | str | None, now: datetime,
                due_on: date | None = None, document_url: str | None = None) -> PlanTask:
    """Start, finish, skip (with a reason), reopen, reassign, re-date (with a reason) or link a document
    to a task the member can see; each part needs its action of the policy (complete, assign, comment)."""
    change = TaskChange(action, reason, assignee, due_on, document_url)
    task, journey = _task_to_change(session, task_id, member, change)
    actor = Actor.user(member.email)
    changes: dict[str, object] = {}
    if action is not None:
        change_status(session, task, action, reason, now, changes)
    if assignee is not None:
        new = _active_member(session, assignee)
        if new.id != task.assignee_id:
            changes["assignee"] = [task.assignee_id, new.id]
            task.assignee_id = new.id
    if changes:
        audit.record(session, actor=actor, action="task.updated", account_id=journey.account_id,
                     subject=f"task {task.key}", changes=changes, reason=reason)
    if due_on is not None:
        worked_tasks.move_due(session, task=task, account_id=journey.account_id, new_due_on=due_on,
                              reason=reason, actor=actor, now=now)
        _refresh_milestone_dues(session, journey.id, list(repository.tasks_of(session, [journey.id])))
    if document_url is not None:
        worked_tasks.link_document(session, task=task, account_id=journey.account_id, url=document_url, actor=actor)
    session.flush()
    if "status" in changes or due_on is not None:
        writeback_service.mark_changed(session, account_ids=journey.account_id, now=now)
    return task


def _task_to_change(session: Session, task_id: int, member: TeamMember,
                    change: TaskChange) -> tuple[PlanTask, Journey]:
    task = repository.task(session, task_id)
    journey = session.get(Journey, task.journey_id) if task else None
    if task is None or journey is None:
        raise NotFound(f"no task {task_id}")
    needed = ([Action.complete_task] if change.action is not None else []) + (
        [Action.assign_task] if change.assignee is not None or change.due_on is not None else []) + (
        [Action.comment_task] if change.document_url is not None else [])
    for action in needed or [Action.view_account]:
        account_for(session, str(journey.account_id), member, action, missing=f"no task {task_id}")
    if journey.status != JourneyStatus.active:
        raise Conflict(f"the journey is {journey.status}: its plan is frozen")
    return task, journey


def change_status(session: Session, task: PlanTask, action: str, reason: str | None, now: datetime,
                  changes: dict[str, object]) -> None:
    """Apply a lifecycle action (422/409 when refused); `changes` gains the status move, if any."""
    try:
        step = lifecycle.transition(task.status, action, gated=waits_for_packet(session, task), reason=reason)
    except lifecycle.TransitionRefused as exc:
        error = InvalidInput if exc.code in ("reason_required", "unknown_action") else Conflict
        raise error(exc.detail) from exc
    if step.changed:
        changes["status"] = [str(task.status), step.status]
        _apply_status(task, step.status, reason=reason, now=now)
        _refresh_milestone_completion(session, task.milestone_id, now)
        account_id = session.get_one(Journey, task.journey_id).account_id
        evaluation_repository.mark(session, [account_id], now=now)  # the plan's on-time share moved


def waits_for_packet(session: Session, task: PlanTask) -> bool:
    """True while the task needs the packet and its current version is not accepted by CSM and AM."""
    if not task.needs_packet_ack:
        return False
    packet = handoff_repository.packet_for_journey(session, task.journey_id)
    return packet is None or packet.state != "accepted"


def _apply_status(task: PlanTask, status: str, *, reason: str | None, now: datetime) -> None:
    task.status = TaskStatus(status)
    if status == "in_progress":
        task.started_at = task.started_at or now
    elif status == "done":
        task.started_at, task.done_at = task.started_at or now, now
    elif status == "skipped":
        task.skip_reason, task.done_at = reason, None
    else:  # reopened
        task.done_at, task.skip_reason = None, None


def _refresh_milestone_completion(session: Session, milestone_id: int, now: datetime) -> None:
    milestone = session.get_one(Milestone, milestone_id)
    tasks = [t for t in repository.tasks_of(session, [milestone.journey_id]) if t.milestone_id == milestone_id]
    done = domain.milestone_status(domain.TaskState(milestone.key, t.status, t.due_on) for t in tasks) == "done"
    if done and milestone.completed_at is None:
        milestone.completed_at = now
    elif not done:
        milestone.completed_at = None


def _active_member(session: Session, ref: int | str) -> TeamMember:
    member = (team_repository.by_email(session, ref) if isinstance(ref, str) and "@" in ref
              else session.get(TeamMember, member_id) if (member_id := row_id(ref)) is not None else None)
    if member is None or not member.active:
        raise InvalidInput(f"no active team member {ref}")
    return member
