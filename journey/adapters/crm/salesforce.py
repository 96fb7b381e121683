"""Salesforce Outbound Messages on Opportunity: parse the SOAP envelope safely, answer the Ack or a fault.

From Salesforce's documentation ("Outbound Messaging", "Understanding the Outbound Messaging WSDL"), as
we know it (no network here to re-read it): the body is a SOAP 1.1 envelope whose Body holds
`notifications` (namespace http://soap.sforce.com/2005/09/outbound) with OrganizationId, ActionId,
SessionId, EnterpriseUrl, PartnerUrl and 1 to 100 `Notification` elements, each with an `Id` and an
`sObject` (xsi:type sf:Opportunity, fields in urn:sobject.enterprise.soap.sforce.com). Salesforce
retries until it receives `notificationsResponse/Ack = true`, for up to 24 hours, and may deliver a
notification more than once: the notification Id is the idempotency key.
"""
from __future__ import annotations

import json
from datetime import datetime
from typing import Any
from xml.etree.ElementTree import Element, ParseError, tostring  # noqa: S405 - serialising only
from xml.sax.saxutils import escape

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

from journey.adapters.crm.common import (
    FieldUpdate,
    StageChange,
    apply_mapped_fields,
    mapped_updates,
    person,
    text,
    to_datetime,
)
from journey.adapters.crm.mapping import ANY_PIPELINE, CrmMapping

SOURCE = "salesforce"
EVENT_TYPE = "outbound.Opportunity"
SOAP = "http://schemas.xmlsoap.org/soap/envelope/"
OM = "http://soap.sforce.com/2005/09/outbound"
SF = "urn:sobject.enterprise.soap.sforce.com"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
MAX_NOTIFICATIONS = 100
DEFAULT_FIELDS = {"deal.name": "Name", "deal.amount": "Amount", "deal.currency": "CurrencyIsoCode",
                  "deal.signed_at": "CloseDate", "account.id": "AccountId"}

ACK = ('<?xml version="1.0" encoding="UTF-8"?>'
       f'<soapenv:Envelope xmlns:soapenv="{SOAP}"><soapenv:Body>'
       f'<notificationsResponse xmlns="{OM}"><Ack>true</Ack></notificationsResponse>'
       '</soapenv:Body></soapenv:Envelope>')


class MalformedMessage(ValueError):
    """Not an Outbound Message we can read (message safe to show)."""


def fault(message: str, *, server: bool = False) -> str:
    code = "soapenv:Server" if server else "soapenv:Client"
    return ('<?xml version="1.0" encoding="UTF-8"?>'
            f'<soapenv:Envelope xmlns:soapenv="{SOAP}"><soapenv:Body><soapenv:Fault>'
            f'<faultcode>{code}</faultcode><faultstring>{escape(message)}</faultstring>'
            '</soapenv:Fault></soapenv:Body></soapenv:Envelope>')


