"""Reminders (the in-app list) and the notification outbox (email, Slack), written in the same
transaction as the change that causes them, sent after the commit, each exactly once."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from journey.models.base import Base


class Reminder(Base):
    """Something a team member should do or know, with the reason in a sentence with the numbers."""

    __tablename__ = "reminder"
    __table_args__ = (Index("ix_reminder_assignee_status", "assignee_id", "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(64))
    account_id: Mapped[int | None] = mapped_column(ForeignKey("account.id"), index=True)
    assignee_id: Mapped[int] = mapped_column(ForeignKey("team_member.id"))
    due_at: Mapped[datetime]
    reason: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="open")  # open, done, dismissed
    dedupe_key: Mapped[str] = mapped_column(String(300), unique=True)
    subject: Mapped[str | None] = mapped_column(String(200))
    details: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime]
    closed_at: Mapped[datetime | None]


class OutboxMessage(Base):
    """One message to deliver on one channel; claimed and sent once, retried with backoff."""

    __tablename__ = "outbox_message"
    __table_args__ = (Index("ix_outbox_message_due", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(16))  # email, slack
    recipient: Mapped[str] = mapped_column(String(320))
    subject: Mapped[str] = mapped_column(String(300))
    body_text: Mapped[str] = mapped_column(Text)
    body_html: Mapped[str | None] = mapped_column(Text)
    attachments: Mapped[list[Any]] = mapped_column(default=list)
    dedupe_key: Mapped[str] = mapped_column(String(300), unique=True)
    reminder_id: Mapped[int | None] = mapped_column(ForeignKey("reminder.id"))
    status: Mapped[str] = mapped_column(String(16), default="pending")  # pending, sent, unconfirmed, dead, skipped
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime | None]
    locked_until: Mapped[datetime | None]
    created_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]
    error: Mapped[str | None] = mapped_column(Text)
