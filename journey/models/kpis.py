"""The weekly review: KPI snapshots per ISO week and scope, and the AM's expansion opportunities."""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import ForeignKey, Numeric, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from journey.models.base import Base


class KpiSnapshot(Base):
    """What the five KPIs and the money figures were in one ISO week (Monday 00:00 UTC onwards), for one
    scope: `team`, `segment:<s>`, `region:<r>`, `member:<id>` or a book within a segment or region
    (`member:<id>|region:<r>`). One row per (week, scope)."""

    __tablename__ = "kpi_snapshot"
    __table_args__ = (UniqueConstraint("week", "scope"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    week: Mapped[str] = mapped_column(String(8))  # 2027-W05
    week_start: Mapped[date] = mapped_column(index=True)
    scope: Mapped[str] = mapped_column(String(100))
    member_id: Mapped[int | None] = mapped_column(ForeignKey("team_member.id", ondelete="CASCADE"))
    figures: Mapped[dict[str, Any]] = mapped_column(default=dict)
    as_of: Mapped[datetime]  # the instant the figures describe (the week's end, or when taken if earlier)
    taken_at: Mapped[datetime]
    source: Mapped[str] = mapped_column(String(16), default="job")  # job, backfill


class Opportunity(Base):
    """An expansion opportunity: raised at a review, by an expansion rule or by hand; the AM sets its amount
    and moves it through open → proposed → won / lost."""

    __tablename__ = "opportunity"

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("account.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(String(300))
    amount: Mapped[Decimal | None] = mapped_column(Numeric(18, 2))
    stage: Mapped[str] = mapped_column(String(16), default="open")
    source: Mapped[str] = mapped_column(String(16), default="manual")  # review, rule, manual
    review_id: Mapped[int | None] = mapped_column(ForeignKey("review.id", ondelete="SET NULL"))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    closed_at: Mapped[datetime | None]  # when it was won or lost
