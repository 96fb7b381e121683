"""The steps of the journey flows. Each step is one entry point: it opens one transaction, calls
services, commits, and is idempotent, so a flow re-run after a crash finishes the work without
doubling it. Flows in `flows/` call these in business order; steps take ids and plain values.
"""
from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import Any

from journey import db
from journey.audit import Actor
from journey.deals import repository as deals_repository
from journey.deals import service as deals_service
from journey.deals.events import DealLost, DealSigned, DealUpdated
from journey.errors import NotFound
from journey.handoff import service as handoff_service
from journey.inbox import repository as inbox_repository
from journey.inbox import service as inbox_service
from journey.kit import utcnow
from journey.models import Account, EventStatus, Journey
from journey.onboarding import service as onboarding_service
from journey.reviews import service as reviews_service

FLOW_ACTOR = Actor.flow("journey-flows")


class EventGone(NotFound):
    """The inbox row an event id names does not exist (anymore)."""


@lru_cache(maxsize=64)
def _parsed(payload: str) -> Any:
    """A delivery's JSON, parsed once for all the steps of its flow (callers only read it)."""
    return json.loads(payload)


def _event(session, event_id: int) -> tuple[str, dict[str, Any], datetime]:  # type: ignore[no-untyped-def]
    event = inbox_repository.get(session, event_id)
    if event is None:
        raise EventGone(f"no inbound event {event_id}")
    body = _parsed(event.payload)
    return event.source, body.get("data") or {}, event.occurred_at or event.received_at


def event_source(event_id: int) -> str:
    """The source an inbox event came from (for metrics); "unknown" if it cannot be read."""
    try:
        with db.transaction(writer=False) as session:
            event = inbox_repository.get(session, event_id)
            return event.source if event else "unknown"
    except Exception:  # noqa: BLE001 - a metric label never fails the event
        return "unknown"


def describe_event(event_id: int) -> str:
    """A readable name for a flow run: the event type, the deal and its account
    (`deal.signed · D-1001 · Acme SAS`)."""
    with db.transaction(writer=False) as session:
        event = inbox_repository.get(session, event_id)
        return f"{event.type} · {_deal_and_account(session, event)}" if event else f"event {event_id}"


def describe_batch(events: list[tuple[int, str]], shown: int = 3) -> str:
    """A readable name for a batch's flow run: its first deals and their accounts."""
    if not events:
        return "inbox batch (empty)"
    with db.transaction(writer=False) as session:
        labels = [_deal_and_account(session, e) if (e := inbox_repository.get(session, i)) else f"event {i}"
                  for i, _ in events[:shown]]
    more = f", +{len(events) - shown} more" if len(events) > shown else ""
    return f"inbox batch of {len(events)}: " + ", ".join(labels) + more


def _deal_and_account(session, event) -> str:  # type: ignore[no-untyped-def]
    """`D-1001 · Acme SAS`: the account named by the delivery, else the one the deal already has here."""
    body = _parsed(event.payload)
    data = body.get("data") if isinstance(body, dict) else None
    account = (data.get("account") or {}).get("name") if isinstance(data, dict) else None
    if not account and event.subject:
        deal = deals_repository.deal_by_crm(session, source=event.source, external_id=event.subject)
        account = session.get_one(Account, deal.account_id).name if deal else None
    parts = [event.subject or f"event {event.id}", str(account)[:60] if account else None]
    return " · ".join(p for p in parts if p)


def open_journey(event_id: int) -> int:
    """Record the signed deal (account, people, deal) and its one journey; the journey's id."""
    with db.transaction() as session:
        source, data, occurred_at = _event(session, event_id)
        signed = DealSigned.model_validate(data)
        opened = deals_service.record_signed_deal(session, source=source, occurred_at=occurred_at,
                                                  signed=signed, actor=FLOW_ACTOR)
        inbox_repository.wake_subject(session, source=source, subject=signed.deal.id, now=utcnow())
        return opened.journey_id


def build_onboarding_plan(journey_id: int) -> bool:
    with db.transaction() as session:
        return onboarding_service.build_plan(session, journey_id=journey_id, actor=FLOW_ACTOR)


