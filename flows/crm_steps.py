"""The steps of the CRM flow (flows/crm_deal.py): each is one entry point (one transaction) and idempotent.

A raw CRM notification in the inbox becomes a :class:`StageChange`; the change is applied only if it is
newer than the last one applied to that deal (CRMs deliver in delivery order, not occurrence order). A
won stage records the deal and opens its one journey through the same services as `/webhooks/events`;
leaving the won stage pauses the journey. A change of a mapped deal field (go-live, seats, amount,
contract dates, name) on a deal that has a journey is the same update as a generic `deal.updated`:
newest wins per field, and the flow moves the plan and the reviews when go-live moved.
"""
from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from flows.steps import FLOW_ACTOR, EventGone
from journey import db
from journey.adapters.crm import hubspot, pipedrive, repository, salesforce
from journey.adapters.crm.common import (
    Applied,
    FieldUpdate,
    StageChange,
    decide,
    validate_change,
    validate_signed,
)
from journey.adapters.crm.mapping import CrmMapping, mapping_for
from journey.config import get_settings
from journey.deals import repository as deals_repository
from journey.deals import service as deals_service
from journey.inbox import repository as inbox_repository
from journey.kit import utcnow
from journey.models import InboundEvent, JourneyStatus
from journey.reviews import service as reviews_service
from journey.writeback import incoming

# Test seams: httpx transports for the vendors' APIs (httpx.MockTransport in tests); None = the network.
hubspot_transport: Any = None
pipedrive_transport: Any = None


def _mapping(source: str) -> CrmMapping:
    return mapping_for(source, get_settings().templates_dir)


def _load(session, event_id: int) -> InboundEvent:  # type: ignore[no-untyped-def]
    event = inbox_repository.get(session, event_id)
    if event is None:
        raise EventGone(f"no inbound event {event_id}")
    return event


def fetch_crm_details(event_id: int) -> dict[str, Any] | None:
    """What the vendor's API adds to a notification that may start a journey, else None: HubSpot's deal with
    its company, contacts and owners; Pipedrive's owners and organisation (when JOURNEY_PIPEDRIVE_API_TOKEN
    is set). A change older than the one applied to the deal is not worth a call: the apply step ignores it."""
    with db.transaction(writer=False) as session:
        event = _load(session, event_id)
        if incoming.skip_reason(session, event):
            return None
        source, payload = event.source, json.loads(event.payload)
        wanted = _may_sign(event, payload)
        if wanted is None:
            return None
        deal_id, when = wanted
        last = repository.read_stage(session, source=source, external_id=deal_id)
        if last is not None and last.event_id != event_id and when is not None and when <= last.occurred_at:
            return None
    if source == hubspot.SOURCE:
        return _fetch_hubspot(str(payload["objectId"]))
    return _fetch_pipedrive(payload)


def _may_sign(event: InboundEvent, payload: dict[str, Any]) -> tuple[str, datetime | None] | None:
    """(deal id, when) of a notification whose deal must be read from the vendor's API, else None."""
    if event.source == hubspot.SOURCE:
        if not hubspot.is_deal_stage_event(payload) or not hubspot.may_sign(payload, _mapping(event.source)):
            return None
        return str(payload["objectId"]), hubspot.occurred_at(payload)
    if event.source == pipedrive.SOURCE and event.type.endswith(".deal") and get_settings().pipedrive_api_token:
        change = pipedrive.stage_change(payload, _mapping(event.source), received_at=event.received_at)
        return (change.deal_id, change.occurred_at) if change is not None and change.won else None
    return None


def _fetch_hubspot(deal_id: str) -> dict[str, Any]:
    settings = get_settings()
    if not settings.hubspot_access_token:
        raise hubspot.HubSpotError("JOURNEY_HUBSPOT_ACCESS_TOKEN is not set: cannot read the deal from HubSpot")
    api = hubspot.HubSpotApi(base_url=settings.hubspot_api_base, token=settings.hubspot_access_token,
                             transport=hubspot_transport)
    try:
        return hubspot.fetch_deal_bundle(api, deal_id, _mapping(hubspot.SOURCE))
    except hubspot.DealNotFound:
        return {"deleted": True}
    finally:
        api.close()


