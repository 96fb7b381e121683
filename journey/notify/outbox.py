"""Drain the outbox (scheduler job): claim due messages, send each, record the outcome.

Claim-once: a claim is one UPDATE that leases rows (`locked_until`) and bumps `attempts`, which is the
claimer's fencing token. Before each send the drainer extends its lease on that one message, only if it
still holds it (status pending, same `attempts`): a batch of slow sends that outlasts the lease loses the
messages another drainer took over, instead of sending them a second time. `mark_*` carry the same token.

Outcomes: sent; retried with exponential backoff (1, 2, 4 ... minutes, at most 6 hours, or the receiver's
`Retry-After`) when nothing reached the receiver or it refused for now; dead at once when retrying cannot
help, or after `JOURNEY_OUTBOX_MAX_ATTEMPTS`; `unconfirmed` when the message went out and no answer came
back (a read timeout): it may have been delivered, so it is not resent by itself. `journey outbox list
--status unconfirmed` shows those and `journey outbox resend ID` sends one again, a person's decision.

What is left: a crash between the receiver accepting a message and our commit of `sent`. The lease runs
out and the message is sent again. E-mails carry a Message-ID derived from the outbox key, which some
mail servers use to drop the copy; Slack incoming webhooks offer no such key, so Slack shows it twice.
"""
from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta

import structlog

from journey import db
from journey.config import get_settings
from journey.notify import repository
from journey.notify.senders import Outgoing, PermanentFailure, RetryLater, Sender, Unconfirmed, senders_from_settings

log = structlog.get_logger("journey.outbox")
LEASE = timedelta(minutes=5)  # far above one send's own timeouts (Slack 10 s, SMTP 20 s per step)
Clock = Callable[[], datetime]


def backoff(attempts: int) -> timedelta:
    return min(timedelta(minutes=2 ** max(0, attempts - 1)), timedelta(hours=6))


def drain_outbox(now: datetime, *, senders: Mapping[str, Sender] | None = None, batch: int = 50,
                 max_attempts: int | None = None, lease: timedelta = LEASE) -> dict[str, int]:
    """Send every message due at `now`: counts of sent, retry, dead, unconfirmed, skipped (channel not
    configured) and lost (another drainer took it over after our lease ran out)."""

    senders = senders_from_settings() if senders is None else senders
    max_attempts = max_attempts or get_settings().outbox_max_attempts
    clock = _running_from(now)
    counts = {"sent": 0, "retry": 0, "dead": 0, "unconfirmed": 0, "skipped": 0, "lost": 0}
    while True:
        with db.transaction() as session:
            claims = repository.claim_due(session, now=clock(), limit=batch, lease=lease)
        if not claims:
            return counts
        for message_id, token in claims:
            outcome = _deliver(message_id, token, senders=senders, clock=clock, lease=lease,
                               max_attempts=max_attempts)
            counts[outcome] += 1


def _running_from(now: datetime) -> Clock:
    """`now` moving on with the wall clock: leases and timestamps stay true during a long drain."""
    started = time.monotonic()
    return lambda: now + timedelta(seconds=time.monotonic() - started)


def _deliver(message_id: int, token: int, *, senders: Mapping[str, Sender], clock: Clock, lease: timedelta,
             max_attempts: int) -> str:
    with db.transaction() as session:
        if not repository.hold_lease(session, message_id, token=token, until=clock() + lease):
            log.info("outbox.lease_lost", message_id=message_id)
            return "lost"
        row = repository.message(session, message_id)
        assert row is not None
        outgoing = Outgoing(row.id, row.channel, row.recipient, row.subject, row.body_text, row.body_html,
                            list(row.attachments or []), row.dedupe_key)
    sender = senders.get(outgoing.channel)
    if sender is None:
        return _record(message_id, token, "skipped", f"no {outgoing.channel} configured: in-app only", None)
    try:
        sender.send(outgoing)
    except PermanentFailure as exc:
        log.warning("outbox.dead", message_id=message_id, channel=outgoing.channel, error=str(exc))
        return _record(message_id, token, "dead", str(exc), None)
    except Unconfirmed as exc:
        log.warning("outbox.unconfirmed", message_id=message_id, channel=outgoing.channel, error=str(exc))
        return _record(message_id, token, "unconfirmed", f"{exc}; not resent by itself", None)
    except Exception as exc:  # noqa: BLE001 - anything else may work on a later attempt
        if token >= max_attempts:
            return _record(message_id, token, "dead", f"gave up after {token} attempts: {exc}", None)
        wait = backoff(token)
        if isinstance(exc, RetryLater) and exc.after_seconds:
            wait = max(wait, timedelta(seconds=exc.after_seconds))
        log.info("outbox.retry", message_id=message_id, channel=outgoing.channel, attempts=token, error=str(exc))
        return _record(message_id, token, "retry", str(exc) or type(exc).__name__, clock() + wait)
    with db.transaction() as session:
        repository.mark_sent(session, message_id, token=token, now=clock())
    return "sent"


def _record(message_id: int, token: int, outcome: str, error: str, next_attempt_at: datetime | None) -> str:
    status = {"retry": "pending", "dead": "dead", "skipped": "skipped", "unconfirmed": "unconfirmed"}[outcome]
    with db.transaction() as session:
        repository.mark_failed(session, message_id, token=token, error=error, next_attempt_at=next_attempt_at,
                               status=status)
    return outcome
