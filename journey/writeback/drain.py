"""Send the CRM write-back queue (scheduler job every 15 s) and the nightly full sync (`journey crm sync`).

Per CRM: claim due records (one statement, leased), compute their values from the database *now* (so a
burst of changes sends only the latest), keep the properties that differ from the last acknowledged write,
send them in the CRM's batches, record each record's outcome. A record written less than
`JOURNEY_WRITE_BACK_MIN_INTERVAL` seconds ago waits for its turn instead. Claims and outcomes are their own
transactions; nothing is held open during the CRM's calls.
"""
from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import structlog

from journey import db, metrics
from journey.adapters.crm.write_mapping import WriteBack
from journey.adapters.crm.writer import Outcome, RecordUpdate, Writer
from journey.config import get_settings
from journey.writeback import domain, identity, repository
from journey.writeback.repository import Claim
from journey.writeback.service import enabled_crms
from journey.writeback.writers import writers_from_settings

log = structlog.get_logger("journey.writeback")
LEASE = timedelta(minutes=5)
BATCH = 500
MAX_ATTEMPTS = 12  # with backoff capped at an hour: about half a day of a CRM refusing for now


@dataclass(frozen=True)
class Planned:
    claim: Claim
    properties: dict[str, Any]  # every mapped property, current value
    changes: dict[str, Any]  # those that differ from the last acknowledged write


def drain_writeback(now: datetime, *, writers: Mapping[str, Writer] | None = None, batch: int = BATCH,
                    lease: timedelta = LEASE) -> dict[str, int]:
    """Write every due record; counts of written, unchanged, deferred (min interval), retry and dead."""
    crms = enabled_crms()
    own = writers is None
    writers = writers_from_settings(crms) if writers is None else writers
    counts = {"written": 0, "unchanged": 0, "deferred": 0, "retry": 0, "dead": 0}
    clock = _running_from(now)
    try:
        for crm, writer in writers.items():
            if crm in crms:
                identity.learn(crm, writer, now)  # once: who journey is there, to recognise its echo
                _drain_crm(crm, writer, crms[crm], clock=clock, batch=batch, lease=lease, counts=counts)
    finally:
        if own:
            for writer in writers.values():
                writer.close()
    return counts


def _running_from(now: datetime) -> Callable[[], datetime]:
    started = time.monotonic()
    return lambda: now + timedelta(seconds=time.monotonic() - started)


def _drain_crm(crm: str, writer: Writer, write_back: WriteBack, *, clock: Callable[[], datetime], batch: int,
               lease: timedelta, counts: dict[str, int]) -> None:
    settings = get_settings()
    while True:
        now = clock()
        with db.transaction() as session:
            claims = repository.claim_due(session, crm=crm, now=now, limit=batch, lease=lease)
            facts = repository.account_facts(session, sorted({c.account_id for c in claims}), today=now.date(),
                                             base_url=settings.public_base_url) if claims else {}
        if not claims:
            return
        interval = settings.write_back_min_interval
        waiting = [c for c in claims if domain.due_at(now, acked_at=c.acked_at, min_interval=interval) > now]
        planned = [_plan(c, facts, write_back, now) for c in claims if c not in waiting]
        to_send = [p for p in planned if p.changes]
        outcomes = writer.write([RecordUpdate(p.claim.object_type, p.claim.object_id, p.changes)
                                 for p in to_send]) if to_send else {}
        with db.transaction() as session:
            for claim in waiting:
                repository.record(session, claim, due_at=domain.due_at(now, acked_at=claim.acked_at,
                                                                        min_interval=interval),
                                  attempts=claim.attempts - 1)
            for plan in planned:
                result = _settle(session, plan, outcomes.get((plan.claim.object_type, plan.claim.object_id)),
                                 now=clock(), interval=interval)
                counts[result] += 1
        counts["deferred"] += len(waiting)
        if len(claims) < batch:
            return


def _plan(claim: Claim, facts: Mapping[int, domain.AccountFacts], write_back: WriteBack, now: datetime) -> Planned:
    account = facts.get(claim.account_id) or domain.AccountFacts(account_id=claim.account_id)
    values = domain.journey_values(account, claim.deal_id if claim.object_type == "deal" else None, now=now)
    properties = domain.crm_properties(values, write_back.fields_for(claim.object_type))
    return Planned(claim, properties, domain.changed(properties, claim.sent_values))