def _fetch_pipedrive(payload: dict[str, Any]) -> dict[str, Any]:
    settings = get_settings()
    assert settings.pipedrive_api_token is not None
    api = pipedrive.PipedriveApi(base_url=settings.pipedrive_api_base, token=settings.pipedrive_api_token,
                                 transport=pipedrive_transport)
    try:
        return pipedrive.fetch_lookups(api, pipedrive.current_of(payload), _mapping(pipedrive.SOURCE))
    finally:
        api.close()


def stage_change_of(event: InboundEvent, bundle: dict[str, Any] | None) -> StageChange | str:
    """The event's stage change, or why it carries none (a sentence for the inbox row)."""
    payload = json.loads(event.payload)
    mapping = _mapping(event.source)
    if event.source == hubspot.SOURCE:
        if not hubspot.is_deal_stage_event(payload):
            return f"{payload.get('subscriptionType')} {payload.get('propertyName') or ''} is not a stage change"
        if bundle and bundle.get("deleted"):
            return f"deal {payload['objectId']} no longer exists in HubSpot"
        return hubspot.stage_change(payload, bundle, mapping)
    if event.source == salesforce.SOURCE:
        if payload.get("sobject_type") not in ("Opportunity", ""):
            return f"sObject {payload.get('sobject_type')} is not an Opportunity"
        return salesforce.stage_change(payload, mapping, received_at=event.received_at)
    if event.source == pipedrive.SOURCE:
        if not event.type.endswith(".deal"):
            return f"{event.type} is not about a deal"
        return (pipedrive.stage_change(payload, mapping, received_at=event.received_at, lookups=bundle)
                or "the status did not change")
    return f"no CRM connector for source {event.source}"


def field_update_of(event: InboundEvent) -> FieldUpdate | None:
    """The mapped deal fields the event changed, or None."""
    payload = json.loads(event.payload)
    mapping = _mapping(event.source)
    if event.source == hubspot.SOURCE:
        return hubspot.field_update(payload, mapping)
    if event.source == salesforce.SOURCE and payload.get("sobject_type") in ("Opportunity", ""):
        return salesforce.field_update(payload, mapping, received_at=event.received_at)
    if event.source == pipedrive.SOURCE and event.type.endswith(".deal"):
        return pipedrive.field_update(payload, mapping, received_at=event.received_at)
    return None


def apply_stage_change(event_id: int, bundle: dict[str, Any] | None) -> dict[str, Any]:
    """Apply the event: its deal fields, then its stage, in order. {"action": sign|pause|update|ignore,
    "journey_id", "data", "note", "update": {"journey_id", "go_live", "reason"} when fields were applied}."""
    with db.transaction() as session:
        event = _load(session, event_id)
        skipped = incoming.handle(session, event)  # journey's own write coming back, or only its fields changed
        if skipped:
            return {"action": "ignore", "note": skipped}
        change = stage_change_of(event, bundle)
        update = field_update_of(event)
        if isinstance(change, str):
            return _merge(_apply_update(session, event, update, last=None), {"action": "ignore", "note": change})
        row = repository.lock_stage(session, source=event.source, external_id=change.deal_id)
        last = Applied(row.occurred_at, row.won, row.event_id) if row.event_id is not None else None
        updated = _apply_update(session, event, update, last=last)  # before a re-sign rewrites what we hold
        return _merge(updated, _apply_stage(session, event, change, last))


def _apply_stage(session, event: InboundEvent, change: StageChange, last: Applied | None) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    deal = deals_repository.deal_by_crm(session, source=event.source, external_id=change.deal_id)
    journey = deals_repository.journey_for_deal(session, deal.id) if deal else None
    decision = decide(change, last=last, event_id=event.id,
                      has_journey=journey is not None and journey.status == JourneyStatus.active)
    stale = last is not None and last.event_id != event.id and change.occurred_at <= last.occurred_at
    if not stale and not repository.save_stage(session, source=event.source, external_id=change.deal_id,
                                               pipeline=change.pipeline, stage=change.stage, won=change.won,
                                               occurred_at=change.occurred_at, event_id=event.id):
        return {"action": "ignore", "note": "a newer stage change was applied meanwhile"}
    if decision.action == "sign":
        return _sign(session, source=event.source, change=change)
    if decision.action == "pause":
        return _pause(session, source=event.source, change=change, reason=decision.reason)
    return {"action": "ignore", "note": decision.reason}


