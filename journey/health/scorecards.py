"""Scorecards: versioned YAML (templates/scorecards/) per segment and lifecycle stage. Pure: no database.

A scorecard has groups of factors. A factor reads one metric over a window (latest value, mean, min,
max, sum, count or days since the last one; optionally divided by the latest value of another metric),
maps it to 0-100 with `thresholds` (steps) or a `curve` (straight lines between points), and has a
weight inside its group; groups have weights too. Bands name score ranges (`red` below 50, ...).

Until the factors with data carry `min_weight_with_data` of the card's weight (default half), the band is
`unknown` and the score provisional. A plan factor (`plan_on_time`, `tasks_overdue`) may give `lateness`:
a grace period in business days and the lateness at which a task costs all it can (see `domain.py`).
"""
from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from typing import Literal, TypeVar

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from journey.health.wording import Unit
from journey.yamlconf import compose, line_of

Stage = Literal["onboarding", "adopted"]
Aggregate = Literal["latest", "mean", "min", "max", "sum", "count", "days_since_last"]
M = TypeVar("M", bound=BaseModel)
METRIC = re.compile(r"^[a-z][a-z0-9_.:-]{0,63}$")


class ScorecardError(ValueError):
    """A scorecard (or reminder rules file) that cannot be used, with its file and the line of each problem."""

    def __init__(self, problems: Sequence[tuple[int | None, str]], *, path: Path | str | None = None):
        self.path = None if path is None else str(path)
        self.problems = list(problems)
        where = (lambda line: f"{self.path} line {line}: " if line else f"{self.path}: ") if self.path else (
            lambda line: "")
        super().__init__("\n".join(where(line) + msg for line, msg in self.problems))


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Threshold(_Spec):
    """`points` when the value is below `below` (the first that matches); no `below` = everything else."""

    below: float | None = None
    points: float = Field(ge=0, le=100)


PLAN_METRICS = ("plan_on_time", "tasks_overdue")


class Lateness(_Spec):
    """How late a plan task is held against the account: a task's penalty is
    min(1, business days late beyond `grace_business_days` / `full_penalty_business_days`)."""

    grace_business_days: int = Field(default=2, ge=0, le=30)
    full_penalty_business_days: int = Field(default=10, ge=1, le=60)


class Factor(_Spec):
    name: str = Field(min_length=1, max_length=100)
    metric: str
    per: str | None = None
    aggregate: Aggregate = "latest"
    window_days: int = Field(default=30, ge=1, le=3650)
    weight: float = Field(gt=0)
    thresholds: tuple[Threshold, ...] = ()
    curve: tuple[tuple[float, float], ...] = ()
    lateness: Lateness | None = None
    description: str = ""
    label: str = Field(default="", max_length=100)  # how pages say the factor; default: `wording.FACTOR_LABELS`
    unit: Unit | None = None  # how its value reads; default by metric (`wording.METRIC_UNITS`)

    @field_validator("metric", "per")
    @classmethod
    def _metric_name(cls, value: str | None) -> str | None:
        if value is not None and not METRIC.match(value):
            raise ValueError(f"{value!r} is not a metric name (lower case, digits, _ . : -)")
        return value

    @model_validator(mode="after")
    def _one_mapping(self) -> Factor:
        if bool(self.thresholds) == bool(self.curve):
            raise ValueError(f"factor {self.name!r}: give either thresholds or a curve")
        if self.lateness is not None and self.metric not in PLAN_METRICS:
            raise ValueError(f"factor {self.name!r}: lateness applies to the plan metrics "
                             f"({', '.join(PLAN_METRICS)}), not to {self.metric!r}")
        if self.thresholds:
            bounds = [t.below for t in self.thresholds]
            if bounds[-1] is not None or None in bounds[:-1]:
                raise ValueError(f"factor {self.name!r}: only the last threshold may (and must) omit 'below'")
            if any(a >= b for a, b in zip(bounds[:-2], bounds[1:-1], strict=False)):  # type: ignore[operator]
                raise ValueError(f"factor {self.name!r}: thresholds must be in increasing order of 'below'")
        if self.curve:
            xs = [x for x, _ in self.curve]
            if any(a >= b for a, b in zip(xs, xs[1:], strict=False)):
                raise ValueError(f"factor {self.name!r}: curve points must be in increasing order of value")
            if any(not 0 <= y <= 100 for _, y in self.curve):
                raise ValueError(f"factor {self.name!r}: curve points must be between 0 and 100")
        return self


