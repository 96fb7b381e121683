"""HubSpot: webhook signature v3, the event batch, the CRM v3 API, and the deal as a journey sees it.

From HubSpot's developer documentation ("Validating requests", "Webhooks API", "CRM API | Deals"), as
we know it (no network here to re-read it): a delivery is a JSON array of up to 100 events
`{eventId, subscriptionId, portalId, appId, occurredAt (ms), subscriptionType, attemptNumber, objectId,
propertyName, propertyValue, changeSource}`; `X-HubSpot-Signature-v3` is base64(HMAC-SHA256(client
secret, method + URI + body + X-HubSpot-Request-Timestamp)), the timestamp in milliseconds and at most
5 minutes old. Events may repeat and arrive out of occurrence order; event ids are not unique.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Callable
from typing import Any

import httpx

from journey.adapters.crm.common import (
    FieldUpdate,
    StageChange,
    apply_mapped_fields,
    mapped_updates,
    person,
    text,
    to_datetime,
)
from journey.adapters.crm.http import CrmApiError, CrmApiUnavailable, JsonApi
from journey.adapters.crm.mapping import CrmMapping

SOURCE = "hubspot"
TOLERANCE_MS = 5 * 60 * 1000
MAX_EVENTS = 1000  # HubSpot sends at most 100 per request; the body limit bounds the rest
DEAL_PROPERTIES = ("dealname", "amount", "deal_currency_code", "closedate", "dealstage", "pipeline",
                   "hubspot_owner_id")
COMPANY_PROPERTIES = ("name", "domain")
CONTACT_PROPERTIES = ("email", "firstname", "lastname", "jobtitle")
DEFAULT_FIELDS = {"deal.name": "dealname", "deal.amount": "amount", "deal.currency": "deal_currency_code",
                  "deal.signed_at": "closedate", "owners.ae": "hubspot_owner_id",
                  "account.name": "company.name", "account.domain": "company.domain"}
# Characters HubSpot decodes in the URI before signing (documented list).
_URI_DECODE = {"%3A": ":", "%2F": "/", "%3F": "?", "%40": "@", "%21": "!", "%24": "$", "%27": "'", "%28": "(",
               "%29": ")", "%2A": "*", "%2C": ",", "%3B": ";"}


class SignatureError(Exception):
    """The delivery is not proven to come from HubSpot (message safe to show)."""


class MalformedBatch(ValueError):
    """The body is not a HubSpot event batch."""


class HubSpotError(CrmApiError):
    """The HubSpot API refused us, or (HubSpotUnavailable) could not answer after retries."""


class HubSpotUnavailable(CrmApiUnavailable, HubSpotError):
    """HubSpot is down or rate-limiting us: the event waits (honouring Retry-After), it is not dead-lettered."""


class DealNotFound(HubSpotError):
    """The deal no longer exists in HubSpot (deleted or merged)."""


# --------------------------------------------------------------------------------------------- signature
def signed_uri(uri: str) -> str:
    for encoded, char in _URI_DECODE.items():
        uri = uri.replace(encoded, char).replace(encoded.lower(), char)
    return uri


def signature_v3(*, secret: str, method: str, uri: str, body: bytes, timestamp: str) -> str:
    message = method.upper().encode() + signed_uri(uri).encode() + body + timestamp.encode()
    return base64.b64encode(hmac.new(secret.encode(), message, hashlib.sha256).digest()).decode()


def verify_signature(*, secret: str, method: str, uri: str, body: bytes, signature: str | None,
                     timestamp: str | None, now_ms: int) -> None:
    if not signature or not timestamp:
        raise SignatureError("missing X-HubSpot-Signature-v3 or X-HubSpot-Request-Timestamp header")
    if not timestamp.isdigit() or abs(now_ms - int(timestamp)) > TOLERANCE_MS:
        raise SignatureError("X-HubSpot-Request-Timestamp is not within 5 minutes of now")
    expected = signature_v3(secret=secret, method=method, uri=uri, body=body, timestamp=timestamp)
    if not hmac.compare_digest(expected.encode(), signature.strip().encode()):
        raise SignatureError("X-HubSpot-Signature-v3 does not match the request")


# ------------------------------------------------------------------------------------------------ batch
def parse_batch(raw: Any) -> list[dict[str, Any]]:
    """The events of a delivery, each checked for the fields idempotency needs."""
    if not isinstance(raw, list) or not raw:
        raise MalformedBatch("a HubSpot delivery is a non-empty JSON array of events")
    if len(raw) > MAX_EVENTS:
        raise MalformedBatch(f"more than {MAX_EVENTS} events in one delivery")
    for i, item in enumerate(raw):
        if not isinstance(item, dict):
            raise MalformedBatch(f"event {i} is not an object")
        for key in ("portalId", "objectId", "occurredAt", "subscriptionType"):
            if not isinstance(item.get(key), int | str) or isinstance(item.get(key), bool):
                raise MalformedBatch(f"event {i} has no {key}")
        if not str(item["occurredAt"]).isdigit() or to_datetime(str(item["occurredAt"])) is None:
            raise MalformedBatch(f"event {i}: occurredAt must be epoch milliseconds")
    return raw


def idempotency_key(event: dict[str, Any]) -> str:
    """portal:object:property:value:occurredAt (a long value by its digest), unique per change."""
    value = "" if event.get("propertyValue") is None else str(event["propertyValue"])
    if len(value) > 64:
        value = "sha256-" + hashlib.sha256(value.encode()).hexdigest()
    prop = str(event.get("propertyName") or event["subscriptionType"])[:100]
    return f"{event['portalId']}:{event['objectId']}:{prop}:{value}:{event['occurredAt']}"[:300]


def occurred_at(event: dict[str, Any]):  # type: ignore[no-untyped-def]
    return to_datetime(str(event["occurredAt"]))


def is_deal_stage_event(event: dict[str, Any]) -> bool:
    kind = event.get("subscriptionType")
    return kind == "deal.creation" or (kind == "deal.propertyChange" and event.get("propertyName") == "dealstage")


def may_sign(event: dict[str, Any], mapping: CrmMapping) -> bool:
    """Whether the deal must be read: a creation (stage unknown), or a stage some pipeline counts as won."""
    if event.get("subscriptionType") == "deal.creation":
        return True
    stage = str(event.get("propertyValue"))
    return any(stage in stages for stages in mapping.won_stages.values())


# -------------------------------------------------------------------------------------------------- API
class HubSpotApi(JsonApi):
    """The few CRM v3 calls a journey needs: bearer token, timeouts, retries on 429/5xx with Retry-After."""

    vendor = "HubSpot"
    error = HubSpotError
    unavailable = HubSpotUnavailable
    not_found = DealNotFound
    refused_hint = "check JOURNEY_HUBSPOT_ACCESS_TOKEN and its crm.objects.deals.read scope"

    def __init__(self, *, base_url: str, token: str, transport: httpx.BaseTransport | None = None,
                 attempts: int = 4, max_wait: float = 10.0, sleep: Callable[[float], None] | None = None) -> None:
        super().__init__(base_url=base_url, headers={"Authorization": f"Bearer {token}"}, transport=transport,
                         attempts=attempts, max_wait=max_wait, sleep=sleep)

    def deal(self, deal_id: str, properties: list[str]) -> dict[str, Any]:
        return self.request("GET", f"/crm/v3/objects/deals/{deal_id}",
                            params={"properties": ",".join(properties), "associations": "companies,contacts"})

    def company(self, company_id: str, properties: list[str]) -> dict[str, Any]:
        return self.request("GET", f"/crm/v3/objects/companies/{company_id}",
                            params={"properties": ",".join(properties)})

    def contacts(self, ids: list[str], properties: list[str]) -> list[dict[str, Any]]:
        if not ids:
            return []
        body = {"properties": properties, "inputs": [{"id": i} for i in ids[:100]]}
        return self.request("POST", "/crm/v3/objects/contacts/batch/read", json=body).get("results", [])

    def owner(self, owner_id: str) -> dict[str, Any] | None:
        try:
            return self.request("GET", f"/crm/v3/owners/{owner_id}")
        except DealNotFound:
            return None


def fields_of(mapping: CrmMapping) -> dict[str, str]:
    return {**DEFAULT_FIELDS, **mapping.fields}


def fetch_deal_bundle(api: HubSpotApi, deal_id: str, mapping: CrmMapping) -> dict[str, Any]:
    """The deal with its first company, its contacts and the owners its owner properties name."""
    fields = fields_of(mapping)
    deal_props = sorted({*DEAL_PROPERTIES, *(s for s in fields.values() if not s.startswith("company."))})
    company_props = sorted({*COMPANY_PROPERTIES, *(s[8:] for s in fields.values() if s.startswith("company."))})
    deal = api.deal(deal_id, deal_props)
    associations = deal.get("associations") or {}
    company_ids = [str(a["id"]) for a in (associations.get("companies") or {}).get("results", [])]
    contact_ids = [str(a["id"]) for a in (associations.get("contacts") or {}).get("results", [])]
    company = api.company(company_ids[0], company_props) if company_ids else None
    props = deal.get("properties") or {}
    owner_ids = {str(props[s]) for t, s in fields.items() if t.startswith("owners.") and props.get(s)}
    owners = {oid: api.owner(oid) for oid in sorted(owner_ids)}
    return {"deal": deal, "company": company, "contacts": api.contacts(contact_ids, list(CONTACT_PROPERTIES)),
            "owners": owners}


# ----------------------------------------------------------------------------------------- normalising
def stage_change(event: dict[str, Any], bundle: dict[str, Any] | None, mapping: CrmMapping) -> StageChange:
    """The event as a stage change; `bundle` (the deal read from the API) is needed only when it may sign."""
    deal_id = str(event["objectId"])
    props = ((bundle or {}).get("deal") or {}).get("properties") or {}
    creation = event.get("subscriptionType") == "deal.creation"
    stage = props.get("dealstage") if creation else event.get("propertyValue")
    pipeline = props.get("pipeline")
    when = occurred_at(event)
    assert when is not None
    if bundle is None or not mapping.is_won_stage(pipeline, stage):
        why = (f"pipeline {pipeline} has no won stages in the HubSpot mapping" if bundle and
               not mapping.pipeline_known(pipeline) else f"stage {stage} is not a won stage")
        return StageChange(deal_id=deal_id, occurred_at=when, won=False, pipeline=pipeline, stage=stage, why=why)
    return StageChange(deal_id=deal_id, occurred_at=when, won=True, pipeline=pipeline, stage=stage,
                       signed=signed_data(deal_id, bundle, mapping))


def field_update(event: dict[str, Any], mapping: CrmMapping) -> FieldUpdate | None:
    """A `deal.propertyChange` of a property the mapping feeds into go-live, seats, amount, contract dates or
    the deal name: the new value is the event's `propertyValue` (dates: epoch ms at midnight UTC)."""
    prop = event.get("propertyName")
    if event.get("subscriptionType") != "deal.propertyChange" or not prop or prop == "dealstage":
        return None
    values = mapped_updates(fields_of(mapping), get=lambda _: event.get("propertyValue"),
                            changed=lambda source: source == prop)
    when = occurred_at(event)
    if not values or when is None:
        return None
    return FieldUpdate(deal_id=str(event["objectId"]), occurred_at=when, vendor="HubSpot", values=values)


