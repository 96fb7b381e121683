"""Pipedrive webhooks on deals, v2 (`meta` / `data` / `previous`) and legacy v1 (`current` / `previous`).

From Pipedrive's documentation ("Webhooks", "Webhooks v2", "Guide for Webhooks v2 migration"), as we
know it (no network here to re-read it): a webhook is protected by HTTP Basic credentials set when it
is created; v1 bodies carry `meta` {v: 1, action: "updated", object: "deal", id, timestamp (s),
timestamp_micro, ...}, `current` and `previous` (whole objects), `event` ("updated.deal"); v2 bodies
carry `meta` {version: "2.0", action: "change", entity: "deal", entity_id, id, timestamp (ISO), ...},
`data` and `previous` (only the changed fields; custom fields under `custom_fields`). Pipedrive
retries a failed delivery a few times: the same body comes again.
"""
from __future__ import annotations

import base64
import binascii
import hmac
import json
from datetime import datetime
from typing import Any

from journey.adapters.crm.common import StageChange, apply_mapped_fields, person, text, to_datetime
from journey.adapters.crm.mapping import CrmMapping

SOURCE = "pipedrive"
DEFAULT_FIELDS = {"deal.name": "title", "deal.amount": "value", "deal.currency": "currency",
                  "deal.signed_at": "won_time",
                  "account.id": "org_id", "account.name": "org_name", "owners.ae": "user_id"}


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


def _versioned(body: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any] | None, datetime | None]:
    meta = body.get("meta") or {}
    if str(meta.get("version", "")).startswith("2"):
        current, when = body.get("data") or {}, to_datetime(meta.get("timestamp"))
    else:
        current, when = body.get("current") or {}, to_datetime(meta.get("timestamp"))
    previous = body.get("previous")
    return current, previous if isinstance(previous, dict) else None, when


def stage_change(body: dict[str, Any], mapping: CrmMapping, *, received_at: datetime) -> StageChange | None:
    """A change of the deal's status (won, open, lost), or None when the status did not change."""
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
    return StageChange(deal_id=deal_id, occurred_at=when, won=True, pipeline=pipeline, stage=status,
                       signed=signed_data(deal_id, current, mapping))


def signed_data(deal_id: str, current: dict[str, Any], mapping: CrmMapping) -> dict[str, Any]:
    custom = current.get("custom_fields") if isinstance(current.get("custom_fields"), dict) else {}

    def get(source: str) -> Any:
        value = current.get(source, custom.get(source))
        if isinstance(value, dict):  # v1 relations {"value": 7, "name": ...}, v2 custom fields {"value": ...}
            value = value.get("email") if source == "user_id" and value.get("email") else value.get("value")
        return value

    def owner(raw: Any) -> dict[str, Any] | None:
        return person(raw) if isinstance(raw, str) else None

    data: dict[str, Any] = {"deal": {"id": deal_id}, "account": {"id": f"deal-{deal_id}"}, "owners": {}}
    fields = {**DEFAULT_FIELDS, **mapping.fields}
    apply_mapped_fields(data, fields=fields, get=get, owner=owner, segment=mapping.segment)
    data["account"]["id"] = text(data["account"].get("id"), 200) or f"deal-{deal_id}"
    data["account"].setdefault("name", _org_name(current) or f"Pipedrive organization {data['account']['id']}")
    return data


def _org_name(current: dict[str, Any]) -> str | None:
    org = current.get("org_id")
    return text(org.get("name")) if isinstance(org, dict) else None


def dumps(body: dict[str, Any]) -> str:
    return json.dumps(body, ensure_ascii=False)