class Group(_Spec):
    name: str = Field(min_length=1)
    weight: float = Field(gt=0)
    factors: tuple[Factor, ...] = Field(min_length=1)


class Band(_Spec):
    name: str = Field(min_length=1, max_length=32)
    below: float | None = Field(default=None, gt=0, le=100)


class Scorecard(_Spec):
    name: str = Field(min_length=1, max_length=100)
    version: int = Field(ge=1)
    description: str = ""
    segments: tuple[str, ...] = ()
    stage: Stage
    min_weight_with_data: float = Field(default=0.5, ge=0, le=1)
    bands: tuple[Band, ...] = Field(min_length=1)
    groups: tuple[Group, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _check(self) -> Scorecard:
        names = [f.name for g in self.groups for f in g.factors]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"factor names must be unique: {', '.join(dupes)}")
        return self

    @field_validator("bands")
    @classmethod
    def _bands_in_order(cls, bands: tuple[Band, ...]) -> tuple[Band, ...]:
        if any(b.name == "unknown" for b in bands):
            raise ValueError("'unknown' is the band of an account with too little data; name bands otherwise")
        bounds = [b.below for b in bands]
        if bounds and (bounds[-1] is not None or None in bounds[:-1]):
            raise ValueError("only the last band may (and must) omit 'below'")
        if any(a >= b for a, b in zip(bounds[:-2], bounds[1:-1], strict=False)):  # type: ignore[operator]
            raise ValueError("bands must be in increasing order of 'below'")
        return bands

    @property
    def factors(self) -> list[Factor]:
        return [f for g in self.groups for f in g.factors]

    @property
    def metrics(self) -> set[str]:
        return {m for f in self.factors for m in (f.metric, f.per) if m}

    @property
    def windows(self) -> set[int]:
        return {f.window_days for f in self.factors}

    @property
    def label(self) -> str:
        return f"{self.name} v{self.version}"


def load_yaml_model(path: Path, model: type[M], what: str) -> M:
    """Read and validate a YAML file into `model`; :class:`ScorecardError` names the file and the line."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
        data = yaml.safe_load(text)
    except OSError as exc:
        raise ScorecardError([(None, f"cannot read: {exc.strerror or exc}")], path=path) from exc
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or str(exc)
        raise ScorecardError([(mark.line + 1 if mark else None, f"invalid YAML: {problem}")], path=path) from exc
    if not isinstance(data, dict):
        raise ScorecardError([(1, f"a {what} must be a YAML mapping")], path=path)
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise ScorecardError(located_problems(exc, text), path=path) from None


def load_scorecard(path: Path) -> Scorecard:
    return load_yaml_model(path, Scorecard, "scorecard")


def located_problems(exc: ValidationError, text: str) -> list[tuple[int | None, str]]:
    """Each pydantic error with the 1-based line of the deepest key it names."""
    root = compose(text)
    problems: list[tuple[int | None, str]] = []
    for error in exc.errors():
        loc = tuple(error["loc"])
        where = ".".join(map(str, loc))
        msg = str(error["msg"]).removeprefix("Value error, ")
        problems.append((line_of(root, loc), f"{where}: {msg}" if where else msg))
    return problems


def load_scorecards(directory: Path) -> list[Scorecard]:
    """Every scorecard of a directory; one (name, version) and one (segment, stage) per file."""
    cards: list[Scorecard] = []
    seen: dict[tuple[str, str], str] = {}
    for path in sorted([*Path(directory).glob("*.yaml"), *Path(directory).glob("*.yml")]):
        card = load_scorecard(path)
        for segment in card.segments or ("*",):
            key = (_norm(segment), card.stage)
            if key in seen:
                raise ScorecardError([(None, f"segment {segment!r} at stage {card.stage!r} is already "
                                             f"scored by {seen[key]!r}")], path=path)
            seen[key] = card.label
        cards.append(card)
    return cards


def scorecard_for(cards: Sequence[Scorecard], *, segment: str | None, stage: str) -> Scorecard:
    """The card listing the segment at that stage, else the stage's card without segments."""
    wanted = _norm(segment) if segment else None
    at_stage = [c for c in cards if c.stage == stage] or list(cards)
    for card in at_stage:
        if wanted and wanted in map(_norm, card.segments):
            return card
    fallback = [c for c in at_stage if not c.segments]
    if not fallback:
        raise ScorecardError([(None, f"no scorecard for segment {segment!r} at stage {stage!r} and no "
                                     "scorecard without segments for that stage")])
    return fallback[0]


def _norm(segment: str) -> str:
    return segment.strip().lower().replace("-", "_").replace(" ", "_")
