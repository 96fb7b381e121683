"""`journey import deals FILE.csv`: backfill signed deals through the inbox, like a webhook delivery.

Each won row becomes a `deal.signed` inbox event keyed `import:<deal id>` under the CRM the file came from,
so running the import twice (or importing a deal a webhook already brought) changes nothing. For a CRM
export, the won stage is also recorded in the deal's stage record (`crm_deal_stage`) at the row's close
date, in the same transaction, as the webhooks record theirs: a "lost" webhook older than that is ignored.
The events are then processed here, by the same flow as webhooks, so the journeys exist when it returns.
"""
from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from sqlalchemy.orm import Session

from journey import db
from journey.adapters.crm import repository as crm_repository
from journey.adapters.crm.common import Applied, StageChange, decide
from journey.adapters.crm.mapping import VENDORS, mapping_for
from journey.config import get_settings
from journey.deals import repository as deals_repository
from journey.deals.events import DealSigned
from journey.imports.columns import Bound, bind, detect, load_layout, row_to_signed
from journey.imports.csvfile import CsvFile, write_rows
from journey.imports.stages import Verdict
from journey.inbox import service as inbox_service
from journey.kit import utcnow


@dataclass
class Summary:
    created: int = 0
    known: int = 0
    rejected: int = 0
    failed: int = 0
    source: str = "import"
    rejected_rows: list[tuple[int, dict[str, Any], str]] = field(default_factory=list)


def prepare(file: CsvFile, *, mapping_file: Path | None = None, templates_dir: Path | None = None) -> Bound:
    """The file's layout (from its headers, or the `--mapping` file) bound to its headers, with the source's
    `templates/crm` mapping; LayoutError or MappingError (file and line) when either cannot be used."""
    headers = file.headers
    layout = load_layout(mapping_file) if mapping_file else detect(headers)
    crm = None
    if layout.source in VENDORS:
        crm = mapping_for(layout.source, templates_dir or get_settings().templates_dir)
    return bind(layout, headers, crm)


def import_deals(file: CsvFile, *, bound: Bound | None = None,
                 progress: Callable[[], None] = lambda: None, process: Callable[[int, str], str]) -> Summary:
    """Store every signed row once, then run each new event's flow; what happened to each row."""
    bound = bound or prepare(file)
    summary = Summary(source=bound.source)
    new_events: list[int] = []
    for number, row in file.rows():
        outcome = _store_row(bound, row)
        if isinstance(outcome, str):
            summary.rejected += 1
            summary.rejected_rows.append((number, row, outcome))
        elif outcome is None:
            summary.known += 1
        else:
            new_events.append(outcome)
        progress()
    summary.created, summary.failed = _process(new_events, process)
    return summary


class _Stale(Exception):
    """The CRM's webhooks already applied a newer stage change to the deal: the row is rejected, nothing kept."""


def _store_row(bound: Bound, row: dict[str, Any]) -> int | str | None:
    """The new inbox event's id, None when the deal is already known, or why the row is rejected."""
    if None in row:
        return "more cells than headers"
    signed_row = row_to_signed(bound, row)
    if isinstance(signed_row, str):
        return signed_row
    try:
        signed = DealSigned.model_validate(signed_row.data)
    except ValidationError as exc:
        return "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()[:3])
    when = signed.deal.signed_at
    if bound.source in VENDORS and when is None:
        return (f"empty {bound.columns.get('deal.signed_at', 'close date')}: the won time orders the deal "
                "against the CRM's webhooks")
    envelope = {"type": "deal.signed", "timestamp": utcnow().isoformat(), "data": signed.model_dump(mode="json")}
    try:
        with db.transaction() as session:
            if deals_repository.deal_by_crm(session, source=bound.source, external_id=signed.deal.id) is not None:
                return None
            accepted = inbox_service.accept_delivery(
                session, source=bound.source, external_id=f"import:{signed.deal.id}", type="deal.signed",
                payload=json.dumps(envelope, ensure_ascii=False), subject=signed.deal.id, occurred_at=when,
                now=utcnow())
            if accepted.duplicate:
                return None
            if bound.source in VENDORS and when is not None:
                _record_stage(session, source=bound.source, deal_id=signed.deal.id, verdict=signed_row.verdict,
                              occurred_at=when, event_id=accepted.event_id)
    except _Stale as exc:
        return str(exc)
    return accepted.event_id


def _record_stage(session: Session, *, source: str, deal_id: str, verdict: Verdict, occurred_at: datetime,
                  event_id: int) -> None:
    """Record the won stage at the row's close date in the deal's stage record, as a webhook would: a later
    but older "lost" webhook is then ignored. _Stale when a newer change is recorded there already."""
    change = StageChange(deal_id=deal_id, occurred_at=occurred_at, won=True, pipeline=verdict.pipeline,
                         stage=verdict.stage)
    row = crm_repository.lock_stage(session, source=source, external_id=deal_id)
    last = Applied(row.occurred_at, row.won, row.event_id) if row.event_id is not None else None
    decision = decide(change, last=last, event_id=event_id, has_journey=False)
    if decision.action != "sign":
        raise _Stale(f"the {source} webhooks already applied a newer stage to this deal ({row.stage}, "
                     f"{'won' if row.won else 'not won'}): {decision.reason}")
    crm_repository.save_stage(session, source=source, external_id=deal_id, pipeline=verdict.pipeline,
                              stage=verdict.stage, won=True, occurred_at=occurred_at, event_id=event_id)


def _process(event_ids: list[int], process: Callable[[int, str], str]) -> tuple[int, int]:
    """Run the deal.signed flow of each new event with `process`; (journeys opened, failures)."""
    outcomes = [process(i, "deal.signed") for i in event_ids]
    return outcomes.count("processed"), len(outcomes) - outcomes.count("processed")


def write_rejected(file: CsvFile, summary: Summary) -> Path:
    """`<file>.rejected.csv`: line, reason and the row's cells, in the file's own delimiter, formula-safe."""
    out = file.path.with_name(file.path.stem + ".rejected.csv")
    write_rows(out, [["line", "reason", *file.headers],
                     *([number, reason, *(row.get(h, "") for h in file.headers)]
                       for number, row, reason in summary.rejected_rows)], like=file)
    return out
