"""Onboarding playbooks: the YAML models, their validation and loading. Pure: no database, no settings.

A playbook (YAML under ``templates/playbooks/``) lists milestones and tasks with RACI roles and due
dates relative to an anchor (signature, kickoff or go-live), counted in business days of the account's
calendar. :func:`load_playbook` validates one file and names the file and the line of each problem.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from journey.yamlconf import compose, line_of

INTERNAL_ROLES = ("ae", "se", "csm", "am", "manager")
CUSTOMER_ROLES = ("executive_sponsor", "champion", "day_to_day", "technical_lead", "billing")
Role = Literal["ae", "se", "csm", "am", "manager",
               "executive_sponsor", "champion", "day_to_day", "technical_lead", "billing"]
Anchor = Literal["signature", "kickoff", "go_live"]
KICKOFF = "kickoff"
Loc = tuple[str | int, ...]

# ---------------------------------------------------------------------------------------------- errors
class PlaybookError(ValueError):
    """A playbook that cannot be used, with the file and (when known) the line of each problem."""

    def __init__(self, problems: Sequence[tuple[int | None, str]], *, path: Path | str | None = None):
        self.path = None if path is None else str(path)
        self.problems = list(problems)
        self.line = self.problems[0][0] if self.problems else None
        super().__init__("\n".join(_where(self.path, line) + msg for line, msg in self.problems))


def _where(path: str | None, line: int | None) -> str:
    if path is None:
        return ""
    return f"{path} line {line}: " if line else f"{path}: "


class _Problems(ValueError):
    """Cross-field problems found by the Playbook validator, each with its location in the document."""

    def __init__(self, problems: list[tuple[Loc, str]]):
        self.problems = problems
        super().__init__("; ".join(msg for _, msg in problems))


# ---------------------------------------------------------------------------------------------- models
class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Raci(_Spec):
    responsible: Role
    accountable: Role
    consulted: list[Role] = []
    informed: list[Role] = []


class TaskSpec(_Spec):
    key: str = Field(min_length=1)
    title: str = Field(min_length=1)
    raci: Raci
    anchor: Anchor
    offset_business_days: int
    depends_on: list[str] = []
    needs_packet_ack: bool = False


class MilestoneSpec(_Spec):
    key: str = Field(min_length=1)
    name: str = Field(min_length=1)
    value_milestone: bool = False
    tasks: list[TaskSpec] = Field(min_length=1)


class PacketTaskTemplate(_Spec):
    """How an item of the packet becomes a task: its title (`{text}` is the item), where it is due from and
    in which milestone it goes (default: the first milestone due on or after the task)."""

    title: str = Field(min_length=1)
    anchor: Anchor = "kickoff"
    offset_business_days: int = 10
    milestone: str | None = None


class FromPacket(_Spec):
    """`from_packet:` of a playbook: the tasks made from the packet's promises, risks and objectives
    without a baseline; a promise's owner is the SE for technical scope, the AE for commercial terms,
    else the CSM (matched on the words below, case-insensitive)."""

    promise: PacketTaskTemplate = PacketTaskTemplate(title="Keep the promise: {text}", offset_business_days=20)
    risk: PacketTaskTemplate = PacketTaskTemplate(title="Mitigate the risk: {text}", offset_business_days=5)
    baseline: PacketTaskTemplate = PacketTaskTemplate(title="Measure the baseline: {text}", offset_business_days=10)
    technical_words: list[str] = ["sso", "saml", "scim", "api", "integration", "sync", "import", "export",
                                  "webhook", "data", "security", "sandbox", "migration", "technical"]
    commercial_words: list[str] = ["price", "pricing", "discount", "invoice", "billing", "payment", "contract",
                                   "renewal", "credit", "seats", "licence", "license", "refund", "commercial"]


class Playbook(_Spec):
    name: str = Field(min_length=1)
    version: int = Field(ge=1)
    description: str = ""
    segments: list[str] = []
    go_live_default_business_days: int = Field(ge=1)
    kickoff_within_business_days: int = Field(default=10, ge=0)
    milestones: list[MilestoneSpec] = Field(min_length=1)
    reviews: list[dict[str, Any]] = []
    packet: dict[str, Any] = {}
    from_packet: FromPacket = FromPacket()

    @model_validator(mode="after")
    def _check_structure(self) -> Playbook:
        problems = _structure_problems(self)
        if problems:
            raise _Problems(problems)
        return self

    def tasks(self) -> list[TaskSpec]:
        return [task for milestone in self.milestones for task in milestone.tasks]

    @property
    def value_milestone_key(self) -> str | None:
        """The first value milestone: reaching it is time-to-value."""
        return next((m.key for m in self.milestones if m.value_milestone), None)


def _task_locs(playbook: Playbook) -> dict[str, Loc]:
    return {task.key: ("milestones", m, "tasks", t, "key")
            for m, milestone in enumerate(playbook.milestones) for t, task in enumerate(milestone.tasks)}


def _structure_problems(playbook: Playbook) -> list[tuple[Loc, str]]:
    problems: list[tuple[Loc, str]] = []
    seen_milestones: set[str] = set()
    seen_tasks: set[str] = set()
    for m, milestone in enumerate(playbook.milestones):
        if milestone.key in seen_milestones:
            problems.append((("milestones", m, "key"), f"duplicate milestone key {milestone.key!r}"))
        seen_milestones.add(milestone.key)
        for t, task in enumerate(milestone.tasks):
            if task.key in seen_tasks:
                problems.append((("milestones", m, "tasks", t, "key"), f"duplicate task key {task.key!r}"))
            seen_tasks.add(task.key)
    for m, milestone in enumerate(playbook.milestones):
        for t, task in enumerate(milestone.tasks):
            for d, dep in enumerate(task.depends_on):
                if dep not in seen_tasks:
                    loc = ("milestones", m, "tasks", t, "depends_on", d)
                    problems.append((loc, f"task {task.key!r} depends on unknown task {dep!r}"))
    if problems:
        return problems
    return _cycle_problems(playbook) or _kickoff_problems(playbook)


def _cycle_problems(playbook: Playbook) -> list[tuple[Loc, str]]:
    deps = {task.key: task.depends_on for task in playbook.tasks()}
    stuck = _ordered(list(deps), deps)[1]
    if not stuck:
        return []
    return [(_task_locs(playbook)[stuck[0]], f"dependency cycle among tasks {', '.join(map(repr, stuck))}")]


def _kickoff_problems(playbook: Playbook) -> list[tuple[Loc, str]]:
    """The kickoff milestone must exist and its date must follow from signature-anchored tasks only."""
    kickoff = next((m for m in playbook.milestones if m.key == KICKOFF), None)
    if kickoff is None:
        return [(("milestones",), f"no milestone with key {KICKOFF!r}")]
    m = playbook.milestones.index(kickoff)
    if not any(task.anchor == "signature" for task in kickoff.tasks):
        return [(("milestones", m, "key"), "the kickoff milestone needs a task anchored at signature")]
    by_key = {task.key: task for task in playbook.tasks()}
    locs = _task_locs(playbook)
    problems: list[tuple[Loc, str]] = []
    limit = playbook.kickoff_within_business_days
    for key in _kickoff_closure(playbook):
        task = by_key[key]
        if task.anchor != "signature":
            msg = f"kickoff depends on task {key!r}, which is not anchored at signature"
            problems.append((locs[key], msg))
        elif not 0 <= task.offset_business_days <= limit:
            msg = f"task {key!r} sets the kickoff, so its offset must be 0 to {limit} business days"
            problems.append((locs[key][:-1] + ("offset_business_days",), msg))
    return problems


def _kickoff_closure(playbook: Playbook) -> list[str]:
    """Keys of the kickoff's signature-anchored tasks and everything they depend on, in schedule order."""
    kickoff = next(m for m in playbook.milestones if m.key == KICKOFF)
    deps = {task.key: task.depends_on for task in playbook.tasks()}
    todo = [task.key for task in kickoff.tasks if task.anchor == "signature"]
    closure: set[str] = set()
    while todo:
        key = todo.pop()
        if key not in closure:
            closure.add(key)
            todo.extend(deps[key])
    return [key for key in _topological_order(list(deps), deps) if key in closure]


