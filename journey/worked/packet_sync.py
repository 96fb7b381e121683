"""Promises and risks become work: after signing and on each new packet version, the packet's promises,
risks and objectives without a baseline are tasks of the plan (made once per item, assigned by the RACI
and the account's pair); a task whose item left the packet is cancelled (skipped with that reason, kept in
history) while open, and comes back if the item does."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from journey import audit, db
from journey.audit import Actor
from journey.calendar import calendar_for
from journey.handoff import repository as handoff_repository
from journey.models import Account, Deal, Journey, JourneyStatus, PlanTask, TaskStatus
from journey.onboarding import repository as plan_repository
from journey.playbooks import playbook_named
from journey.worked import from_packet
from journey.worked.from_packet import Anchors, PacketTask

CANCELLED = "cancelled: no longer in the handoff packet"
_OPEN = (TaskStatus.todo, TaskStatus.in_progress)


def sync_packet_tasks(session: Session, *, journey_id: int, actor: Actor, now: datetime) -> dict[str, int]:
    """Bring the plan's packet tasks in line with the packet's current version; counts of what changed."""
    journey = session.get(Journey, journey_id)
    packet = handoff_repository.packet_for_journey(session, journey_id)
    if journey is None or packet is None or journey.status != JourneyStatus.active:
        return {}
    version = handoff_repository.version(session, packet.id, packet.version)
    milestones = list(plan_repository.milestones_of(session, [journey_id]))
    if version is None or not milestones:
        return {}
    account = session.get_one(Account, journey.account_id)
    anchors = Anchors(signed_on=journey.signed_on, kickoff_on=journey.kickoff_on or journey.signed_on,
                      go_live_on=journey.go_live_on or journey.signed_on)
    wanted = from_packet.packet_tasks(version.content, playbook_named(journey.playbook).from_packet, anchors,
                                      calendar_for(account.region, account.timezone))
    tasks = list(plan_repository.tasks_of(session, [journey_id]))
    existing = {t.key: t for t in tasks if t.key.startswith(from_packet.PREFIX)}
    counts = {"created": 0, "cancelled": 0, "revived": 0}
    where = {"account_id": account.id, "version": packet.version}
    new = [item for item in wanted if item.key not in existing]
    _create_all(session, journey, account, new, milestones, tasks, actor, where)
    counts["created"] = len(new)
    for item in wanted:
        task = existing.get(item.key)
        if task is None:
            continue
        if task.status == TaskStatus.skipped and task.skip_reason == CANCELLED:
            task.status, task.skip_reason = TaskStatus.todo, None
            _audit(session, actor, "task.revived_from_packet", task, where)
            counts["revived"] += 1
    keys = {item.key for item in wanted}
    for task in existing.values():
        if task.key not in keys and task.status in _OPEN:
            task.status, task.skip_reason, task.done_at = TaskStatus.skipped, CANCELLED, None
            _audit(session, actor, "task.cancelled", task, where)
            counts["cancelled"] += 1
    session.flush()
    return counts


def _create_all(session: Session, journey: Journey, account: Account, items: list[PacketTask], milestones: list,  # type: ignore[type-arg]
                tasks: list[PlanTask], actor: Actor, where: dict[str, int]) -> None:
    """The new packet tasks in one multi-row INSERT, and their audit entries in another."""
    if not items:
        return
    deal = session.get(Deal, journey.deal_id)
    last = {m.id: max((t.position for t in tasks if t.milestone_id == m.id), default=0) for m in milestones}
    rows = []
    for item in items:
        key = from_packet.milestone_for(item, [(m.key, m.due_on) for m in milestones])
        milestone = next(m for m in milestones if m.key == key)
        last[milestone.id] += 1
        owner = {"se": deal.se_id if deal else None, "ae": deal.ae_id if deal else None}.get(item.responsible,
                                                                                             account.csm_id)
        rows.append({"journey_id": journey.id, "milestone_id": milestone.id, "key": item.key, "title": item.title,
                     "position": last[milestone.id], "raci": {"responsible": item.responsible, "accountable": "csm",
                                                              "consulted": [], "informed": ["am"]},
                     "anchor": "kickoff", "offset_business_days": 0, "depends_on": [], "needs_packet_ack": False,
                     "due_on": item.due_on, "status": TaskStatus.todo, "assignee_id": owner or account.csm_id})
    db.insert_rows(session, PlanTask, rows)
    audit.record_many(session, actor=actor, action="task.created_from_packet", account_id=where["account_id"],
                      entries=[(f"task {item.key}", {"title": item.title, "packet_version": where["version"],
                                                     "kind": item.kind}) for item in items])


def _audit(session: Session, actor: Actor, action: str, task: PlanTask, where: dict[str, int], **more: str) -> None:
    audit.record(session, actor=actor, action=action, account_id=where["account_id"], subject=f"task {task.key}",
                 title=task.title, packet_version=where["version"], **more)
