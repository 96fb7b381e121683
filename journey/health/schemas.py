"""Health and signal shapes of the API (docs/reference.md, API)."""
from __future__ import annotations

import math
from datetime import UTC, date, datetime
from typing import Any

from pydantic import BaseModel, Field, field_validator, model_validator

from journey.health import wording
from journey.health.scorecards import METRIC

# ranges of the metrics the default scorecards read; other metrics are free
RANGES: dict[str, tuple[float, float]] = {
    "feature_adoption": (0, 1), "escalation_open": (0, 1), "nps": (-100, 100), "nps_response": (0, 10),
    "csat": (1, 5), "csm_sentiment": (1, 5), "active_users": (0, math.inf), "seats": (0, math.inf),
    "logins_7d": (0, math.inf), "support_tickets_open": (0, math.inf), "invoice_overdue_days": (0, math.inf),
    "objective_progress": (0, 1),
}


class SignalItem(BaseModel):
    id: str = Field(min_length=1, max_length=200)
    account: str = Field(min_length=1, max_length=300, description="our id or crm:<source>:<external id>")
    metric: str
    value: float
    at: datetime = Field(description="ISO time; without an offset it is read as UTC")

    @field_validator("metric")
    @classmethod
    def _metric(cls, value: str) -> str:
        if not METRIC.match(value):
            raise ValueError("a metric is lower case letters, digits and _ . : - (64 at most)")
        return value

    @field_validator("at")
    @classmethod
    def _utc(cls, value: datetime) -> datetime:
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)

    @model_validator(mode="after")
    def _in_range(self) -> SignalItem:
        if not math.isfinite(self.value):
            raise ValueError("value must be a finite number")
        low, high = RANGES.get(self.metric, (-math.inf, math.inf))
        if not low <= self.value <= high:
            raise ValueError(f"{self.metric} must be between {low:g} and {high:g}, got {self.value:g}")
        return self


class SignalBatch(BaseModel):
    items: list[SignalItem] = Field(min_length=1, max_length=5000)


class SignalsAccepted(BaseModel):
    accepted: int
    duplicates: int
    accounts: int
    recomputed: int = Field(description="accounts rescored, and their rules evaluated, before this answer (200)")
    queued: int = Field(default=0, description="accounts queued for evaluation within seconds (202: a batch "
                                               "touching more accounts than JOURNEY_EVALUATE_INLINE_MAX_ACCOUNTS)")
    objective_measurements: int = Field(default=0, description="progress recorded on objectives naming the metric")


class ContributionRead(BaseModel):
    factor: str = Field(description="the scorecard's factor name (a machine key)")
    label: str = Field(default="", description="the factor in words, as the pages show it")
    unit: str = Field(default="", description="how its value reads: ratio (0-1 shown as %), days_ago, count, ...")
    group: str
    metric: str
    value: float | None
    factor_score: float | None
    nominal_weight: float
    weight: float
    points: float
    detail: str | None = Field(default=None, description="how the value came about (plan factors: tasks late)")

    @model_validator(mode="after")
    def _words(self) -> ContributionRead:  # scores stored before labels were get the defaults
        if not self.label:
            self.label = wording.factor_label(self.factor)
        if not self.unit:
            self.unit = wording.guess_unit(self.factor, self.metric)
        return self


class ChangeRead(BaseModel):
    factor: str
    from_: float | None = Field(alias="from", description="the factor's value before")
    to: float | None = Field(description="the factor's value after")
    points_delta: float = Field(description="points the factor gained (+) or lost (-)")

    model_config = {"populate_by_name": True}


class HistoryRead(BaseModel):
    on: date
    score: float
    band: str
    changes: list[ChangeRead] = Field(default_factory=list, description="what moved since the previous scored day")


class ChangesSince(BaseModel):
    since: date
    changes: list[ChangeRead]


class OverrideRead(BaseModel):
    band: str
    reason: str
    set_by: str
    set_at: datetime
    expires_on: date = Field(description="the last day the override holds; it lapses by itself after")


class OverrideIn(BaseModel):
    band: str = Field(min_length=1, max_length=32)
    reason: str = Field(min_length=1, max_length=2000)
    expires_on: date | None = Field(default=None, description="the last day it holds (default: in 30 days)")


class HealthRead(BaseModel):
    score: float = Field(description="0-100; provisional while `band` is unknown")
    band: str = Field(description="the band in force: the override's while one holds, else computed_band")
    computed_band: str = Field(description="the scorecard's band; `unknown` until enough inputs have data")
    provisional: bool = Field(description="too few inputs have data for a band: the score is indicative only")
    evidence: float | None = Field(description="share (0-1) of the scorecard's weight carried by inputs with data")
    min_evidence: float | None = Field(description="the share the scorecard needs for a band (min_weight_with_data)")
    missing_inputs: list[str] = Field(default_factory=list, description="metrics the missing factors lack")
    override: OverrideRead | None
    scorecard: str
    scorecard_version: int
    stage: str | None
    computed_at: datetime
    contributions: list[ContributionRead]
    missing: list[str]
    top_cost_factor: str | None
    explanation: str
    stored: bool
    history: list[HistoryRead]
    trend: dict[str, float | None]
    changes_since: ChangesSince | None = Field(description="what moved since the score of a week ago")

    @classmethod
    def of(cls, data: dict[str, Any]) -> HealthRead:
        return cls.model_validate(data)
