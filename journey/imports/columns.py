"""Which CRM an export comes from, by its headers, and how its columns map to a signed deal. Pure.

Column names are those of each CRM's standard export: HubSpot "Export" of deals (property labels:
"Record ID", "Deal Stage", "Pipeline", "Close Date", "Associated Company IDs"), a Salesforce report of
Opportunities ("Opportunity ID", "Stage", "Won", "Close Date", "Account ID"), Pipedrive "Export data" of
deals (field labels prefixed "Deal - ": "Deal - ID", "Deal - Status", "Deal - Won time"). The generic
columns are the generic ones of docs/crm.md. The vendor's `templates/crm/<vendor>.yaml` decides which stages are won
(:mod:`journey.imports.stages`) and its `fields` name more columns, by label: the CRM field
`go_live_date` (or `Go_Live_Date__c`) is read from a column "Go-live date" (or "Go Live Date").
A `--mapping` YAML covers any other file (:func:`load_layout`).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from journey.adapters.crm.common import apply_mapped_fields, person, text
from journey.adapters.crm.mapping import TARGETS, VENDORS, CrmMapping
from journey.imports.stages import Columns, Verdict, judge, squash

Names = tuple[str, ...]  # the names a column goes by, the first present in the file is read


@dataclass(frozen=True)
class Layout:
    source: str  # the CRM the deals are addressed under: crm:<source>:<deal id>
    columns: dict[str, Names]  # journey field -> column
    stage: Names = ()  # the stage (HubSpot, Salesforce) or status (Pipedrive) column
    pipeline: Names = ()
    won: Names = ()  # a checkbox column: won or not (Salesforce's "Won")
    won_values: frozenset[str] = frozenset()  # a --mapping file's won stages, for a source with no CRM mapping
    explicit: bool = False  # a --mapping file's columns: the CRM mapping's fields do not override them


@dataclass(frozen=True)
class Bound:
    """A layout applied to one file's headers: the columns it has, and the CRM mapping of its source."""

    source: str
    columns: dict[str, str]
    tells: Columns
    mapping: CrmMapping = field(default_factory=lambda: CrmMapping(vendor="import"))


@dataclass(frozen=True)
class SignedRow:
    data: dict[str, Any]  # DealSigned-shaped
    verdict: Verdict


def _names(**columns: str | Names) -> dict[str, Names]:
    return {k.replace("__", "."): (v,) if isinstance(v, str) else v for k, v in columns.items()}


GENERIC = Layout("import", _names(
    deal__id="deal_id", deal__name="deal_name", deal__amount="amount", deal__currency="currency",
    deal__signed_at="signed_at", deal__contract_start="contract_start", deal__contract_end="contract_end",
    deal__expected_go_live="expected_go_live", deal__seats="seats", account__id="account_id",
    account__name="account_name", account__segment="segment", account__region="region",
    account__timezone="timezone", owners__ae="ae_email", owners__csm="csm_email", owners__am="am_email"))
HUBSPOT = Layout("hubspot", _names(
    deal__id="Record ID", deal__name="Deal Name", deal__amount="Amount",
    deal__currency=("Currency", "Deal currency code"),
    deal__signed_at="Close Date", account__id=("Associated Company IDs", "Associated Company IDs (Primary)"),
    account__name=("Associated Company", "Associated Company (Primary)"), owners__ae="Deal owner email"),
    stage=("Deal Stage",), pipeline=("Pipeline",))
SALESFORCE = Layout("salesforce", _names(
    deal__id="Opportunity ID", deal__name="Opportunity Name", deal__amount="Amount",
    deal__currency=("Opportunity Currency", "Currency"), deal__signed_at="Close Date", account__id="Account ID",
    account__name="Account Name", owners__ae="Opportunity Owner Email"),
    stage=("Stage",), pipeline=("Opportunity Record Type",), won=("Won",))
PIPEDRIVE = Layout("pipedrive", _names(
    deal__id="Deal - ID", deal__name="Deal - Title", deal__amount="Deal - Value",
    deal__currency=("Deal - Currency", "Deal - Currency of Value"), deal__signed_at="Deal - Won time",
    account__id=("Organization - ID", "Deal - Organization ID"), account__name="Deal - Organization",
    owners__ae="Deal - Owner email"),
    stage=("Deal - Status",), pipeline=("Deal - Pipeline",))
KNOWN = (HUBSPOT, SALESFORCE, PIPEDRIVE, GENERIC)
MAPPING_KEYS = {"source", "columns", "stage_column", "pipeline_column", "won_column", "won_stages"}


class LayoutError(ValueError):
    """The file's headers match no known export, or a mapping file cannot be used."""


def detect(headers: list[str]) -> Layout:
    present = {h.strip() for h in headers}
    for layout in KNOWN:
        if present & set(layout.columns["deal.id"]):
            return layout
    raise LayoutError("unknown columns: expected a HubSpot, Salesforce or Pipedrive export, the generic columns "
                      "(deal_id, deal_name, ...), or --mapping FILE.yaml; got " + ", ".join(sorted(present))[:300])


