"""`journey crm setup <crm>`: create journey's properties in the CRM (HubSpot, Pipedrive) or check them
(Salesforce, whose custom fields are created in Setup or by a metadata deployment, not by this tool).

HubSpot properties API: `POST /crm/v3/properties/{deals|companies}/groups` `{"name", "label"}` and `POST
/crm/v3/properties/{deals|companies}` `{"name", "label", "type", "fieldType", "groupName"}`; an existing
group or property answers 409, which is success here (idempotent). Pipedrive: `GET` / `POST /v1/dealFields`
and `/v1/organizationFields` `{"name", "field_type"}`, whose answer carries the field's 40-character `key`.
Salesforce: `GET /services/data/vNN.N/sobjects/{Opportunity|Account}/describe` lists the fields there.
"""
from __future__ import annotations

from typing import Any

from journey.adapters.crm.http import CrmApiError
from journey.adapters.crm.hubspot import HubSpotApi
from journey.adapters.crm.pipedrive import PipedriveApi
from journey.adapters.crm.salesforce_writer import SOBJECTS, SalesforceWriter
from journey.adapters.crm.write_mapping import KINDS, LABELS, WriteBack

GROUP = "journey"
HUBSPOT_TYPES = {"number": ("number", "number"), "date": ("date", "date")}  # else string / text
PIPEDRIVE_TYPES = {"number": "double", "date": "date"}  # else varchar
SALESFORCE_TYPES = {"number": "Number(3, 0)", "date": "Date", "email": "Email", "url": "URL(255)"}


def setup_hubspot(api: HubSpotApi, write_back: WriteBack) -> list[str]:
    """Create the group and the properties on deals and companies; one line per thing done or found."""
    lines = []
    for object_type in write_back.objects:
        path = {"deal": "deals", "company": "companies"}[object_type]
        lines.append(_create(api, f"/crm/v3/properties/{path}/groups", {"name": GROUP, "label": "journey",
                                                                         "displayOrder": -1}, f"{path}: group"))
        for value, prop in write_back.fields_for(object_type).items():
            kind, field = HUBSPOT_TYPES.get(KINDS.get(value, ""), ("string", "text"))
            body = {"name": prop, "label": f"journey: {LABELS[value]}", "type": kind, "fieldType": field,
                    "groupName": GROUP, "description": f"Written by journey ({value}); edits are overwritten."}
            lines.append(_create(api, f"/crm/v3/properties/{path}", body, f"{path}: {prop}"))
    return lines


def _create(api: HubSpotApi, path: str, body: dict[str, Any], what: str) -> str:
    response = api.send("POST", path, json=body)
    if response.status_code in (200, 201):
        return f"created {what}"
    if response.status_code == 409:
        return f"exists  {what}"
    raise CrmApiError(f"HubSpot answered {response.status_code} creating {what}: {response.text[:300]} (the token "
                      "needs crm.schemas.deals.write and crm.schemas.companies.write)")


def setup_pipedrive(api: PipedriveApi, values: list[str], objects: tuple[str, ...]) -> dict[str, dict[str, str]]:
    """Create (or find, by name) a custom field per value on deals and organizations: {object: {value: key}}."""
    keys: dict[str, dict[str, str]] = {}
    for object_type in objects:
        path = "/v1/dealFields" if object_type == "deal" else "/v1/organizationFields"
        existing = {f.get("name"): f.get("key") for f in api.request("GET", path).get("data") or []
                    if isinstance(f, dict)}
        for value in values:
            name = f"journey {LABELS[value]}"
            key = existing.get(name)
            if not key:
                created = api.request("POST", path, json={"name": name,
                                                          "field_type": PIPEDRIVE_TYPES.get(KINDS.get(value, ""),
                                                                                            "varchar")})
                key = (created.get("data") or {}).get("key")
            keys.setdefault(object_type, {})[value] = str(key)
    return keys


def salesforce_fields(write_back: WriteBack) -> list[tuple[str, str, str]]:
    """(object, field API name, type) of each custom field to create."""
    return [(SOBJECTS[o], prop, SALESFORCE_TYPES.get(KINDS.get(value, ""), "Text(255)"))
            for o in write_back.objects for value, prop in write_back.fields_for(o).items()]


def check_salesforce(writer: SalesforceWriter, write_back: WriteBack) -> list[str]:
    """The custom fields missing from each object's describe (empty: all there)."""
    missing = []
    for object_type in write_back.objects:
        sobject = SOBJECTS[object_type]
        response = writer.call("GET", f"/services/data/{writer.version}/sobjects/{sobject}/describe")
        if response.status_code != 200:
            raise CrmApiError(f"Salesforce answered {response.status_code} to describe {sobject}: "
                              f"{response.text[:300]}")
        names = {f.get("name") for f in response.json().get("fields") or []}
        missing += [f"{sobject}.{prop}" for prop in write_back.fields_for(object_type).values() if prop not in names]
    return missing
