"""Whether a row of a CRM export is a won deal, by the same `templates/crm/<vendor>.yaml` as the webhooks. Pure.

- HubSpot: "Deal Stage" against the won stages of the row's "Pipeline". An export shows labels where the
  webhooks carry ids; HubSpot's built-in ids are its labels squashed ("Closed Won" is `closedwon`, the
  pipeline "Sales Pipeline" is `default`), and a mapping may list other pipelines' labels beside their ids.
- Salesforce: the "Won" checkbox decides when the export has it (as `IsWon` does for Outbound Messages);
  otherwise "Stage" against the won stages of `*` (or of the row's record type).
- Pipedrive: "Deal - Status" is `won` (as a webhook's `status`).
- A `--mapping` file of another source: its stage column against its own `won_stages` list.
"""
from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from journey.adapters.crm.mapping import ANY_PIPELINE, CrmMapping

HUBSPOT_DEFAULT_PIPELINE = ("default", "salespipeline")  # the id of HubSpot's built-in pipeline, its label squashed
TRUE, FALSE = {"1", "true", "yes"}, {"0", "false", "no"}


@dataclass(frozen=True)
class Columns:
    """The columns of one file that tell a won deal (each None when the file has none)."""

    stage: str | None = None
    pipeline: str | None = None
    won: str | None = None
    won_values: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Verdict:
    pipeline: str | None
    stage: str | None
    rejected: str | None = None  # why the row is not a won deal; None when it is


def squash(value: str) -> str:
    return re.sub(r"[^0-9a-z]", "", value.lower())


def judge(source: str, mapping: CrmMapping, columns: Columns, row: dict[str, str | None]) -> Verdict:
    """The row's pipeline and stage, and why it is not won (None: it is)."""
    stage = _cell(row, columns.stage)
    pipeline = _cell(row, columns.pipeline)
    if columns.stage is None and columns.won is None:
        return Verdict(pipeline, stage)  # a file of signed deals only (the generic columns, a mapping)
    if source == "pipedrive":
        if stage is None:
            return Verdict(pipeline, stage, f"empty {columns.stage}")
        ok = stage.lower() == "won"
        return Verdict(pipeline, "won" if ok else stage, None if ok else f"{columns.stage} is {stage!r}, not won")
    won = _cell(row, columns.won)
    if won is not None:
        return Verdict(pipeline, stage, _checkbox(columns.won or "", won, stage))
    if stage is None:
        return Verdict(pipeline, stage, f"empty {columns.stage}")
    if source in {"hubspot", "salesforce"}:
        return Verdict(pipeline, stage, _against_mapping(source, mapping, columns, pipeline, stage))
    ok = _matches(stage, columns.won_values)
    return Verdict(pipeline, stage, None if ok else f"{columns.stage} {stage!r} is not one of the mapping's won_stages")


def _cell(row: dict[str, str | None], column: str | None) -> str | None:
    value = (row.get(column) or "").strip() if column else ""
    return value or None


def _checkbox(column: str, value: str, stage: str | None) -> str | None:
    if value.lower() in TRUE:
        return None
    if value.lower() in FALSE:
        return f"{column} is {value!r}" + (f" (stage {stage!r})" if stage else "") + ", not won"
    return f"{column} is {value!r}: expected 1 or 0, true or false"


def _against_mapping(source: str, mapping: CrmMapping, columns: Columns, pipeline: str | None,
                     stage: str) -> str | None:
    where = f"templates/crm/{source}.yaml"
    if pipeline is None and source == "hubspot" and ANY_PIPELINE not in mapping.won_stages:
        if any(stage in stages for stages in mapping.won_stages.values()):
            return None  # a stage id: HubSpot's ids are unique across pipelines, unlike its labels
        return (f"{columns.stage} {stage!r} is not a won stage id in {where}, and without "
                f"{columns.pipeline or 'a Pipeline column'} its label cannot be placed (labels repeat across "
                "pipelines)")
    keys = _pipeline_keys(mapping, pipeline)
    if not keys:
        return f"pipeline {pipeline!r} has no won stages in {where}"
    won = frozenset().union(*(mapping.won_stages[key] for key in keys))
    if _matches(stage, won):
        return None
    of = f" of pipeline {pipeline!r}" if pipeline and source == "hubspot" else ""
    return f"{columns.stage} {stage!r} is not a won stage{of} in {where}"


def _pipeline_keys(mapping: CrmMapping, pipeline: str | None) -> list[str]:
    """The mapping's pipelines that the export's pipeline value (an id or a label) names, and `*`."""
    wanted = {squash(pipeline)} if pipeline else set()
    if wanted & set(HUBSPOT_DEFAULT_PIPELINE):
        wanted |= set(HUBSPOT_DEFAULT_PIPELINE)
    return [key for key in mapping.won_stages
            if key in (ANY_PIPELINE, pipeline) or squash(key) in wanted]


def _matches(value: str, candidates: Iterable[str]) -> bool:
    candidates = list(candidates)
    return value in candidates or squash(value) in {squash(c) for c in candidates}
