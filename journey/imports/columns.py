"""Which CRM an export comes from, by its headers, and how its columns map to a signed deal. Pure.

Column names are those of each CRM's standard export (HubSpot "Export deals", Salesforce report export
of Opportunities, Pipedrive "Export data" of deals, with its "Deal - " prefixes); the generic columns
are CONTRACT.md's. A `--mapping` YAML (`source: NAME`, `columns: {journey field: column}`) covers others.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from journey.adapters.crm.common import apply_mapped_fields, person
from journey.adapters.crm.mapping import TARGETS


@dataclass(frozen=True)
class Layout:
    source: str  # the CRM the deals are addressed under: crm:<source>:<deal id>
    columns: dict[str, str]  # journey field -> column
    won_column: str | None = None  # a column that must say won (stage / status), when the export has one


GENERIC = Layout("import", {
    "deal.id": "deal_id", "deal.name": "deal_name", "deal.amount": "amount", "deal.currency": "currency",
    "deal.signed_at": "signed_at", "deal.contract_start": "contract_start", "deal.contract_end": "contract_end",
    "deal.expected_go_live": "expected_go_live", "deal.seats": "seats", "account.id": "account_id",
    "account.name": "account_name", "account.segment": "segment", "account.region": "region",
    "account.timezone": "timezone", "owners.ae": "ae_email", "owners.csm": "csm_email", "owners.am": "am_email"})
HUBSPOT = Layout("hubspot", {
    "deal.id": "Record ID", "deal.name": "Deal Name", "deal.amount": "Amount", "deal.currency": "Currency",
    "deal.signed_at": "Close Date", "account.id": "Associated Company IDs", "account.name": "Associated Company",
    "owners.ae": "Deal owner email"}, won_column="Deal Stage")
SALESFORCE = Layout("salesforce", {
    "deal.id": "Opportunity ID", "deal.name": "Opportunity Name", "deal.amount": "Amount",
    "deal.currency": "Opportunity Currency", "deal.signed_at": "Close Date", "account.id": "Account ID",
    "account.name": "Account Name", "owners.ae": "Opportunity Owner Email"}, won_column="Stage")
PIPEDRIVE = Layout("pipedrive", {
    "deal.id": "Deal - ID", "deal.name": "Deal - Title", "deal.amount": "Deal - Value",
    "deal.currency": "Deal - Currency", "deal.signed_at": "Deal - Won time", "account.id": "Organization - ID",
    "account.name": "Deal - Organization", "owners.ae": "Deal - Owner email"}, won_column="Deal - Status")
KNOWN = (HUBSPOT, SALESFORCE, PIPEDRIVE, GENERIC)


class LayoutError(ValueError):
    """The file's headers match no known export and no mapping was given."""


def detect(headers: list[str]) -> Layout:
    present = {h.strip() for h in headers}
    for layout in KNOWN:
        if layout.columns["deal.id"] in present:
            return layout
    raise LayoutError("unknown columns: expected a HubSpot, Salesforce or Pipedrive export, the generic columns "
                      "(deal_id, deal_name, ...), or --mapping FILE.yaml; got " + ", ".join(sorted(present))[:300])


def load_layout(path: Path) -> Layout:
    raw = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    columns = raw.get("columns") if isinstance(raw, dict) else None
    if not isinstance(columns, dict) or "deal.id" not in columns or "account.id" not in columns:
        raise LayoutError(f"{path}: needs `columns:` with at least deal.id and account.id")
    unknown = sorted(set(columns) - TARGETS - {"deal.id"})
    if unknown:
        raise LayoutError(f"{path}: unknown journey fields {', '.join(unknown)}")
    source = str(raw.get("source") or "import")
    if source not in {"import", "hubspot", "salesforce", "pipedrive", "events"}:
        raise LayoutError(f"{path}: source must be import, hubspot, salesforce, pipedrive or events")
    return Layout(source, {str(k): str(v) for k, v in columns.items()}, won_column=raw.get("won_column"))


def row_to_signed(layout: Layout, row: dict[str, Any]) -> dict[str, Any] | str:
    """DealSigned-shaped data for the row, or why the row is not a signed deal."""
    if layout.won_column and layout.won_column in row:
        status = str(row.get(layout.won_column) or "")
        if "won" not in status.lower():
            return f"{layout.won_column} is {status!r}, not won"
    deal_id = (row.get(layout.columns["deal.id"]) or "").strip()
    if not deal_id:
        return f"empty {layout.columns['deal.id']}"
    data: dict[str, Any] = {"deal": {"id": deal_id}, "account": {}, "owners": {}}
    apply_mapped_fields(data, fields=layout.columns, get=row.get, owner=person,
                        segment=lambda v: "_".join(str(v).lower().replace("-", " ").split()) or None)
    account = data["account"]
    if not account.get("id"):
        account["id"] = account.get("name") or f"deal-{deal_id}"
    if ";" in account["id"]:  # HubSpot lists several associated companies; the first is the account
        account["id"] = account["id"].split(";")[0].strip()
    account.setdefault("name", account["id"])
    return data
