"""Recognise journey's own writes coming back as CRM notifications, and people editing journey's properties.

Pure. Two guards: the change was made by journey's integration (HubSpot `changeSource` INTEGRATION / API
with the app's `sourceId`; Salesforce `LastModifiedById` = the integration user; Pipedrive
`meta.change_source` "api" with the API token's user), and, second, every field it changed is one of
journey's own properties. Either way the notification starts nothing. A change of journey's properties
made by someone else is an edit journey answers by writing its values again (journey owns them).
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

HUBSPOT_OWN_SOURCES = frozenset({"INTEGRATION", "API"})
# Pipedrive fields that change with every update whoever makes it
PIPEDRIVE_BOOKKEEPING = frozenset({"update_time", "last_activity_date", "last_activity_id", "next_activity_date",
                                   "next_activity_id", "stage_change_time", "custom_fields", "id"})


@dataclass(frozen=True)
class Observation:
    object_type: str  # deal, company
    object_id: str
    echo: bool  # journey's own write coming back
    only_journey: bool  # every field changed is journey's own
    seen: dict[str, Any] = field(default_factory=dict)  # journey's properties as the CRM now holds them
    who: str | None = None


def hubspot(event: Mapping[str, Any], properties: frozenset[str], *, app_id: str | None) -> Observation | None:
    """A `*.propertyChange` of one of journey's properties (HubSpot sends one event per property)."""
    kind, prop = str(event.get("subscriptionType") or ""), event.get("propertyName")
    if not kind.endswith(".propertyChange") or prop not in properties:
        return None
    source, source_id = str(event.get("changeSource") or ""), str(event.get("sourceId") or "")
    ours = source in HUBSPOT_OWN_SOURCES and (not app_id or source_id == app_id or source_id.endswith(f":{app_id}"))
    object_type = "deal" if kind.startswith("deal.") else "company"
    return Observation(object_type, str(event.get("objectId")), echo=ours, only_journey=True,
                       seen={} if ours else {prop: event.get("propertyValue")}, who=f"{source} {source_id}".strip())


def salesforce(stored: Mapping[str, Any], properties: frozenset[str], *,
               integration_user: str | None) -> Observation | None:
    """An Outbound Message on a record journey writes to: ours when its last modifier is the integration user.

    A message carries a snapshot, not a list of changes: journey's properties in it are compared by the
    caller with what journey last wrote."""
    fields: Mapping[str, Any] = stored.get("fields") or {}
    modifier = str(fields.get("LastModifiedById") or "")
    ours = bool(integration_user) and modifier[:15] == str(integration_user)[:15] and bool(modifier)
    seen = {name: fields.get(name) for name in properties if name in fields}
    if not ours and not seen:
        return None
    object_type = "deal" if stored.get("sobject_type") in ("Opportunity", "") else "company"
    return Observation(object_type, str(fields.get("Id")), echo=ours, only_journey=False,
                       seen={} if ours else seen, who=modifier or None)


def pipedrive(body: Mapping[str, Any], keys: frozenset[str], *, integration_user: str | None) -> Observation | None:
    """A deal or organization update whose changed fields include journey's custom fields."""
    meta = body.get("meta") if isinstance(body.get("meta"), Mapping) else {}
    v2 = str(meta.get("version", "")).startswith("2")
    current = body.get("data" if v2 else "current") or {}
    previous = body.get("previous") if isinstance(body.get("previous"), Mapping) else None
    if not isinstance(current, Mapping) or previous is None:
        return None
    changed = _pipedrive_changed(current, previous, v2=v2)
    mine = changed & keys
    if not mine:
        return None
    user = str(meta.get("user_id") or "")
    ours = meta.get("change_source") == "api" and (not integration_user or user == str(integration_user))
    entity = str(meta.get("entity") or meta.get("object") or "deal")
    custom = current.get("custom_fields") if isinstance(current.get("custom_fields"), Mapping) else {}
    seen = {k: _plain(current.get(k, custom.get(k))) for k in mine}
    return Observation("deal" if entity == "deal" else "company", str(current.get("id") or meta.get("entity_id")),
                       echo=ours, only_journey=not (changed - keys - PIPEDRIVE_BOOKKEEPING),
                       seen={} if ours else seen, who=f"user {user}" if user else None)


def _pipedrive_changed(current: Mapping[str, Any], previous: Mapping[str, Any], *, v2: bool) -> set[str]:
    if v2:  # v2's `previous` lists only the changed fields (custom ones under custom_fields)
        custom = previous.get("custom_fields") if isinstance(previous.get("custom_fields"), Mapping) else {}
        return set(previous) | set(custom)
    return {k for k in set(current) | set(previous) if current.get(k) != previous.get(k)}


def _plain(value: Any) -> Any:
    return value.get("value") if isinstance(value, Mapping) else value
