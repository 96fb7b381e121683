"""Promises and risks become work: pure rules turning a packet's promises, risks and objectives without a
baseline into plan tasks (key, title, owner, due date, milestone). Same packet in, same tasks out: the key
is a digest of the item's text, so a task is made once per item whatever the number of versions."""
from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from journey.calendar import WorkCalendar
from journey.onboarding.playbook import FromPacket, PacketTaskTemplate

PREFIX = "pk-"  # the keys of tasks made from the packet
INTERNAL_KINDS = ("promise", "risk")  # their tasks quote the packet's internal sections: never shown to customers
_ISO = re.compile(r"\b(\d{4})-(\d{2})-(\d{2})\b")
_QUARTER = re.compile(r"\bQ([1-4])(?:\s*(\d{4}))?\b", re.IGNORECASE)


@dataclass(frozen=True)
class PacketTask:
    key: str
    kind: str  # promise, risk, baseline
    title: str
    responsible: str
    due_on: date
    milestone: str | None


@dataclass(frozen=True)
class Anchors:
    signed_on: date
    kickoff_on: date
    go_live_on: date


def is_internal(task_key: str) -> bool:
    """A task made from a promise or a risk: its title quotes an internal section of the packet."""
    return any(task_key.startswith(f"{PREFIX}{kind}-") for kind in INTERNAL_KINDS)


def key_of(kind: str, text: str) -> str:
    return f"{PREFIX}{kind}-" + hashlib.sha256(" ".join(text.lower().split()).encode()).hexdigest()[:16]


def owner_of_promise(text: str, rules: FromPacket, technical_scope: str | None) -> str:
    """SE for technical scope, AE for commercial terms, else the CSM."""
    words = set(re.findall(r"[a-z]+", text.lower()))
    scope = {w for w in re.findall(r"[a-z]+", (technical_scope or "").lower()) if len(w) >= 3} - {"and", "the"}
    if words & set(rules.technical_words) or words & scope:  # named in the technical scope: the SE's
        return "se"
    if words & set(rules.commercial_words):
        return "ae"
    return "csm"


def promised_date(text: str, *, after: date) -> date | None:
    """The date a promise names: an ISO date, or the end of a quarter ("SSO in Q1" is the first Q1 ending
    after `after` when no year is given); None when it names none."""
    if m := _ISO.search(text):
        try:
            return date(int(m[1]), int(m[2]), int(m[3]))
        except ValueError:
            return None
    if m := _QUARTER.search(text):
        quarter = int(m[1])
        year = int(m[2]) if m[2] else after.year
        end = _quarter_end(year, quarter)
        return end if m[2] or end >= after else _quarter_end(year + 1, quarter)
    return None


def _quarter_end(year: int, quarter: int) -> date:
    return date(year, 12, 31) if quarter == 4 else date(year, quarter * 3 + 1, 1) - timedelta(days=1)


def packet_tasks(content: Mapping[str, Any], rules: FromPacket, anchors: Anchors,
                 calendar: WorkCalendar) -> list[PacketTask]:
    """The tasks the packet asks for, in packet order: promises, then risks, then missing baselines."""
    scope = content.get("technical_scope")
    out: list[PacketTask] = []
    for text in _texts(content.get("promises")):
        due = promised_date(text, after=anchors.signed_on) or _due(rules.promise, anchors, calendar)
        out.append(_task("promise", text, rules.promise, owner_of_promise(text, rules, scope), due))
    for text in _texts(content.get("risks")):
        out.append(_task("risk", text, rules.risk, "csm", _due(rules.risk, anchors, calendar)))
    for objective in content.get("objectives") or []:
        title = str(objective.get("title") or "").strip()
        if title and objective.get("baseline") is None:
            out.append(_task("baseline", title, rules.baseline, "csm", _due(rules.baseline, anchors, calendar)))
    first: dict[str, PacketTask] = {}
    for task in out:
        first.setdefault(task.key, task)  # the first of duplicates wins
    return list(first.values())


def _texts(items: Sequence[Any] | None) -> list[str]:
    return [str(i).strip() for i in items or [] if str(i).strip()]


def _task(kind: str, text: str, template: PacketTaskTemplate, responsible: str, due: date) -> PacketTask:
    return PacketTask(key=key_of(kind, text), kind=kind, title=template.title.replace("{text}", text)[:300],
                      responsible=responsible, due_on=due, milestone=template.milestone)


def _due(template: PacketTaskTemplate, anchors: Anchors, calendar: WorkCalendar) -> date:
    start = {"signature": anchors.signed_on, "kickoff": anchors.kickoff_on, "go_live": anchors.go_live_on}
    return calendar.add_business_days(start[template.anchor], template.offset_business_days)


def milestone_for(task: PacketTask, milestones: Sequence[tuple[str, date]]) -> str:
    """The template's milestone if the plan has it, else the first due on or after the task, else the last."""
    keys = [k for k, _ in milestones]
    if task.milestone in keys:
        return task.milestone  # type: ignore[return-value]
    return next((k for k, due in milestones if due >= task.due_on), keys[-1])
