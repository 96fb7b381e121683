"""Reviews at 90 days, 3 and 6 months (or as a playbook configures), and their reminder state."""
from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from journey.models.base import Base


class Review(Base):
    __tablename__ = "review"
    __table_args__ = (
        UniqueConstraint("journey_id", "kind"),
        Index("ix_review_status_due", "status", "due_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    journey_id: Mapped[int] = mapped_column(ForeignKey("journey.id", ondelete="CASCADE"), index=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("account.id"), index=True)
    kind: Mapped[str] = mapped_column(String(64))
    title: Mapped[str] = mapped_column(String(200))
    anchor: Mapped[str] = mapped_column(String(16))
    due_on: Mapped[date]
    starts_at: Mapped[datetime | None]
    ends_at: Mapped[datetime | None]
    scheduled_at: Mapped[datetime | None]
    status: Mapped[str] = mapped_column(String(16), default="proposed")
    status_before_pause: Mapped[str | None] = mapped_column(String(16))
    fixed_by_hand: Mapped[bool] = mapped_column(default=False)
    sequence: Mapped[int] = mapped_column(default=0)
    attendees: Mapped[list[Any]] = mapped_column(default=list)
    remind_days_before: Mapped[list[Any]] = mapped_column(default=list)
    outcome: Mapped[str | None] = mapped_column(Text)
    # {"progress": [{"objective", "value", "comment"}], "expansion_opportunities": [...], "next_steps": [...]}
    outcome_details: Mapped[dict[str, Any] | None]
    held_at: Mapped[datetime | None]
    missed_at: Mapped[datetime | None]


class ReviewReminder(Base):
    """One reminder of one review at one lead time, for one version (`sequence`) of its date.

    Rows are the truth the scheduler sweeps: `pending` until due, then claimed in one SQL statement
    (`sent`), or `skipped` (the review moved, was held or cancelled, or has already started) or
    `superseded` (a nearer reminder of the same review was due too: a scheduler that was down sends
    the latest one, not a burst).
    """

    __tablename__ = "review_reminder"
    __table_args__ = (
        UniqueConstraint("review_id", "sequence", "lead_days"),
        Index("ix_review_reminder_status_due", "status", "due_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    review_id: Mapped[int] = mapped_column(ForeignKey("review.id", ondelete="CASCADE"), index=True)
    sequence: Mapped[int]
    lead_days: Mapped[int]
    due_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(16), default="pending")
    sent_at: Mapped[datetime | None]
