"""Pipedrive webhooks on deals, v2 (`meta` / `data` / `previous`) and legacy v1 (`current` / `previous`).

From Pipedrive's documentation: "Guide for Webhooks" (pipedrive.readme.io/docs/guide-for-webhooks),
"Guide for Webhooks v2" (pipedrive.readme.io/docs/guide-for-webhooks-v2) and "Webhooks v2 migration
guide" (pipedrive.readme.io/docs/webhooks-v2-migration-guide). A webhook is protected by HTTP Basic
credentials set when it is created. v1 bodies carry `meta` {v: 1, action: "updated", object: "deal", id,
timestamp (s), timestamp_micro / timestamp_milli, ...}, `current` and `previous` (whole deals, flat:
`user_id` is the owner's integer id beside `owner_name`, `org_id` an integer beside `org_name`), `event`
("updated.deal"), `retry`. v2 bodies carry `meta` {version: "2.0", action: "change", entity: "deal",
entity_id, id, timestamp, attempt, ...}, `data` (only the deal's key fields and the ids of related
entities: `owner_id`, `org_id`, no names; custom fields under `custom_fields`) and `previous`
(only the changed fields). "Should a field no longer be available in webhook v2's payload, please query
it from our API": with JOURNEY_PIPEDRIVE_API_TOKEN the flow reads the owner (GET /v1/users/{id}) and the
organisation (GET /v1/organizations/{id}), the token in the `x-api-token` header ("Authentication",
pipedrive.readme.io/docs/core-api-concepts-authentication). Pipedrive retries a failed delivery.
"""
from __future__ import annotations

import base64
import binascii
import hmac
import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

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

SOURCE = "pipedrive"
DEFAULT_FIELDS = {"deal.name": "title", "deal.amount": "value", "deal.currency": "currency",
                  "deal.signed_at": "won_time",
                  "account.id": "org_id", "account.name": "org_name", "owners.ae": "user_id"}
OWNER_KEYS = ("user_id", "owner_id")  # the deal owner's user id: `user_id` in v1 payloads, `owner_id` in v2


class MalformedWebhook(ValueError):
    """Not a Pipedrive deal webhook we can read (message safe to show)."""


def verify_basic(header: str | None, *, user: str, password: str) -> bool:
    """Constant-time check of an `Authorization: Basic` header against the configured credentials."""
    scheme, _, value = (header or "").partition(" ")
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
    except (binascii.Error, ValueError):
        decoded = ""
    got_user, _, got_password = decoded.partition(":")
    user_ok = hmac.compare_digest(got_user.encode(), user.encode())
    password_ok = hmac.compare_digest(got_password.encode(), password.encode())
    return scheme.lower() == "basic" and user_ok and password_ok


def describe(body: dict[str, Any]) -> tuple[str, str, str | None]:
    """(event type, idempotency key, deal id) of a delivery; MalformedWebhook when it is neither v1 nor v2."""
    meta = body.get("meta")
    if not isinstance(meta, dict):
        raise MalformedWebhook("a Pipedrive webhook has a 'meta' object")
    if str(meta.get("version", "")).startswith("2"):
        action, entity = str(meta.get("action") or ""), str(meta.get("entity") or "")
        entity_id = meta.get("entity_id") or (body.get("data") or {}).get("id")
        key = f"v2:{meta['id']}" if meta.get("id") else f"v2:{entity}:{entity_id}:{meta.get('timestamp')}"
    else:
        action, entity = str(meta.get("action") or ""), str(meta.get("object") or "")
        entity_id = meta.get("id") or (body.get("current") or {}).get("id")
        stamp = meta.get("timestamp_micro") or meta.get("timestamp")
        key = f"v1:{entity}:{entity_id}:{action}:{stamp}"
    if not action or not entity:
        raise MalformedWebhook("meta must name the action and the object (entity)")
    return f"{action}.{entity}"[:100], key[:300], None if entity_id is None else str(entity_id)[:300]


