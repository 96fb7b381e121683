"""What a customer stakeholder does through their share link: finish their side's tasks, comment on tasks,
validate or comment on objectives. Every action is audited with the stakeholder's email; the CSM is told when
an objective is validated or commented on, and when a customer task done unblocks vendor work."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from journey import audit
from journey.audit import Actor
from journey.errors import Conflict, Forbidden, InvalidInput, NotFound
from journey.handoff import repository as handoff_repository
from journey.models import (
    Account,
    ActorKind,
    Journey,
    JourneyStatus,
    Objective,
    PlanTask,
    ShareLink,
    TaskComment,
    TeamMember,
)
from journey.notify import service as notify_service
from journey.notify.service import Message
from journey.onboarding import domain as plan_domain
from journey.onboarding import repository as plan_repository
from journey.onboarding import service as plan_service
from journey.portal import repository
from journey.worked import from_packet
from journey.worked import tasks as worked_tasks
from journey.worked.domain import side_of
from journey.writeback import service as writeback_service

VALIDATED = "customer_validated"


def actor_of(link: ShareLink) -> Actor:
    return Actor(ActorKind.customer, link.email)


def task_of_link(session: Session, link: ShareLink, task_id: int) -> tuple[PlanTask, Journey]:
    """A task of the link's account's current journey; 404 for any other (another account's included)."""
    journey = repository.current_journey(session, link.account_id)
    task = session.get(PlanTask, task_id)
    if journey is None or task is None or task.journey_id != journey.id or from_packet.is_internal(task.key):
        raise NotFound(f"no task {task_id} on this plan")
    return task, journey


def finish_task(session: Session, *, link: ShareLink, task_id: int, status: str, now: datetime) -> PlanTask:
    """Mark a task of the customer's side done (403 on a vendor-side task)."""
    task, journey = task_of_link(session, link, task_id)
    if status != "done":
        raise InvalidInput('the shared plan marks tasks "done" only')
    if side_of(task.raci) != "customer":
        raise Forbidden("this task is for the vendor team: comment on it instead")
    if journey.status != JourneyStatus.active:
        raise Conflict(f"the plan is {journey.status}: it cannot change now")
    changes: dict[str, object] = {}
    plan_service.change_status(session, task, "done", None, now, changes)
    if changes:
        audit.record(session, actor=actor_of(link), action="task.updated", account_id=link.account_id,
                     subject=f"task {task.key}", changes=changes, via="shared plan")
        _tell_csm_of_unblocked(session, link=link, task=task, now=now)
        writeback_service.mark_changed(session, account_ids=link.account_id, now=now)
    session.flush()
    return task


def comment_task(session: Session, *, link: ShareLink, task_id: int, body: str, now: datetime) -> TaskComment:
    task, _ = task_of_link(session, link, task_id)
    return worked_tasks.add_comment(session, task=task, account_id=link.account_id, body=body,
                                    actor=actor_of(link), now=now)


def decide_objective(session: Session, *, link: ShareLink, objective_id: int, decision: str,
                     comment: str | None, now: datetime) -> Objective:
    """`validate`: the objective becomes customer_validated (with who and when), in the packet too;
    `comment`: the comment is kept in the audit trail. Either way the CSM is told."""
    objective = session.get(Objective, objective_id)
    if objective is None or objective.account_id != link.account_id or not objective.active:
        raise NotFound(f"no objective {objective_id} on this plan")
    text = (comment or "").strip()
    if decision not in ("validate", "comment") or (decision == "comment" and not text) or len(text) > 4000:
        raise InvalidInput('decision is "validate" or "comment" (with a comment of up to 4000 characters)')
    if decision == "validate" and objective.source != VALIDATED:
        objective.source, objective.validated_by, objective.validated_at = VALIDATED, link.email, now
        objective.updated_at = now
        _mark_validated_in_packet(session, objective)
    audit.record(session, actor=actor_of(link), action=f"objective.{decision}d" if decision == "validate"
                 else "objective.commented", account_id=link.account_id, subject=f"objective {objective.title}"[:200],
                 comment=text or None, via="shared plan")
    verb = "validated" if decision == "validate" else "commented on"
    _tell_csm(session, link=link, kind=f"portal_objective_{decision}", key=f"{objective.id}:{now.isoformat()}",
              reason=f"{link.name} ({link.email}) {verb} the objective \u201c{objective.title}\u201d"
                     + (f": {text[:300]}" if text else ""), now=now)
    session.flush()
    return objective


def _mark_validated_in_packet(session: Session, objective: Objective) -> None:
    """The packet's current version says the objective is customer validated (its content, not a new version:
    the AE's packet is unchanged otherwise and its acknowledgements stand)."""
    packet = handoff_repository.packet_for_journey(session, objective.journey_id)
    version = handoff_repository.version(session, packet.id, packet.version) if packet else None
    if version is None:
        return
    content: dict[str, Any] = dict(version.content)
    content["objectives"] = [{**o, "source": VALIDATED} if str(o.get("title", "")).strip() == objective.title.strip()
                             else o for o in content.get("objectives") or []]
    version.content = content


def _tell_csm_of_unblocked(session: Session, *, link: ShareLink, task: PlanTask, now: datetime) -> None:
    """Remind the CSM when the task done leaves a vendor-side task with no open dependency."""
    tasks = list(plan_repository.tasks_of(session, [task.journey_id]))
    status_of = {t.key: str(t.status) for t in tasks}
    freed = [t for t in tasks if task.key in (t.depends_on or []) and str(t.status) in plan_domain.OPEN_STATUSES
             and side_of(t.raci) == "vendor"
             and not any(status_of.get(d) in plan_domain.OPEN_STATUSES for d in t.depends_on)]
    if freed:
        titles = "; ".join(t.title for t in freed)
        _tell_csm(session, link=link, kind="portal_task_done", key=f"{task.id}:{now.isoformat()}",
                  reason=f"{link.name} ({link.email}) finished \u201c{task.title}\u201d: you can start {titles}",
                  now=now)


def _tell_csm(session: Session, *, link: ShareLink, kind: str, key: str, reason: str, now: datetime) -> None:
    account = session.get_one(Account, link.account_id)
    csm = session.get(TeamMember, account.csm_id) if account.csm_id else None
    if csm is None or not csm.active:
        return
    notify_service.remind(session, kind=kind, assignee=csm, account_id=account.id, due_at=now, reason=reason,
                          dedupe_key=f"{kind}:{key}", now=now, subject=f"account {account.id}",
                          message=Message(subject=f"{account.name}: {reason[:150]}", body_text=reason))
