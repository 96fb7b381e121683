"""`journey import signals FILE.csv`: columns `id,account,metric,value,at`, as in `POST /api/signals`.

Rows are checked one by one (a bad row is reported with its line and skipped), stored in batches of
1,000 (one transaction each, a known id is ignored, so the import can run again), each batch putting its
accounts on the evaluate-on-change list; at the end the import evaluates them itself (rescore, risk
alerts, expansion rules), once per account, 500 accounts per transaction."""
from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from pydantic import ValidationError

from journey import db
from journey.audit import Actor
from journey.evaluation import service as evaluation_service
from journey.health import repository, service
from journey.health.schemas import SignalItem
from journey.health.service import SignalIn
from journey.imports.csvfile import CsvFile
from journey.kit import utcnow
from journey.models import ActorKind

COLUMNS = ("id", "account", "metric", "value", "at")
_NAMES = {",": "',' (comma)", ";": "';' (semicolon)", "\t": "tabs"}
BATCH = 1000
EVALUATE_BATCH = 500


@dataclass
class ImportSummary:
    rows: int = 0
    accepted: int = 0
    duplicates: int = 0
    rejected: list[str] = field(default_factory=list)
    accounts: set[int] = field(default_factory=set)


def _rows(file: CsvFile, summary: ImportSummary) -> Iterator[tuple[int, SignalIn]]:
    missing = [c for c in COLUMNS if c not in [h.strip().lower() for h in file.headers]]
    if missing:
        summary.rejected.append(f"line 1: missing column(s) {', '.join(missing)} (expected {','.join(COLUMNS)}; "
                                f"read with {_NAMES.get(file.delimiter, file.delimiter)!s} between columns)")
        return
    for line, raw in file.rows():
        row = {k.strip().lower(): (v or "").strip() for k, v in raw.items() if isinstance(k, str)}
        summary.rows += 1
        try:
            item = SignalItem.model_validate({c: row.get(c) for c in COLUMNS})
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"])
            summary.rejected.append(f"line {line}: {where + ': ' if where else ''}"
                                    f"{str(first['msg']).removeprefix('Value error, ')}")
            continue
        yield line, SignalIn(item.id, item.account, item.metric, item.value, item.at)


def import_signals(file: CsvFile, *, progress: Callable[[int], None] | None = None) -> ImportSummary:
    summary = ImportSummary()
    actor = Actor(ActorKind.cli, "journey import signals")
    batch: list[tuple[int, SignalIn]] = []

    def flush() -> None:
        with db.transaction() as session:
            found = repository.account_ids_by_ref(session, (i.account for _, i in batch))
            known = [i for _, i in batch if i.account in found]
            summary.rejected += [f"line {n}: unknown account {i.account}" for n, i in batch if i.account not in found]
            result = service.record_signals(session, items=known, source="import", now=utcnow(), actor=actor,
                                            rescore=False) if known else {"accepted": 0, "duplicates": 0}
        summary.accepted += result["accepted"]
        summary.duplicates += result["duplicates"]
        summary.accounts.update(found[i.account] for i in known)
        if progress is not None:
            progress(len(batch))
        batch.clear()

    for line, item in _rows(file, summary):
        batch.append((line, item))
        if len(batch) >= BATCH:
            flush()
    if batch:
        flush()
    touched = sorted(summary.accounts)
    for start in range(0, len(touched), EVALUATE_BATCH):  # the import evaluates its accounts itself, at once
        with db.transaction() as session:
            evaluation_service.evaluate_marked(session, account_ids=touched[start:start + EVALUATE_BATCH],
                                               now=utcnow(), actor=actor)
    return summary