def bind(layout: Layout, headers: list[str], mapping: CrmMapping | None = None) -> Bound:
    """The layout's columns that this file has; the CRM mapping's `fields` found by label override the
    built-in ones (not those a --mapping file names)."""
    present = {h.strip(): h for h in headers}
    first = {k: next((present[n] for n in names if n in present), None) for k, names in layout.columns.items()}
    columns = {k: v for k, v in first.items() if v is not None}
    mapping = mapping or CrmMapping(vendor=layout.source)
    for target, crm_field in mapping.fields.items():
        column = column_for(crm_field, headers)
        if column is not None and not (layout.explicit and target in columns):
            columns[target] = column
    picked = [next((present[n] for n in names if n in present), None)
              for names in (layout.stage, layout.pipeline, layout.won)]
    if (layout.stage or layout.won) and picked[0] is None and picked[2] is None:
        wanted = " or ".join(f'"{n}"' for n in (*layout.stage, *layout.won))
        raise LayoutError(f"the {layout.source} export has no {wanted} column: journey cannot tell won deals "
                          "from the others; export it with that column")
    tells = Columns(stage=picked[0], pipeline=picked[1], won=picked[2], won_values=layout.won_values)
    return Bound(layout.source, columns, tells, mapping)


def column_for(crm_field: str, headers: list[str]) -> str | None:
    """The header naming a CRM field: itself, or its label (`company.customer_segment`, `Go_Live_Date__c`
    and Pipedrive's "Deal - " prefix aside, the same letters and digits)."""
    if crm_field in headers:
        return crm_field
    wanted = squash(re.sub(r"__c$", "", crm_field.removeprefix("company."), flags=re.IGNORECASE))
    found = [h for h in headers if wanted and squash(re.sub(r"^deal - ", "", h.strip(), flags=re.IGNORECASE)) == wanted]
    return found[0] if len(found) == 1 else None


def load_layout(path: Path) -> Layout:
    """A `--mapping` file: `source`, `columns: {journey field: column}` and, to skip rows that are not won,
    `stage_column` (+ `pipeline_column`) judged by the source's CRM mapping or by `won_stages: [...]`,
    or `won_column` (a 1/0, true/false checkbox)."""
    try:
        raw = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise LayoutError(f"{path}: invalid YAML: {exc}") from exc
    columns = raw.get("columns") if isinstance(raw, dict) else None
    if not isinstance(columns, dict) or "deal.id" not in columns or "account.id" not in columns:
        raise LayoutError(f"{path}: needs `columns:` with at least deal.id and account.id")
    problems = [f"unknown key {k!r} ({', '.join(sorted(MAPPING_KEYS))})" for k in raw if k not in MAPPING_KEYS]
    problems += [f"unknown journey field {k!r}" for k in sorted(set(columns) - TARGETS - {"deal.id"})]
    source = str(raw.get("source") or "import")
    if source not in {"import", "events", *VENDORS}:
        problems.append("source must be import, events, hubspot, salesforce or pipedrive")
    won_stages = raw.get("won_stages") or []
    if not isinstance(won_stages, list) or not all(isinstance(s, str | int) for s in won_stages):
        problems.append("won_stages must be a list of stage names")
    elif raw.get("stage_column") and source not in VENDORS and not won_stages:
        problems.append(f"stage_column needs won_stages: [...] (source {source} has no templates/crm mapping)")
    if problems:
        raise LayoutError(f"{path}: " + "; ".join(problems))
    one = {k: (str(raw[k]),) if raw.get(k) else () for k in ("stage_column", "pipeline_column", "won_column")}
    return Layout(source, {str(k): (str(v),) for k, v in columns.items()}, stage=one["stage_column"],
                  pipeline=one["pipeline_column"], won=one["won_column"],
                  won_values=frozenset(str(s) for s in won_stages), explicit=True)


def row_to_signed(bound: Bound, row: dict[str, Any]) -> SignedRow | str:
    """DealSigned-shaped data for the row, or why the row is not a signed deal."""
    verdict = judge(bound.source, bound.mapping, bound.tells, row)
    if verdict.rejected:
        return verdict.rejected
    deal_id = salesforce_id18((row.get(bound.columns["deal.id"]) or "").strip(), bound.source)
    if not deal_id:
        return f"empty {bound.columns['deal.id']}"
    data: dict[str, Any] = {"deal": {"id": deal_id, "stage": text(verdict.stage, 200)}, "account": {}, "owners": {}}
    fields = {k: v for k, v in bound.columns.items() if k != "deal.id"}
    apply_mapped_fields(data, fields=fields, get=row.get, owner=person, segment=bound.mapping.segment)
    account = data["account"]
    if not account.get("id"):
        account["id"] = account.get("name") or f"deal-{deal_id}"
    if ";" in account["id"]:  # HubSpot lists several associated companies; the first is the account
        account["id"] = account["id"].split(";")[0].strip()
    account["id"] = salesforce_id18(account["id"], bound.source)
    account.setdefault("name", account["id"])
    return SignedRow(data, verdict)


def salesforce_id18(value: str, source: str) -> str:
    """Salesforce reports show 15-character ids, its Outbound Messages the 18-character form: a 15-character
    id gets its documented case-safe suffix, so an imported deal is the one webhooks name."""
    if source != "salesforce" or not re.fullmatch(r"[0-9A-Za-z]{15}", value):
        return value
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"
    suffix = "".join(alphabet[sum(1 << i for i, c in enumerate(value[k:k + 5]) if c.isupper())] for k in (0, 5, 10))
    return value + suffix
