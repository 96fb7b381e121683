"""Onboarding plans: pure rules, no database. Dates and ``today`` are passed in.

:func:`build_plan` turns a playbook (see :mod:`journey.onboarding.playbook`) into dated drafts;
:func:`reschedule_for_go_live` moves open go-live tasks when the go-live date slips; :func:`plan_status`
says whether a plan is on time. Task lifecycle rules live in :mod:`journey.onboarding.lifecycle`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, Literal

from journey.calendar import WorkCalendar
from journey.onboarding.playbook import (  # noqa: F401  (re-exported: older imports read them from here)
    CUSTOMER_ROLES,
    INTERNAL_ROLES,
    KICKOFF,
    Anchor,
    MilestoneSpec,
    Playbook,
    PlaybookError,
    Raci,
    Role,
    TaskSpec,
    _kickoff_closure,
    _topological_order,
    load_playbook,
    load_playbooks,
    playbook_for_segment,
)

TaskStatus = Literal["todo", "in_progress", "done", "skipped"]
MilestoneStatus = Literal["todo", "in_progress", "done"]
PlanStatus = Literal["on_time", "at_risk", "late"]
OPEN_STATUSES = frozenset({"todo", "in_progress"})
CLOSED_STATUSES = frozenset({"done", "skipped"})

# ------------------------------------------------------------------------------------------------ plans
@dataclass(frozen=True)
class TaskDraft:
    key: str
    title: str
    position: int
    raci: dict[str, Any]
    anchor: Anchor
    offset_business_days: int
    depends_on: tuple[str, ...]
    needs_packet_ack: bool
    due_on: date


@dataclass(frozen=True)
class MilestoneDraft:
    key: str
    name: str
    position: int
    value_milestone: bool
    due_on: date
    tasks: list[TaskDraft]


@dataclass(frozen=True)
class PlanDraft:
    milestones: list[MilestoneDraft]
    kickoff_on: date
    go_live_on: date


def build_plan(
    playbook: Playbook, *, signed_on: date, expected_go_live: date | None, calendar: WorkCalendar
) -> PlanDraft:
    """Date every task of ``playbook`` for a deal signed on ``signed_on``; positions start at 1.

    Go-live is ``expected_go_live`` as given (even if before kickoff: the plan then shows late tasks),
    else ``go_live_default_business_days`` after signature. Kickoff is the latest due date of the kickoff
    milestone's signature-anchored tasks. A task is never due before a task it depends on.
    """
    specs = {task.key: task for task in playbook.tasks()}
    go_live_on = expected_go_live or calendar.add_business_days(
        signed_on, playbook.go_live_default_business_days)
    early = _schedule([specs[k] for k in _kickoff_closure(playbook)], {"signature": signed_on}, calendar)
    kickoff = next(m for m in playbook.milestones if m.key == KICKOFF)
    kickoff_on = max(early[task.key] for task in kickoff.tasks if task.anchor == "signature")
    anchors = {"signature": signed_on, "kickoff": kickoff_on, "go_live": go_live_on}
    order = _topological_order(list(specs), {key: spec.depends_on for key, spec in specs.items()})
    due = _schedule([specs[key] for key in order], anchors, calendar)
    milestones = [_milestone_draft(m, position, due) for position, m in enumerate(playbook.milestones, 1)]
    return PlanDraft(milestones=milestones, kickoff_on=kickoff_on, go_live_on=go_live_on)


def _schedule(
    specs: Sequence[TaskSpec], anchors: Mapping[str, date], calendar: WorkCalendar
) -> dict[str, date]:
    """Due dates of ``specs`` (given dependencies first)."""
    due: dict[str, date] = {}
    for spec in specs:
        own = calendar.add_business_days(anchors[spec.anchor], spec.offset_business_days)
        due[spec.key] = _not_before(own, [due[dep] for dep in spec.depends_on if dep in due], calendar)
    return due


def _not_before(own: date, floors: Sequence[date], calendar: WorkCalendar) -> date:
    latest = max(floors, default=own)
    return own if own >= latest else calendar.roll_forward(latest)


def _milestone_draft(spec: MilestoneSpec, position: int, due: Mapping[str, date]) -> MilestoneDraft:
    tasks = [
        TaskDraft(key=t.key, title=t.title, position=p, raci=t.raci.model_dump(), anchor=t.anchor,
                  offset_business_days=t.offset_business_days, depends_on=tuple(t.depends_on),
                  needs_packet_ack=t.needs_packet_ack, due_on=due[t.key])
        for p, t in enumerate(spec.tasks, 1)
    ]
    return MilestoneDraft(key=spec.key, name=spec.name, position=position,
                          value_milestone=spec.value_milestone,
                          due_on=max(task.due_on for task in tasks), tasks=tasks)


# ---------------------------------------------------------------------------------------- go-live slip
@dataclass(frozen=True)
class ScheduledTask:
    key: str
    anchor: Anchor
    offset_business_days: int
    due_on: date
    status: str  # a TaskStatus value (a StrEnum member works too)
    depends_on: tuple[str, ...] = ()


@dataclass(frozen=True)
class TaskMove:
    key: str
    old_due_on: date
    new_due_on: date


def reschedule_for_go_live(
    tasks: Sequence[ScheduledTask], *, new_go_live: date, calendar: WorkCalendar
) -> list[TaskMove]:
    """Moves (in input order) when go-live becomes ``new_go_live``.

    Open tasks anchored at go-live are re-dated from it; open tasks depending on a moved task are pushed
    so they are not due before it. Done and skipped tasks never move.
    """
    by_key = {task.key: task for task in tasks}
    due: dict[str, date] = {}
    moved: set[str] = set()
    for key in _topological_order(list(by_key), {k: t.depends_on for k, t in by_key.items()}):
        task = by_key[key]
        deps = [dep for dep in task.depends_on if dep in due]
        new = task.due_on
        if task.status in OPEN_STATUSES and (task.anchor == "go_live" or moved.intersection(deps)):
            own = task.due_on
            if task.anchor == "go_live":
                own = calendar.add_business_days(new_go_live, task.offset_business_days)
            new = _not_before(own, [due[dep] for dep in deps], calendar)
        due[key] = new
        if new != task.due_on:
            moved.add(key)
    return [TaskMove(key=t.key, old_due_on=t.due_on, new_due_on=due[t.key]) for t in tasks if t.key in moved]


MAX_GO_LIVE_YEARS = 5


def go_live_refusal(new_go_live: date, *, signed_on: date) -> str | None:
    """Why a go-live date cannot be set, or None: it cannot come before the signature, nor more than
    :data:`MAX_GO_LIVE_YEARS` years after it (a typo, not a plan)."""
    if new_go_live < signed_on:
        return f"go-live {new_go_live} is before the signature ({signed_on})"
    if (new_go_live - signed_on).days > 366 * MAX_GO_LIVE_YEARS:
        return f"go-live {new_go_live} is more than {MAX_GO_LIVE_YEARS} years after the signature ({signed_on})"
    return None


# ----------------------------------------------------------------------------------------------- status
@dataclass(frozen=True)
class MilestoneState:
    """What :func:`plan_status` reads of a milestone; any object with these attributes will do."""

    key: str
    due_on: date


@dataclass(frozen=True)
class TaskState:
    """What :func:`plan_status` reads of a task (``milestone_status`` needs only ``status``)."""

    milestone_key: str
    status: str  # a TaskStatus value (a StrEnum member works too)
    due_on: date


def milestone_status(tasks: Iterable[TaskState]) -> MilestoneStatus:
    """done when every task is done or skipped; todo while every task is todo; else in_progress."""
    statuses = [str(task.status) for task in tasks]
    if all(status in CLOSED_STATUSES for status in statuses):
        return "done"
    if all(status == "todo" for status in statuses):
        return "todo"
    return "in_progress"


def plan_status(
    milestones: Sequence[MilestoneState], tasks: Sequence[TaskState], today: date
) -> PlanStatus:
    """late if a milestone not done is past due; at_risk if an open task is past due; else on_time.

    A milestone past its date is late while one of its open tasks is past due too: a task added to it
    afterwards (a sales promise due next quarter, say) or re-dated with a reason does not make the plan late
    while every task in it is on time."""
    by_milestone: dict[str, list[TaskState]] = {}
    for task in tasks:
        by_milestone.setdefault(task.milestone_key, []).append(task)
    for milestone in milestones:
        own = by_milestone.get(milestone.key, [])
        if milestone.due_on < today and any(str(t.status) in OPEN_STATUSES and t.due_on < today for t in own):
            return "late"
    if any(str(task.status) in OPEN_STATUSES and task.due_on < today for task in tasks):
        return "at_risk"
    return "on_time"
