"""Health: dated signals per account, the current score with the scorecard version that produced it,
its daily history with the factors that moved it, the CSM's override of the band, and the CSM's
do-not-contact hold on expansion outreach."""
from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from journey.models.base import Base

_JSON_OR_NULL = JSON(none_as_null=True).with_variant(JSONB(none_as_null=True), "postgresql")


class Signal(Base):
    """One measurement (`metric` = `value` at `at`) about an account; `external_id` makes a resend a no-op."""

    __tablename__ = "signal"
    # the value too: the recompute's window aggregates read the index alone (no table row per signal)
    __table_args__ = (Index("ix_signal_account_metric_at_value", "account_id", "metric", "at", "value"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    external_id: Mapped[str] = mapped_column(String(200), unique=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("account.id", ondelete="CASCADE"))
    metric: Mapped[str] = mapped_column(String(64))
    value: Mapped[float]
    at: Mapped[datetime]
    source: Mapped[str] = mapped_column(String(32), default="api")
    received_at: Mapped[datetime]


class HealthScore(Base):
    """The account's current score and its explanation (one row per account, replaced on recompute).

    `band` is the band in force (an override's while it holds), the one reminders and KPIs read;
    `computed_band` is the scorecard's (`unknown` while too little data is in)."""

    __tablename__ = "health_score"

    account_id: Mapped[int] = mapped_column(ForeignKey("account.id", ondelete="CASCADE"), primary_key=True)
    score: Mapped[float]
    band: Mapped[str] = mapped_column(String(32))
    scorecard: Mapped[str] = mapped_column(String(100))
    scorecard_version: Mapped[int]
    stage: Mapped[str] = mapped_column(String(16))
    computed_at: Mapped[datetime]
    contributions: Mapped[list[Any]] = mapped_column(default=list)
    missing: Mapped[list[Any]] = mapped_column(default=list)
    top_cost_factor: Mapped[str | None] = mapped_column(String(100))
    previous_band: Mapped[str | None] = mapped_column(String(32))
    band_changed_at: Mapped[datetime | None]
    computed_band: Mapped[str | None] = mapped_column(String(32))
    evidence: Mapped[float | None]  # share of the card's weight carried by inputs with data
    min_evidence: Mapped[float | None]  # the card's min_weight_with_data
    missing_inputs: Mapped[list[Any]] = mapped_column(default=list)


class HealthHistory(Base):
    """The score of each day (the last computation of that day wins), for trends and back-tests.

    `factors` is {factor: [value, points]} when they differ from the previous day's (null: unchanged),
    `changes` what moved since then: [{factor, from, to, points_delta}]."""

    __tablename__ = "health_history"
    __table_args__ = (UniqueConstraint("account_id", "day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("account.id", ondelete="CASCADE"))
    day: Mapped[date]
    score: Mapped[float]
    band: Mapped[str] = mapped_column(String(32))
    scorecard_version: Mapped[int]
    factors: Mapped[dict[str, Any] | None] = mapped_column(_JSON_OR_NULL)  # None is SQL NULL, never JSON null
    changes: Mapped[list[Any]] = mapped_column(default=list)


class HealthOverride(Base):
    """The band a CSM or manager set by hand, why, and the last day it holds (then it lapses)."""

    __tablename__ = "health_override"

    account_id: Mapped[int] = mapped_column(ForeignKey("account.id", ondelete="CASCADE"), primary_key=True)
    band: Mapped[str] = mapped_column(String(32))
    reason: Mapped[str] = mapped_column(Text)
    set_by_id: Mapped[int | None] = mapped_column(ForeignKey("team_member.id", ondelete="SET NULL"))
    set_by: Mapped[str] = mapped_column(String(320))
    set_at: Mapped[datetime]
    expires_on: Mapped[date]


class ContactHold(Base):
    """The CSM asked that nobody pitch this account (expansion reminders are held back while it is set)."""

    __tablename__ = "contact_hold"

    account_id: Mapped[int] = mapped_column(ForeignKey("account.id", ondelete="CASCADE"), primary_key=True)
    set_by_id: Mapped[int | None] = mapped_column(ForeignKey("team_member.id"))
    reason: Mapped[str | None] = mapped_column(Text)
    until: Mapped[date | None]
    created_at: Mapped[datetime]
    details: Mapped[dict[str, Any]] = mapped_column(default=dict)
