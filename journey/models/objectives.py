"""Client business objectives from the handoff packet, and their measured progress over time."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from journey.models.base import Base


class Objective(Base):
    """One objective of a journey, kept in step with the packet (matched by title)."""

    __tablename__ = "objective"
    __table_args__ = (UniqueConstraint("journey_id", "title"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    journey_id: Mapped[int] = mapped_column(ForeignKey("journey.id", ondelete="CASCADE"), index=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("account.id"), index=True)
    title: Mapped[str] = mapped_column(String(500))
    kpi: Mapped[str | None] = mapped_column(String(300))
    baseline: Mapped[float | None]
    target: Mapped[float | None]
    unit: Mapped[str | None] = mapped_column(String(64))
    due_on: Mapped[date | None]
    source: Mapped[str] = mapped_column(String(32), default="sales_assumed")
    metric: Mapped[str | None] = mapped_column(String(64))  # signals of this metric record progress
    active: Mapped[bool] = mapped_column(default=True)  # false once removed from the packet
    status: Mapped[str] = mapped_column(String(16), default="on_track")
    validated_by: Mapped[str | None] = mapped_column(String(320))  # the customer who validated it, and when
    validated_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class ObjectiveProgress(Base):
    """A measured value of the objective's KPI at a time (from a signal, a review or by hand)."""

    __tablename__ = "objective_progress"
    __table_args__ = (UniqueConstraint("objective_id", "signal_ref"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    objective_id: Mapped[int] = mapped_column(ForeignKey("objective.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime]
    value: Mapped[float]
    source: Mapped[str] = mapped_column(String(16))  # signal, review, manual
    note: Mapped[str | None] = mapped_column(Text)
    recorded_by: Mapped[str] = mapped_column(String(320))
    signal_ref: Mapped[str | None] = mapped_column(String(200))  # the signal's id: each one counts once