def occurred_at(body: dict[str, Any]) -> datetime | None:
    """When the change happened: v2's `meta.timestamp`; v1's `timestamp_micro` (or `timestamp_milli`) where
    present, since its `timestamp` has whole seconds and two changes of a deal often share one."""
    meta = body.get("meta") if isinstance(body.get("meta"), dict) else {}
    if not str(meta.get("version", "")).startswith("2"):
        for key, per_second in (("timestamp_micro", 1_000_000), ("timestamp_milli", 1_000)):
            value = meta.get(key)
            if isinstance(value, int | str) and not isinstance(value, bool) and str(value).isdigit():
                try:
                    return datetime.fromtimestamp(int(value) // per_second, tz=UTC).replace(
                        microsecond=int(value) % per_second * (1_000_000 // per_second))
                except (OverflowError, OSError, ValueError):
                    break
    return to_datetime(meta.get("timestamp"))


def _versioned(body: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any] | None, datetime | None]:
    meta = body.get("meta") or {}
    current = body.get("data" if str(meta.get("version", "")).startswith("2") else "current") or {}
    previous = body.get("previous")
    return current, previous if isinstance(previous, dict) else None, occurred_at(body)


def stage_change(body: dict[str, Any], mapping: CrmMapping, *, received_at: datetime,
                 lookups: dict[str, Any] | None = None) -> StageChange | None:
    """A change of the deal's status (won, open, lost), or None when the status did not change.

    `lookups` holds what the API said of the deal's owners and organisation (:func:`fetch_lookups`);
    without it a won deal keeps what the payload has, and the change's flags say what is missing.
    """
    current, previous, when = _versioned(body)
    status = current.get("status")
    created = str((body.get("meta") or {}).get("action")) in {"added", "create"}
    changed = previous is not None and "status" in previous and previous.get("status") != status
    if not isinstance(status, str) or not (changed or (created and status == "won")):
        return None
    deal_id = str(current.get("id") or (body.get("meta") or {}).get("entity_id"))
    when = when or to_datetime(current.get("update_time")) or received_at
    pipeline = None if current.get("pipeline_id") is None else str(current["pipeline_id"])
    stage = None if current.get("stage_id") is None else str(current["stage_id"])
    if status != "won":
        return StageChange(deal_id=deal_id, occurred_at=when, won=False, pipeline=pipeline, stage=stage,
                           why=f"status {status}")
    signed, flags = signed_data(deal_id, current, mapping, lookups)
    return StageChange(deal_id=deal_id, occurred_at=when, won=True, pipeline=pipeline, stage=status,
                       signed=signed, flags=flags)


def field_update(body: dict[str, Any], mapping: CrmMapping, *, received_at: datetime) -> FieldUpdate | None:
    """The mapped deal fields (go-live, seats, value...) this change touched: v2's `previous` lists only the
    changed fields (custom ones under `previous.custom_fields`); v1's `previous` is the whole deal before."""
    current, previous, when = _versioned(body)
    if previous is None:
        return None
    get = _reader(current)
    if str((body.get("meta") or {}).get("version", "")).startswith("2"):
        custom = previous.get("custom_fields") if isinstance(previous.get("custom_fields"), dict) else {}

        def changed(source: str) -> bool:
            return source in previous or source in custom
    else:
        before = _reader(previous)

        def changed(source: str) -> bool:
            return before(source) != get(source)
    values = mapped_updates(fields_of(mapping), get=get, changed=changed)
    if not values:
        return None
    deal_id = str(current.get("id") or (body.get("meta") or {}).get("entity_id"))
    when = when or to_datetime(current.get("update_time")) or received_at
    return FieldUpdate(deal_id=deal_id, occurred_at=when, vendor="Pipedrive", values=values)


def _reader(current: dict[str, Any]) -> Callable[[str], Any]:
    """Read a deal field by key: top level, then `custom_fields` (v2); relation objects give their value.

    The owner is `user_id` in v1 payloads and `owner_id` in v2: either name reads whichever is there.
    """
    custom = current.get("custom_fields") if isinstance(current.get("custom_fields"), dict) else {}

    def get(source: str) -> Any:
        if source in OWNER_KEYS:
            value = next((current[k] for k in OWNER_KEYS if current.get(k) is not None), None)
        else:
            value = current.get(source, custom.get(source))
        if isinstance(value, dict):  # API-shaped relations {"value": 7, "name": ...}, v2 custom fields {"value": ...}
            value = value.get("value")
        return value

    return get


def owner_ids(current: dict[str, Any], mapping: CrmMapping) -> set[str]:
    """The user ids the deal's owner fields hold (what :func:`fetch_lookups` reads from the API)."""
    get = _reader(current)
    ids = {_id(get(source)) for target, source in fields_of(mapping).items() if target.startswith("owners.")}
    return {i for i in ids if i is not None}


def org_id(current: dict[str, Any]) -> str | None:
    return _id(_reader(current)("org_id"))


def signed_data(deal_id: str, current: dict[str, Any], mapping: CrmMapping,
                lookups: dict[str, Any] | None = None) -> tuple[dict[str, Any], list[str]]:
    """DealSigned-shaped data and the flags of what could not be filled (an owner with no email...)."""
    flags: list[str] = []
    users = (lookups or {}).get("users") or {}
    get = _reader(current)

    def owner(raw: Any) -> dict[str, Any] | None:
        if isinstance(raw, str) and "@" in raw:
            return person(raw)
        user_id = _id(raw)
        if user_id is None:
            return None
        if users.get(user_id):
            return person(users[user_id].get("email"), users[user_id].get("name"))
        flags.append(_owner_flag(user_id, current, lookups))
        return None

    data: dict[str, Any] = {"deal": {"id": deal_id}, "account": {"id": f"deal-{deal_id}"}, "owners": {}}
    apply_mapped_fields(data, fields=fields_of(mapping), get=get, owner=owner, segment=mapping.segment)
    account = data["account"]
    account["id"] = text(account.get("id"), 200) or f"deal-{deal_id}"
    org = ((lookups or {}).get("orgs") or {}).get(account["id"]) or {}
    if text(org.get("name")):
        account["name"] = text(org.get("name"))
    elif not account.get("name"):
        account["name"] = f"Pipedrive organization {account['id']}"
        if lookups is None and org_id(current):
            flags.append(f"organization {account['id']}: name not in the payload; set "
                         "JOURNEY_PIPEDRIVE_API_TOKEN to read it")
    return data, list(dict.fromkeys(flags))


def _owner_flag(user_id: str, current: dict[str, Any], lookups: dict[str, Any] | None) -> str:
    named = current.get("owner_name") if _id(current.get("user_id")) == user_id else None
    who = f"user {user_id}" + (f" ({text(named, 200)})" if text(named) else "")
    if lookups is None:
        return f"owner {who} left out: set JOURNEY_PIPEDRIVE_API_TOKEN to read owners' emails"
    return f"owner {who} left out: Pipedrive has no such user (or no email for it)"


def _id(value: Any) -> str | None:
    if isinstance(value, dict):
        value = value.get("value", value.get("id"))
    if isinstance(value, bool) or value is None:
        return None
    value = str(value).strip()
    return value[:200] if value else None


def fields_of(mapping: CrmMapping) -> dict[str, str]:
    return {**DEFAULT_FIELDS, **mapping.fields}


# -------------------------------------------------------------------------------------------------- API
class PipedriveError(CrmApiError):
    """Pipedrive's API refused us, or (PipedriveUnavailable) could not answer after retries."""


class PipedriveUnavailable(CrmApiUnavailable, PipedriveError):
    """Pipedrive is down or rate-limiting us: the event waits (honouring Retry-After)."""


class PipedriveNotFound(PipedriveError):
    """No such user or organisation (deleted)."""


class PipedriveApi(JsonApi):
    """GET /v1/users/{id} and /v1/organizations/{id}, the API token in the `x-api-token` header."""

    vendor = "Pipedrive"
    error = PipedriveError
    unavailable = PipedriveUnavailable
    not_found = PipedriveNotFound
    refused_hint = "check JOURNEY_PIPEDRIVE_API_TOKEN"

    def __init__(self, *, base_url: str, token: str, transport: httpx.BaseTransport | None = None,
                 attempts: int = 4, max_wait: float = 10.0, sleep: Callable[[float], None] | None = None) -> None:
        super().__init__(base_url=base_url, headers={"x-api-token": token}, transport=transport,
                         attempts=attempts, max_wait=max_wait, sleep=sleep)

    def _data(self, path: str) -> dict[str, Any] | None:
        try:
            data = self.request("GET", path).get("data")
        except PipedriveNotFound:
            return None
        return data if isinstance(data, dict) else None

    def user(self, user_id: str) -> dict[str, Any] | None:
        return self._data(f"/v1/users/{quote(user_id, safe='')}")

    def organization(self, org_id: str) -> dict[str, Any] | None:
        return self._data(f"/v1/organizations/{quote(org_id, safe='')}")


def fetch_lookups(api: PipedriveApi, current: dict[str, Any], mapping: CrmMapping) -> dict[str, Any]:
    """{"users": {id: {"email", "name"} | None}, "orgs": {id: {"name"}}} for a won deal's owners and org."""
    users: dict[str, dict[str, Any] | None] = {}
    for user_id in sorted(owner_ids(current, mapping)):
        found = api.user(user_id)
        users[user_id] = {"email": found.get("email"), "name": found.get("name")} if found else None
    orgs: dict[str, dict[str, Any]] = {}
    organization = org_id(current)
    if organization:
        found = api.organization(organization)
        if found:
            orgs[organization] = {"name": found.get("name")}
    return {"users": users, "orgs": orgs}


def current_of(body: dict[str, Any]) -> dict[str, Any]:
    return _versioned(body)[0]


def dumps(body: dict[str, Any]) -> str:
    return json.dumps(body, ensure_ascii=False)
