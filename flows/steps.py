"""The steps of the journey flows. Each step is one entry point: it opens one transaction, calls
services, commits, and is idempotent, so a flow re-run after a crash finishes the work without
doubling it. The flows call these in business order; steps take ids and plain values. A flow whose
steps only touch the database runs them in `steps_together()`: as plain calls they share one
transaction (one commit, the rows read once); as engine tasks each still commits its own.
"""
from __future__ import annotations

import json
from contextlib import AbstractContextManager, nullcontext
from datetime import date, datetime
from functools import lru_cache
from typing import Any, NamedTuple

import structlog

from journey import db
from journey.adapters.orchestrator import INLINE
from journey.audit import Actor
from journey.deals import repository as deals_repository
from journey.deals import service as deals_service
from journey.deals.events import DealLost, DealSigned, DealUpdated
from journey.errors import NotFound
from journey.handoff import service as handoff_service
from journey.inbox import repository as inbox_repository
from journey.kit import utcnow
from journey.models import Account, EventStatus, Journey
from journey.onboarding import service as onboarding_service
from journey.reviews import service as reviews_service
from journey.team import ownership

FLOW_ACTOR = Actor.flow("journey-flows")


class Finished(NamedTuple):
    """What a flow made of its event, recorded by flows/events.py: processed, or ignored and why."""

    status: EventStatus = EventStatus.processed
    note: str | None = None


class EventGone(NotFound):
    """The inbox row an event id names does not exist (anymore)."""


def steps_together() -> AbstractContextManager[object]:
    """One transaction for the steps a flow calls in this block while they run as plain calls (inline, or
    the embedded engine); a no-op when they are engine tasks (each its own entry point, retried alone).
    Only for steps that make no outside call: the SQLite write lock is held until the block ends."""
    return db.one_transaction() if INLINE.get() else nullcontext()


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


def event_context(event_id: int) -> dict[str, Any]:
    """What the logs of an event's run carry: its id, source and type, the CRM's deal id and, once the deal is
    known here, its deal and account ids. Never fails (the run records its own errors)."""
    context: dict[str, Any] = {"event_id": event_id}
    try:
        with db.transaction(writer=False) as session:
            event = inbox_repository.get(session, event_id)
            if event is None:
                return context
            context.update(source=event.source, event_type=event.type, crm_deal=event.subject)
            deal = (deals_repository.deal_by_crm(session, source=event.source, external_id=event.subject)
                    if event.subject else None)
            if deal is not None:
                context.update(deal_id=deal.id, account_id=deal.account_id)
    except Exception:  # noqa: BLE001, S110 - a log's context never fails the event (its run records the error)
        pass
    return context


def describe_event(event_id: int) -> str:
    """A readable name for a flow run: the event type, the deal and its account
    (`deal.signed · D-1001 · Acme SAS`)."""
    with db.transaction(writer=False) as session:
        event = inbox_repository.get(session, event_id)
        return f"{event.type} · {_deal_and_account(session, event)}" if event else f"event {event_id}"


def describe_batch(events: list[tuple[int, str]], shown: int = 3) -> str:
    """A readable name for a batch's flow run, searchable by deal in Prefect's UI: its first deals with their
    accounts, then the other deals."""
    if not events:
        return "inbox batch (empty)"
    with db.transaction(writer=False) as session:
        rows = [inbox_repository.get(session, i) for i, _ in events]
        labels = [(_deal_and_account(session, e) if n < shown else e.subject or f"event {e.id}")
                  if e else f"event {i}" for n, ((i, _), e) in enumerate(zip(events, rows, strict=True))]
    return f"inbox batch of {len(events)}: " + ", ".join(dict.fromkeys(labels))


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


def open_journey(event_id: int) -> tuple[int, dict[str, Any]]:
    """Record the signed deal (account, people, deal) and its one journey: the journey's id, and the deal as
    the event carried it, read once here and handed to the next steps."""
    with db.transaction() as session:
        source, data, occurred_at = _event(session, event_id)
        signed = DealSigned.model_validate(data)
        opened = deals_service.record_signed_deal(session, source=source, occurred_at=occurred_at,
                                                  signed=signed, actor=FLOW_ACTOR)
        structlog.contextvars.bind_contextvars(deal_id=opened.deal_id, account_id=opened.account_id)
        inbox_repository.wake_subject(session, source=source, subject=signed.deal.id, now=utcnow())
        return opened.journey_id, data


def build_onboarding_plan(journey_id: int) -> bool:
    with db.transaction() as session:
        return onboarding_service.build_plan(session, journey_id=journey_id, actor=FLOW_ACTOR)


def open_handoff_packet(journey_id: int, data: dict[str, Any]) -> bool:
    """Version 1 of the packet from the deal's data (the envelope's, or the CRM deal normalised)."""
    with db.transaction() as session:
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


def assign_account_owners(journey_id: int) -> dict[str, int | None]:
    """The CSM and AM the CRM named, else chosen by the roster's rules (why is in the audit trail)."""
    with db.transaction() as session:
        account_id = session.get_one(Journey, journey_id).account_id
        return ownership.assign_owners(session, account_id=account_id, actor=FLOW_ACTOR, now=utcnow())
