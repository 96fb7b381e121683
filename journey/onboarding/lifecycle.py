"""Plan lifecycle rules: task transitions, the packet gate, on-time % and time-to-value. Pure.

A task moves ``todo -> in_progress -> done``, or is ``skipped`` with a reason; ``reopen`` brings a
closed task back to ``todo``. Asking for the state a task is already in changes nothing (a retried
request is harmless). A task marked ``needs_packet_ack`` can be neither started nor done until the CSM
and the AM both accepted the current version of the handoff packet.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Literal

Action = Literal["start", "done", "skip", "reopen"]
ACTIONS: tuple[str, ...] = ("start", "done", "skip", "reopen")

_TARGET = {"start": "in_progress", "done": "done", "skip": "skipped", "reopen": "todo"}
_FROM = {
    "start": {"todo"},
    "done": {"todo", "in_progress"},
    "skip": {"todo", "in_progress"},
    "reopen": {"done", "skipped"},
}


class TransitionRefused(ValueError):
    """The action cannot apply to the task as it is; `code` is stable for API clients."""

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail


@dataclass(frozen=True)
class Transition:
    status: str
    changed: bool


def transition(status: str, action: str, *, gated: bool, reason: str | None = None) -> Transition:
    """The status after `action` on a task in `status`.

    ``gated`` is True while the task needs the packet and the packet is not accepted yet. Raises
    :class:`TransitionRefused` (codes ``unknown_action``, ``reason_required``, ``waits_for_packet``,
    ``invalid_transition``).
    """
    status = str(status)
    if action not in _TARGET:
        raise TransitionRefused("unknown_action", f"action must be one of {', '.join(ACTIONS)}")
    target = _TARGET[action]
    if action == "skip" and not (reason and reason.strip()):
        raise TransitionRefused("reason_required", "skipping a task needs a reason")
    if status == target:
        return Transition(status, changed=False)
    if gated and action in ("start", "done"):
        raise TransitionRefused("waits_for_packet",
                                "this task waits until the CSM and the AM accepted the handoff packet")
    if status not in _FROM[action]:
        hint = " (reopen it first)" if status in ("done", "skipped") else ""
        raise TransitionRefused("invalid_transition", f"cannot {action} a task that is {status}{hint}")
    return Transition(target, changed=True)


# ------------------------------------------------------------------------------------------------ KPIs
@dataclass(frozen=True)
class TaskOutcome:
    """What the KPIs read of a task: its status, due date and the local date it was done."""

    status: str
    due_on: date
    done_on: date | None = None


def on_time_counts(tasks: Iterable[TaskOutcome], today: date) -> tuple[int, int]:
    """(on time, counted): done tasks count, on time when done by their due date; open tasks count
    (as late) once past due; skipped tasks and open tasks not yet due do not count."""
    on_time = counted = 0
    for task in tasks:
        status = str(task.status)
        if status == "done":
            counted += 1
            on_time += task.done_on is not None and task.done_on <= task.due_on
        elif status in ("todo", "in_progress") and task.due_on < today:
            counted += 1
    return on_time, counted


def on_time_pct(tasks: Iterable[TaskOutcome], today: date) -> float | None:
    """Percent of counted tasks that were on time (see :func:`on_time_counts`); None when none count."""
    on_time, counted = on_time_counts(tasks, today)
    return None if counted == 0 else round(100 * on_time / counted, 1)


def time_to_value_days(signed_on: date, value_reached_on: date | None) -> int | None:
    """Calendar days from signature to the first value milestone; None until it is reached."""
    return None if value_reached_on is None else (value_reached_on - signed_on).days


@dataclass(frozen=True)
class Summary:
    accounts: int
    on_time_pct: float | None
    median_time_to_value_days: float | None
    value_reached: int


def summarise(per_account: Sequence[tuple[Sequence[TaskOutcome], int | None]], today: date) -> Summary:
    """A team's figures: on-time % pooled over every counted task, median time-to-value of the
    accounts that reached value."""
    on_time = counted = 0
    for tasks, _ in per_account:
        a, b = on_time_counts(tasks, today)
        on_time, counted = on_time + a, counted + b
    ttv = [days for _, days in per_account if days is not None]
    return Summary(accounts=len(per_account),
                   on_time_pct=None if counted == 0 else round(100 * on_time / counted, 1),
                   median_time_to_value_days=statistics.median(ttv) if ttv else None,
                   value_reached=len(ttv))
