"""Drain the outbox (scheduler job): claim due messages, send each, record the outcome.

Claim-once: a claim is one UPDATE that leases rows (`locked_until`) so two drainers never hold the same
message; `mark_sent` only flips a still-pending row. Failures are retried with exponential backoff
(1, 2, 4 ... minutes, at most 6 hours, or the receiver's `Retry-After`) and become dead letters after
`JOURNEY_OUTBOX_MAX_ATTEMPTS`. Each attempt is its own transaction, so a crash loses nothing: the lease
expires and the message is sent then. The one window left is a crash between the receiver accepting a
message and our commit of `sent`: e-mails carry a Message-ID derived from the outbox key so mail
servers can drop that copy; Slack incoming webhooks offer no such key.
"""
from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta

import structlog

from journey import db
from journey.notify import repository
from journey.notify.senders import Outgoing, PermanentFailure, RetryLater, Sender

log = structlog.get_logger("journey.outbox")
LEASE = timedelta(minutes=5)


def backoff(attempts: int) -> timedelta:
    return min(timedelta(minutes=2 ** max(0, attempts - 1)), timedelta(hours=6))


def drain_outbox(now: datetime, *, senders: Mapping[str, Sender] | None = None, batch: int = 50,
                 max_attempts: int | None = None) -> dict[str, int]:
    """Send every message due at `now`; counts of sent, retried, dead and skipped (channel not configured)."""
    from journey.config import get_settings
    from journey.notify.senders import senders_from_settings

    senders = senders_from_settings() if senders is None else senders
    max_attempts = max_attempts or get_settings().outbox_max_attempts
    counts = {"sent": 0, "retry": 0, "dead": 0, "skipped": 0}
    while True:
        with db.transaction() as session:
            ids = repository.claim_due(session, now=now, limit=batch, lease=LEASE)
        if not ids:
            return counts
        for message_id in ids:
            counts[_deliver(message_id, senders=senders, now=now, max_attempts=max_attempts)] += 1


def _deliver(message_id: int, *, senders: Mapping[str, Sender], now: datetime, max_attempts: int) -> str:
    with db.transaction(writer=False) as session:
        row = repository.message(session, message_id)
        if row is None or row.status != "pending":
            return "skipped"
        outgoing = Outgoing(row.id, row.channel, row.recipient, row.subject, row.body_text, row.body_html,
                            list(row.attachments or []), row.dedupe_key)
        attempts = row.attempts
    sender = senders.get(outgoing.channel)
    if sender is None:
        return _record(message_id, "skipped", f"no {outgoing.channel} configured: in-app only", None)
    try:
        sender.send(outgoing)
    except PermanentFailure as exc:
        log.warning("outbox.dead", message_id=message_id, channel=outgoing.channel, error=str(exc))
        return _record(message_id, "dead", str(exc), None)
    except Exception as exc:  # noqa: BLE001 - anything else may work on a later attempt
        if attempts >= max_attempts:
            return _record(message_id, "dead", f"gave up after {attempts} attempts: {exc}", None)
        wait = backoff(attempts)
        if isinstance(exc, RetryLater) and exc.after_seconds:
            wait = max(wait, timedelta(seconds=exc.after_seconds))
        log.info("outbox.retry", message_id=message_id, channel=outgoing.channel, attempts=attempts, error=str(exc))
        return _record(message_id, "retry", str(exc) or type(exc).__name__, now + wait)
    with db.transaction() as session:
        repository.mark_sent(session, message_id, now=now)
    return "sent"


def _record(message_id: int, outcome: str, error: str, next_attempt_at: datetime | None) -> str:
    status = {"retry": "pending", "dead": "dead", "skipped": "skipped"}[outcome]
    with db.transaction() as session:
        repository.mark_failed(session, message_id, error=error, next_attempt_at=next_attempt_at, status=status)
    return outcome
