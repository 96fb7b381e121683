"""Raise a reminder: the in-app row plus its outbox messages, in the caller's transaction.

Idempotent by `dedupe_key`: raising the same reminder twice (a job re-run, a retried flow) adds nothing.
Channels are chosen by the sender from the configuration when the outbox is drained, so this module
only records what should be said to whom.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from journey.db import insert_ignoring_duplicates
from journey.models import OutboxMessage, Reminder, TeamMember


@dataclass(frozen=True)
class Message:
    subject: str
    body_text: str
    body_html: str | None = None
    attachments: list[dict[str, Any]] = field(default_factory=list)  # {"filename", "content_type", "content"}


def remind(session: Session, *, kind: str, assignee: TeamMember, account_id: int | None, due_at: datetime,
           reason: str, dedupe_key: str, now: datetime, subject: str | None = None,
           details: dict[str, Any] | None = None, message: Message | None = None,
           channels: tuple[str, ...] = ("email",)) -> int | None:
    """Create the reminder (and one outbox message per channel); its id, or None if it already existed."""
    reminder_id = insert_ignoring_duplicates(
        session, Reminder, kind=kind, account_id=account_id, assignee_id=assignee.id, due_at=due_at, reason=reason,
        status="open", dedupe_key=dedupe_key, subject=subject, details=details or {}, created_at=now)
    if reminder_id is None:
        return None
    if message is not None:
        for channel in channels:
            insert_ignoring_duplicates(
                session, OutboxMessage, channel=channel, recipient=assignee.email, subject=message.subject,
                body_text=message.body_text, body_html=message.body_html, attachments=message.attachments,
                dedupe_key=f"{channel}:{dedupe_key}", reminder_id=reminder_id, status="pending", attempts=0,
                next_attempt_at=now, created_at=now)
    return reminder_id


def enqueue(session: Session, *, channel: str, recipient: str, message: Message, dedupe_key: str, now: datetime,
            reminder_id: int | None = None) -> int | None:
    """One outbox message without an in-app reminder (a digest); its id, or None if the key was used."""
    return insert_ignoring_duplicates(
        session, OutboxMessage, channel=channel, recipient=recipient, subject=message.subject,
        body_text=message.body_text, body_html=message.body_html, attachments=message.attachments,
        dedupe_key=dedupe_key, reminder_id=reminder_id, status="pending", attempts=0, next_attempt_at=now,
        created_at=now)