def parse_message(body: bytes) -> tuple[str, list[dict[str, Any]]]:
    """(OrganizationId, notifications): each {notification_id, action_id, sobject_type, fields, xml}.

    defusedxml refuses any DTD, entity declaration or external reference before expanding anything, so
    an XXE or billion-laughs document costs the parse of its first lines and is refused.
    """
    try:
        root = fromstring(body, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DefusedXmlException as exc:
        raise MalformedMessage(f"XML with a DTD or entities is refused ({type(exc).__name__})") from exc
    except (ParseError, ValueError) as exc:
        raise MalformedMessage(f"body is not well-formed XML: {str(exc)[:120]}") from exc
    if root.tag != f"{{{SOAP}}}Envelope":
        raise MalformedMessage("body is not a SOAP 1.1 envelope")
    notifications = root.find(f"{{{SOAP}}}Body/{{{OM}}}notifications")
    if notifications is None:
        raise MalformedMessage("the SOAP body holds no Outbound Message notifications")
    org_id = (notifications.findtext(f"{{{OM}}}OrganizationId") or "").strip()
    action_id = (notifications.findtext(f"{{{OM}}}ActionId") or "").strip()
    items = notifications.findall(f"{{{OM}}}Notification")
    if not org_id or not items:
        raise MalformedMessage("an Outbound Message needs an OrganizationId and at least one Notification")
    if len(items) > MAX_NOTIFICATIONS:
        raise MalformedMessage(f"more than {MAX_NOTIFICATIONS} notifications in one message")
    return org_id, [_notification(item, action_id) for item in items]


def _notification(item: Element, action_id: str) -> dict[str, Any]:
    notification_id = (item.findtext(f"{{{OM}}}Id") or "").strip()
    sobject = item.find(f"{{{OM}}}sObject")
    if not notification_id or len(notification_id) > 64 or sobject is None:
        raise MalformedMessage("every Notification needs an Id and an sObject")
    fields: dict[str, str | None] = {}
    for child in sobject:
        name = child.tag.rsplit("}", 1)[-1]
        nil = child.get(f"{{{XSI}}}nil") == "true"
        fields[name] = None if nil else (child.text or "").strip()
    sobject_type = (sobject.get(f"{{{XSI}}}type") or "").rsplit(":", 1)[-1]
    if not fields.get("Id"):
        raise MalformedMessage(f"notification {notification_id} has no sObject Id")
    return {"notification_id": notification_id, "action_id": action_id, "sobject_type": sobject_type,
            "fields": fields, "xml": tostring(item, encoding="unicode")}


def same_org(configured: str, received: str) -> bool:
    """Org ids come as 15 (case-sensitive) or 18 characters; the first 15 identify the org."""
    return bool(configured) and configured.strip()[:15] == received.strip()[:15]


def dumps(notification: dict[str, Any], org_id: str) -> str:
    return json.dumps({"organization_id": org_id, **notification}, ensure_ascii=False)


def fields_of(mapping: CrmMapping) -> dict[str, str]:
    return {**DEFAULT_FIELDS, **mapping.fields}


def stage_change(stored: dict[str, Any], mapping: CrmMapping, *, received_at: datetime) -> StageChange:
    """`IsWon` decides when the message carries it; otherwise `StageName` against the won stages."""
    fields: dict[str, Any] = stored.get("fields") or {}
    deal_id = str(fields["Id"])
    stage = fields.get("StageName")
    when = _when(fields, received_at)
    if not _won(fields, mapping):
        closed = (fields.get("IsClosed") or "").lower() == "true"
        why = f"lost ({stage})" if closed else f"stage {stage} is not won"
        return StageChange(deal_id=deal_id, occurred_at=when, won=False, stage=stage, why=why)
    return StageChange(deal_id=deal_id, occurred_at=when, won=True, stage=stage,
                       signed=signed_data(deal_id, fields, mapping))


def field_update(stored: dict[str, Any], mapping: CrmMapping, *, received_at: datetime) -> FieldUpdate | None:
    """The mapped deal fields of a won Opportunity, as a snapshot: an Outbound Message carries every field
    its action lists, changed or not, so the caller keeps those that differ from what journey holds."""
    fields: dict[str, Any] = stored.get("fields") or {}
    if not fields.get("Id") or not _won(fields, mapping):
        return None
    values = mapped_updates(fields_of(mapping), get=fields.get, changed=lambda source: source in fields)
    if not values:
        return None
    return FieldUpdate(deal_id=str(fields["Id"]), occurred_at=_when(fields, received_at), vendor="Salesforce",
                       values=values, snapshot=True)


def _won(fields: dict[str, Any], mapping: CrmMapping) -> bool:
    if fields.get("IsWon") is not None:
        return str(fields["IsWon"]).lower() == "true"
    return mapping.is_won_stage(fields.get("RecordTypeId") or ANY_PIPELINE, fields.get("StageName"))


def _when(fields: dict[str, Any], received_at: datetime) -> datetime:
    return to_datetime(fields.get("LastModifiedDate")) or to_datetime(fields.get("SystemModstamp")) or received_at


def signed_data(deal_id: str, fields: dict[str, Any], mapping: CrmMapping) -> dict[str, Any]:
    data: dict[str, Any] = {"deal": {"id": deal_id, "stage": text(fields.get("StageName"), 200)},
                            "account": {"id": f"opportunity-{deal_id}"}, "owners": {}}
    apply_mapped_fields(data, fields=fields_of(mapping), get=fields.get, owner=person, segment=mapping.segment)
    data["account"].setdefault("name", f"Salesforce account {data['account']['id']}")
    return data