def _apply_update(session, event: InboundEvent, update: FieldUpdate | None, *,  # type: ignore[no-untyped-def]
                  last: Applied | None) -> dict[str, Any]:
    """The update through deals_service.apply_deal_update, at the time it happened (newest wins per field).

    {} when there is nothing to apply; {"note"} alone when the deal has no journey (a won deal brings its
    fields when it signs); else {"note", "update"}. A snapshot (Salesforce) older than the last message
    applied to the deal is skipped whole, and only its values that differ from what we hold count.
    """
    if update is None:
        return {}
    deal = deals_repository.deal_by_crm(session, source=event.source, external_id=update.deal_id)
    journey = deals_repository.journey_for_deal(session, deal.id) if deal else None
    if deal is None or journey is None:
        return {} if update.snapshot else {
            "note": f"{', '.join(update.values)} changed in {update.vendor}, but deal {update.deal_id} has no "
                    "journey yet: nothing to update (a won deal brings its current fields when it signs)"}
    if update.snapshot and last is not None and last.event_id != event.id and update.occurred_at <= last.occurred_at:
        return {}
    change, flags = validate_change(update.deal_id, update.values)
    if update.snapshot:
        differ = {f: v for f, v in change.model_dump(exclude_none=True, exclude={"id"}).items()
                  if getattr(deal, f) != v}
        change, _ = validate_change(update.deal_id, differ)
    fields = sorted(change.model_dump(exclude_none=True, exclude={"id", "reason"}))
    reason = f"{'expected go-live' if 'expected_go_live' in fields else 'deal'} changed in {update.vendor}"
    moves = {"journey_id": journey.id, "go_live": deal.expected_go_live, "reason": reason}
    if not fields:  # a snapshot that changes nothing (or a retry): the idempotent moves still run
        return {"update": moves, "note": "; ".join(f"flagged: {flag}" for flag in flags) or None}
    before = dict(deal.field_occurred_at or {})
    changed = deals_service.apply_deal_update(session, source=event.source, change=change,
                                              occurred_at=update.occurred_at, actor=FLOW_ACTOR)
    after = deal.field_occurred_at or {}
    applied = [f for f in fields if after.get(f) != before.get(f)]
    older = [f for f in fields if f not in applied and f in before
             and datetime.fromisoformat(before[f]) > update.occurred_at]
    notes = [f"updated from {update.vendor}: {', '.join(applied)}" if applied else
             f"nothing new from {update.vendor}"]
    if older:
        notes.append(f"kept the newer value of {', '.join(older)} (this change is older)")
    notes.extend(f"flagged: {flag}" for flag in flags)
    return {"note": "; ".join(notes), "update": {**moves, "go_live": changed.new_go_live}}


def _merge(updated: dict[str, Any], outcome: dict[str, Any]) -> dict[str, Any]:
    """One outcome for the event: a stage decision and what its field update did."""
    if not updated:
        return outcome
    if outcome["action"] == "ignore":
        return {**outcome, **updated, "action": "update" if "update" in updated else "ignore"}
    if "update" not in updated:
        return outcome
    notes = "; ".join(n for n in (outcome.get("note"), updated.get("note")) if n)
    return {**outcome, "note": notes or None, "update": updated["update"]}


def _sign(session, *, source: str, change: StageChange) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    assert change.signed is not None
    signed, invalid = validate_signed(change.signed)
    flags = [*change.flags, *invalid]
    opened = deals_service.record_signed_deal(session, source=source, signed=signed,
                                              occurred_at=change.occurred_at, actor=FLOW_ACTOR)
    note = "flagged: " + "; ".join(flags) if flags else None
    return {"action": "sign", "journey_id": opened.journey_id, "data": signed.model_dump(mode="json"), "note": note}


def _pause(session, *, source: str, change: StageChange, reason: str) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    journey = deals_service.pause_for_lost_deal(session, source=source, external_id=change.deal_id, reason=reason,
                                                actor=FLOW_ACTOR, now=utcnow())
    if journey is None:
        return {"action": "ignore", "note": f"{reason}; no journey for this deal"}
    reviews_service.cancel_future_reviews(session, journey_id=journey.id, actor=FLOW_ACTOR, now=utcnow())
    return {"action": "pause", "journey_id": journey.id, "note": reason}

