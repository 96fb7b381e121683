"""Raise a reminder: the in-app row plus its outbox messages, in the caller's transaction.

Idempotent by `dedupe_key`: raising the same reminder twice (a job re-run, a retried flow) adds nothing.
Channels are chosen by the sender from the configuration when the outbox is drained, so this module
only records what should be said to whom.
"""
from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, NamedTuple, Protocol

from sqlalchemy.orm import Session

from journey.db import insert_ignoring_duplicates
from journey.errors import Conflict, NotFound
from journey.models import OutboxMessage
from journey.notify import repository


class Message(NamedTuple):
    """What a message says (a named tuple: a sweep makes one per reminder)."""

    subject: str
    body_text: str
    body_html: str | None = None
    attachments: Sequence[dict[str, Any]] = ()  # {"filename", "content_type", "content"}


class Assignee(Protocol):
    """Whom a reminder is for: a `TeamMember`, or a `Recipient` read with the rows it is about."""

    @property
    def id(self) -> int: ...

    @property
    def email(self) -> str: ...


class Recipient(NamedTuple):
    """A team member as a reminder needs them: id and e-mail address."""

    id: int
    email: str


class Reminding(NamedTuple):
    """One reminder to raise with `remind_many`: the arguments of `remind`, as a value (a named tuple: a sweep
    makes one per row, and a frozen dataclass took several times as long to build)."""

    kind: str
    assignee: Assignee
    account_id: int | None
    due_at: datetime
    reason: str
    dedupe_key: str
    subject: str | None = None
    details: dict[str, Any] | None = None
    message: Message | None = None
    channels: tuple[str, ...] = ("email",)


def remind(session: Session, *, kind: str, assignee: Assignee, account_id: int | None, due_at: datetime,
           reason: str, dedupe_key: str, now: datetime, subject: str | None = None,
           details: dict[str, Any] | None = None, message: Message | None = None,
           channels: tuple[str, ...] = ("email",)) -> int | None:
    """Create the reminder (and one outbox message per channel); its id, or None if it already existed."""
    created = remind_many(session, [Reminding(
        kind=kind, assignee=assignee, account_id=account_id, due_at=due_at, reason=reason, dedupe_key=dedupe_key,
        subject=subject, details=details, message=message, channels=channels)], now=now)
    return created.get(dedupe_key)


def remind_many(session: Session, items: Sequence[Reminding], *, now: datetime) -> dict[str, int]:
    """`remind` for a batch: reminders, then their outbox messages, each in multi-row statements.

    Returns {dedupe key: new reminder id} for the reminders created; keys already used (in the
    database or earlier in `items`) are left out, and so are their messages.
    """
    unique = list({item.dedupe_key: item for item in reversed(items)}.values())[::-1]  # first wins
    created = repository.insert_reminders(session, [repository.ReminderRow(
        i.kind, i.account_id, i.assignee.id, i.due_at, i.reason, "open", i.dedupe_key, i.subject, i.details or {}, now)
        for i in unique])
    repository.insert_messages(session, [repository.MessageRow(
        channel, i.assignee.email, m.subject, m.body_text, m.body_html, m.attachments, f"{channel}:{i.dedupe_key}",
        reminder_id, "pending", 0, now, now)
        for i in unique if (m := i.message) is not None and (reminder_id := created.get(i.dedupe_key)) is not None
        for channel in i.channels])
    return created


def enqueue(session: Session, *, channel: str, recipient: str, message: Message, dedupe_key: str, now: datetime,
            reminder_id: int | None = None) -> int | None:
    """One outbox message without an in-app reminder (a digest); its id, or None if the key was used."""
    return insert_ignoring_duplicates(session, OutboxMessage, **_outbox_row(
        channel=channel, recipient=recipient, message=message, dedupe_key=dedupe_key, reminder_id=reminder_id,
        now=now))


def _outbox_row(*, channel: str, recipient: str, message: Message | None, dedupe_key: str,
                reminder_id: int | None, now: datetime) -> dict[str, Any]:
    assert message is not None
    return dict(channel=channel, recipient=recipient, subject=message.subject, body_text=message.body_text,
                body_html=message.body_html, attachments=message.attachments, dedupe_key=dedupe_key,
                reminder_id=reminder_id, status="pending", attempts=0, next_attempt_at=now, created_at=now)



def resend_message(session: Session, *, message_id: int, now: datetime) -> None:
    """A person's decision to send an unconfirmed (or dead) message again: due at once, one more attempt."""

    row = repository.message(session, message_id)
    if row is None:
        raise NotFound(f"no outbox message {message_id}")
    note = f"resent by hand after: {row.error or row.status}"
    if not repository.requeue(session, message_id, now=now, note=note):
        raise Conflict(f"outbox message {message_id} is {row.status}: only unconfirmed or dead messages are resent")