def _settle(session: Any, plan: Planned, outcome: Outcome | None, *, now: datetime, interval: float) -> str:
    claim = plan.claim
    next_turn = domain.due_at(now, acked_at=now, min_interval=interval)
    if not plan.changes:
        repository.record(session, claim, attempts=0, error=None, pending_if_changed=now)
        metrics.crm_write(claim.crm, "unchanged")
        return "unchanged"
    if outcome is None or outcome.result == "written":
        lag = (now - claim.changed_at).total_seconds() if claim.changed_at else None
        repository.record(session, claim, sent_values={**claim.sent_values, **plan.changes}, acked_at=now,
                          lag_seconds=lag, attempts=0, error=None, pending_if_changed=next_turn)
        metrics.crm_write(claim.crm, "written", lag)
        return "written"
    if outcome.result == "defer":  # held back before the CRM's rate limit: a later drain sends it
        repository.record(session, claim, due_at=now + timedelta(seconds=outcome.retry_after or 60),
                          attempts=claim.attempts - 1, error=outcome.error)
        log.info("writeback.deferred", crm=claim.crm, record=claim.object_id, reason=outcome.error)
        metrics.crm_write(claim.crm, "deferred")
        return "deferred"
    if outcome.result == "retry" and claim.attempts < MAX_ATTEMPTS:
        wait = domain.backoff(claim.attempts, outcome.retry_after)
        repository.record(session, claim, due_at=now + wait, error=outcome.error)
        log.info("writeback.retry", crm=claim.crm, record=claim.object_id, account_id=claim.account_id,
                 deal_id=claim.deal_id, error=outcome.error)
        metrics.crm_write(claim.crm, "retry")
        return "retry"
    error = outcome.error or "refused"
    if outcome.result == "retry":
        error = f"gave up after {claim.attempts} attempts: {error}"
    repository.record(session, claim, status="dead", error=error)
    log.warning("writeback.dead", crm=claim.crm, record=claim.object_id, account_id=claim.account_id,
                deal_id=claim.deal_id, error=error)
    metrics.crm_write(claim.crm, "dead")
    return "dead"


# ------------------------------------------------------------------------------------------------ sync
def sync_all(now: datetime, *, dry_run: bool = False, account_id: int | None = None, batch: int = 500,
             progress: Callable[[int], None] | None = None,
             writers: Mapping[str, Writer] | None = None) -> dict[str, Any]:
    """Every account's current values to every CRM record (the backfill after connecting; nightly, the
    repair of drift: what was last written is forgotten, so every mapped property is written again).

    `dry_run`: nothing is queued or sent; `changes` lists what would be written."""
    crms = enabled_crms()
    after, accounts, marked = 0, 0, 0
    changes: list[dict[str, Any]] = []
    while crms:
        with db.transaction(writer=not dry_run) as session:
            ids = repository.account_ids_after(session, after, batch, crms=sorted(crms), account_id=account_id)
            if not ids:
                break
            refs = [r for r in repository.crm_objects(session, ids, crms) if r.object_type in crms[r.crm].objects]
            if dry_run:
                changes += _would_write(session, refs, crms, now)
            else:
                repository.revive(session, account_ids=ids, now=now)
                repository.mark(session, refs, now=now)
                repository.forget_sent(session, refs)
        after, accounts, marked = ids[-1], accounts + len(ids), marked + len(refs)
        if progress is not None:
            progress(len(ids))
    result: dict[str, Any] = {"accounts": accounts, "records": marked}
    if dry_run:
        result["changes"] = changes
    elif marked:
        result.update(drain_writeback(now, writers=writers))
    return result


def _would_write(session: Any, refs: Sequence[repository.ObjectRef], crms: Mapping[str, WriteBack],
                 now: datetime) -> list[dict[str, Any]]:
    facts = repository.account_facts(session, sorted({r.account_id for r in refs}), today=now.date(),
                                     base_url=get_settings().public_base_url)
    shown = []
    for ref in refs:
        account = facts.get(ref.account_id) or domain.AccountFacts(account_id=ref.account_id)
        values = domain.journey_values(account, ref.deal_id if ref.object_type == "deal" else None, now=now)
        shown.append({"crm": ref.crm, "object_type": ref.object_type, "object_id": ref.object_id,
                      "account_id": ref.account_id, "properties": domain.crm_properties(values,
                                                                             crms[ref.crm].fields_for(ref.object_type))})
    return shown