def open_handoff_packet(journey_id: int, event_id: int) -> bool:
    with db.transaction() as session:
        _, data, _ = _event(session, event_id)
        return handoff_service.open_packet(session, journey_id=journey_id, deal_data=data, actor=FLOW_ACTOR,
                                           now=utcnow())


def schedule_reviews(journey_id: int) -> bool:
    with db.transaction() as session:
        return reviews_service.schedule_reviews(session, journey_id=journey_id, actor=FLOW_ACTOR)


def record_deal_update(event_id: int) -> tuple[int | None, date | None, str]:
    """Apply the update to the deal; (journey id, the deal's go-live now, the reason given)."""
    with db.transaction() as session:
        source, data, occurred_at = _event(session, event_id)
        update = DealUpdated.model_validate(data)
        changed = deals_service.apply_deal_update(session, source=source, change=update.deal,
                                                  occurred_at=occurred_at, actor=FLOW_ACTOR)
        return changed.journey_id, changed.new_go_live, update.deal.reason or "expected go-live changed in the CRM"


def move_plan_to_go_live(journey_id: int, go_live: date, reason: str) -> int:
    """Open tasks anchored at go-live follow it; returns how many moved (0 if already there)."""
    with db.transaction() as session:
        moves = onboarding_service.move_go_live(session, journey_id=journey_id, new_go_live=go_live,
                                                reason=reason, actor=FLOW_ACTOR, now=utcnow())
        return len(moves)


def move_reviews_to_go_live(journey_id: int, go_live: date) -> int:
    with db.transaction() as session:
        return reviews_service.follow_go_live(session, journey_id=journey_id, new_go_live=go_live,
                                              actor=FLOW_ACTOR)


def pause_journey(event_id: int) -> int | None:
    """The deal is lost: pause its journey and cancel its future reviews; the journey id, if any."""
    with db.transaction() as session:
        source, data, occurred_at = _event(session, event_id)
        lost = DealLost.model_validate(data)
        journey = deals_service.pause_for_lost_deal(session, source=source, external_id=lost.deal.id,
                                                    reason=lost.deal.reason, actor=FLOW_ACTOR, now=utcnow(),
                                                    occurred_at=occurred_at)
        if journey is None:
            return None
        reviews_service.cancel_future_reviews(session, journey_id=journey.id, actor=FLOW_ACTOR, now=utcnow())
        return journey.id


def finish_event(event_id: int, status: str = EventStatus.processed.value, note: str | None = None) -> None:
    with db.transaction() as session:
        inbox_repository.finish(session, event_id, status=EventStatus(status), now=utcnow(), error=note)


def defer_event(event_id: int, event_type: str, reason: str, max_wait_hours: float) -> str:
    """An event that must wait for its deal.signed: retried without counting as a failure."""
    expired = EventStatus.ignored if event_type == "deal.lost" else EventStatus.dead
    with db.transaction() as session:
        return inbox_service.defer_event(session, event_id=event_id, reason=reason, now=utcnow(),
                                         max_wait=timedelta(hours=max_wait_hours), expired=expired)


def fail_event(event_id: int, error: str, max_attempts: int, *, upstream: bool = False,
               retry_after: float | None = None) -> bool:
    """Record a failed attempt (an `upstream` one waits longer); True when the event became a dead letter."""
    with db.transaction() as session:
        return inbox_service.record_failure(session, event_id=event_id, error=error, max_attempts=max_attempts,
                                            now=utcnow(), upstream=upstream, retry_after=retry_after)


def journey_status(journey_id: int) -> str:
    with db.transaction(writer=False) as session:
        return str(session.get_one(Journey, journey_id).status)


def assign_account_owners(journey_id: int) -> dict[str, int | None]:
    """The CSM and AM the CRM named, else chosen by the roster's rules (why is in the audit trail)."""
    from journey.team import ownership

    with db.transaction() as session:
        account_id = session.get_one(Journey, journey_id).account_id
        return ownership.assign_owners(session, account_id=account_id, actor=FLOW_ACTOR, now=utcnow())