def _topological_order(keys: Sequence[str], deps: Mapping[str, Iterable[str]]) -> list[str]:
    """Dependencies first, stable in input order; unknown dependencies are ignored, cyclic keys go last."""
    ordered, stuck = _ordered(keys, deps)
    return ordered + stuck


def _ordered(keys: Sequence[str], deps: Mapping[str, Iterable[str]]) -> tuple[list[str], list[str]]:
    """(keys in dependency order, keys left over because they sit on or behind a cycle)."""
    known = set(keys)
    placed: list[str] = []
    done: set[str] = set()
    pending = list(keys)
    while pending:
        ready = [k for k in pending if all(d in done or d not in known for d in deps.get(k, ()))]
        if not ready:
            break
        placed.extend(ready)
        done.update(ready)
        pending = [k for k in pending if k not in done]
    return placed, pending


# --------------------------------------------------------------------------------------------- loading
def load_playbook(path: Path) -> Playbook:
    """Read and validate one playbook file; :class:`PlaybookError` names the file and the line."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise PlaybookError([(None, f"cannot read: {exc.strerror or exc}")], path=path) from exc
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        problem = getattr(exc, "problem", None) or str(exc)
        raise PlaybookError([(line, f"invalid YAML: {problem}")], path=path) from exc
    if not isinstance(data, dict):
        raise PlaybookError([(1, "a playbook must be a YAML mapping")], path=path)
    try:
        return Playbook.model_validate(data)
    except ValidationError as exc:
        raise PlaybookError(_located_problems(exc, text), path=path) from None


def load_playbooks(directory: Path) -> dict[str, Playbook]:
    """Every ``*.yaml`` / ``*.yml`` playbook of a directory, by name; names and segments must be unique."""
    directory = Path(directory)
    playbooks: dict[str, Playbook] = {}
    segment_owner: dict[str, str] = {}
    for path in sorted([*directory.glob("*.yaml"), *directory.glob("*.yml")]):
        playbook = load_playbook(path)
        if playbook.name in playbooks:
            raise PlaybookError([(None, f"playbook {playbook.name!r} is defined twice")], path=path)
        for segment in map(_normalise_segment, playbook.segments):
            if segment in segment_owner:
                msg = f"segment {segment!r} is already in playbook {segment_owner[segment]!r}"
                raise PlaybookError([(None, msg)], path=path)
            segment_owner[segment] = playbook.name
        playbooks[playbook.name] = playbook
    return playbooks


def playbook_for_segment(playbooks: Mapping[str, Playbook], segment: str | None) -> Playbook:
    """The playbook listing ``segment`` (case, spaces and dashes ignored), else the one named default."""
    wanted = _normalise_segment(segment) if segment else None
    for playbook in playbooks.values():
        if wanted and wanted in map(_normalise_segment, playbook.segments):
            return playbook
    if "default" in playbooks:
        return playbooks["default"]
    raise PlaybookError([(None, f"no playbook for segment {segment!r} and no playbook named 'default'")])


def _normalise_segment(segment: str) -> str:
    return segment.strip().lower().replace("-", "_").replace(" ", "_")


def _located_problems(exc: ValidationError, text: str) -> list[tuple[int | None, str]]:
    root = compose(text)
    problems: list[tuple[int | None, str]] = []
    for error in exc.errors():
        inner = error.get("ctx", {}).get("error")
        if isinstance(inner, _Problems):
            problems.extend((line_of(root, loc), msg) for loc, msg in inner.problems)
        else:
            loc = tuple(error["loc"])
            where = ".".join(map(str, loc))
            problems.append((line_of(root, loc), f"{where}: {error['msg']}" if where else error["msg"]))
    return problems
