"""`journey import deals FILE.csv`: backfill signed deals through the inbox, like a webhook delivery.

Each row becomes a `deal.signed` inbox event keyed `import:<deal id>` under the CRM the file came from,
so running the import twice (or importing a deal a webhook already brought) changes nothing. The
events are then processed here, by the same flow as webhooks, so the journeys exist when it returns.
"""
from __future__ import annotations

import csv
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from journey import db
from journey.deals import repository as deals_repository
from journey.deals.events import DealSigned
from journey.imports.columns import Layout, detect, row_to_signed
from journey.inbox import service as inbox_service
from journey.kit import utcnow

MAX_FIELD = 100_000


@dataclass
class Summary:
    created: int = 0
    known: int = 0
    rejected: int = 0
    failed: int = 0
    source: str = "import"
    rejected_rows: list[tuple[int, dict[str, Any], str]] = field(default_factory=list)


def count_rows(path: Path) -> int:
    with open(path, encoding="utf-8-sig", newline="") as handle:
        return max(sum(1 for _ in csv.reader(handle)) - 1, 0)


def _rows(path: Path) -> Iterator[tuple[list[str], int, dict[str, Any]]]:
    csv.field_size_limit(MAX_FIELD)
    with open(path, encoding="utf-8-sig", newline="") as handle:
        reader = csv.DictReader(handle)
        headers = [h or "" for h in (reader.fieldnames or [])]
        for number, row in enumerate(reader, start=2):
            yield headers, number, row


def import_deals(path: Path, *, layout: Layout | None = None,
                 progress: Callable[[], None] = lambda: None) -> Summary:
    """Store every signed row once, then run each new event's flow; what happened to each row."""
    summary = Summary()
    new_events: list[int] = []
    for headers, number, row in _rows(path):
        layout = layout or detect(headers)
        summary.source = layout.source
        outcome = _store_row(layout, row)
        if isinstance(outcome, str):
            summary.rejected += 1
            summary.rejected_rows.append((number, row, outcome))
        elif outcome is None:
            summary.known += 1
        else:
            new_events.append(outcome)
        progress()
    summary.created, summary.failed = _process(new_events)
    return summary


def _store_row(layout: Layout, row: dict[str, Any]) -> int | str | None:
    """The new inbox event's id, None when the deal is already known, or why the row is rejected."""
    if None in row:
        return "more cells than headers"
    data = row_to_signed(layout, row)
    if isinstance(data, str):
        return data
    try:
        signed = DealSigned.model_validate(data)
    except ValidationError as exc:
        return "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()[:3])
    envelope = {"type": "deal.signed", "timestamp": utcnow().isoformat(), "data": signed.model_dump(mode="json")}
    with db.transaction() as session:
        if deals_repository.deal_by_crm(session, source=layout.source, external_id=signed.deal.id) is not None:
            return None
        accepted = inbox_service.accept_delivery(
            session, source=layout.source, external_id=f"import:{signed.deal.id}", type="deal.signed",
            payload=json.dumps(envelope, ensure_ascii=False), subject=signed.deal.id,
            occurred_at=signed.deal.signed_at, now=utcnow())
    return None if accepted.duplicate else accepted.event_id


def _process(event_ids: list[int]) -> tuple[int, int]:
    """Run the deal.signed flow of each new event here (no Prefect engine); (journeys opened, failures)."""
    from journey.config import get_settings
    from journey.runner import process_event

    settings = get_settings()
    outcomes = [process_event(i, "deal.signed", settings=settings, mode="inline") for i in event_ids]
    return outcomes.count("processed"), len(outcomes) - outcomes.count("processed")


def write_rejected(path: Path, summary: Summary, headers: list[str]) -> Path:
    out = path.with_name(path.stem + ".rejected.csv")
    with open(out, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["line", "reason", *headers])
        for number, row, reason in summary.rejected_rows:
            writer.writerow([number, reason, *(row.get(h, "") for h in headers)])
    return out


def headers_of(path: Path) -> list[str]:
    with open(path, encoding="utf-8-sig", newline="") as handle:
        return next(csv.reader(handle), [])