def signed_data(deal_id: str, bundle: dict[str, Any], mapping: CrmMapping) -> dict[str, Any]:
    deal_props = (bundle.get("deal") or {}).get("properties") or {}
    company = bundle.get("company") or None
    company_props = (company or {}).get("properties") or {}
    owners = bundle.get("owners") or {}

    def get(source: str) -> Any:
        return company_props.get(source[8:]) if source.startswith("company.") else deal_props.get(source)

    def owner(raw: Any) -> dict[str, Any] | None:
        found = owners.get(str(raw)) or {}
        name = " ".join(filter(None, (found.get("firstName"), found.get("lastName")))) or None
        return person(found.get("email"), name)

    account_id = str(company["id"]) if company else f"deal-{deal_id}"
    data: dict[str, Any] = {"deal": {"id": deal_id, "stage": text(deal_props.get("dealstage"), 200)},
                            "account": {"id": account_id}, "owners": {},
                            "stakeholders": _stakeholders(bundle.get("contacts") or [])}
    apply_mapped_fields(data, fields=fields_of(mapping), get=get, owner=owner, segment=mapping.segment)
    data["account"].setdefault("name", f"HubSpot deal {deal_id}")
    return data


def _stakeholders(contacts: list[dict[str, Any]]) -> list[dict[str, Any]]:
    people = []
    for contact in contacts[:200]:
        props = contact.get("properties") or {}
        name = " ".join(filter(None, (props.get("firstname"), props.get("lastname")))) or props.get("email")
        if name:
            people.append({"name": text(name, 300), "email": text(props.get("email"), 320),
                           "title": text(props.get("jobtitle"), 200)})
    return people


def dumps(event: dict[str, Any]) -> str:
    return json.dumps(event, ensure_ascii=False, separators=(",", ":"))
