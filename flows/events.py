"""One claimed inbox event to its outcome, and the one place where outcomes are recorded.

A flow returns what became of its event (`Finished`: processed, or ignored with a reason); a flow that raises
is retried later, waits for its deal (`DealNotKnownYet`) or for a CRM that is down (`UpstreamUnavailable`), or
becomes a dead letter. Each outcome goes through the inbox service here, and nowhere else.
"""
from __future__ import annotations

import contextvars
import threading
import time
import traceback
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from datetime import timedelta

import structlog

from flows.routing import ALL_IN_DATABASE, flow_for
from flows.steps import Finished, event_context
from journey import db, metrics
from journey.adapters import orchestrator
from journey.config import Settings, get_settings
from journey.deals.service import DealNotKnownYet
from journey.errors import ServiceUnavailable, UpstreamUnavailable
from journey.inbox import repository as inbox_repository
from journey.inbox import service as inbox_service
from journey.kit import utcnow
from journey.models import EventStatus

log = structlog.get_logger("journey.runner")
_sources: dict[int, str] = {}  # the source of each event this process claimed, for its metric's label


def remember_sources(claimed: list[tuple[int, str, str]]) -> None:
    """(id, type, source) of events just claimed: their metrics are labelled without reading them again."""
    if len(_sources) > 10_000:
        _sources.clear()
    _sources.update((i, source) for i, _, source in claimed)


def process_event_here(event_id: int, event_type: str) -> str:
    """Run one claimed event inside a batch flow run, its flow's steps as plain calls (a subflow and task
    runs per event cost more than the event, bench/RESULTS.md). An event another run already finished
    (a re-submitted batch) is left alone."""
    if not still_pending([(event_id, event_type)]):
        return "skipped"
    return process_event(event_id, event_type, settings=get_settings(), mode="inline")


def process_inline(event_id: int, event_type: str) -> str:
    """Run one claimed event here, its steps as plain calls (no Prefect engine): bulk imports, the demo."""
    return process_event(event_id, event_type, settings=get_settings(), mode="inline")


def still_pending(batch: list[tuple[int, str]]) -> list[tuple[int, str]]:
    with db.transaction(writer=False) as session:
        return [(i, t) for i, t in batch
                if (e := inbox_repository.get(session, i)) is not None and e.status == EventStatus.pending]


def process_event(event_id: int, event_type: str, *, settings: Settings, mode: str | None = None) -> str:
    """Run one claimed event to its outcome: processed, ignored, retry later, or dead. Its log lines carry the
    event's context (event, deal and account ids), in a context of their own that ends with the run."""
    return contextvars.copy_context().run(_process_event, event_id, event_type, settings=settings, mode=mode)


def _process_event(event_id: int, event_type: str, *, settings: Settings, mode: str | None) -> str:
    started = time.monotonic()
    flow = flow_for(event_type)
    context: dict[str, object] = {}
    try:
        with _one_run(event_type, mode or settings.orchestrator):
            context = event_context(event_id)
            structlog.contextvars.bind_contextvars(**context)
            if flow is None:
                finish_event(event_id, Finished(EventStatus.ignored, f"no flow handles '{event_type}'"))
                outcome = "ignored"
            else:
                finish_event(event_id, orchestrator.run_flow(flow, event_id, mode=mode or settings.orchestrator))
                outcome = "processed"
    except ServiceUnavailable:
        raise
    except DealNotKnownYet as exc:
        outcome = defer_event(event_id, event_type, str(exc), settings.wait_for_signed_hours)
    except UpstreamUnavailable as exc:  # a CRM API is down: wait for it (Retry-After), don't burn the attempts
        log.warning("event.upstream_unavailable", event_id=event_id, type=event_type, error=str(exc),
                    retry_after=exc.retry_after)
        dead = fail_event(event_id, f"{type(exc).__name__}: {exc}", settings.upstream_max_attempts,
                          upstream=True, retry_after=exc.retry_after)
        outcome = "dead" if dead else "retry"
    except Exception as exc:  # noqa: BLE001 - any failure of a flow is recorded on its event
        error = f"{type(exc).__name__}: {exc}"
        log.warning("event.failed", event_id=event_id, type=event_type, error=error,
                    trace=traceback.format_exc(limit=3))
        dead = fail_event(event_id, error, settings.event_max_attempts)
        outcome = "dead" if dead else "retry"
    source = _sources.pop(event_id, None) or context.get("source", "unknown")  # no read for a label
    metrics.outcome(source, event_type, outcome, time.monotonic() - started)
    log.debug("event.done", outcome=outcome, seconds=round(time.monotonic() - started, 3))
    return outcome


def _one_run(event_type: str, mode: str) -> AbstractContextManager[object]:
    """A run of a flow that only touches the database, inline: its context read, its steps and its outcome in
    one transaction (one commit; all of it or none, and a failure is recorded after the rollback)."""
    return db.one_transaction() if mode == "inline" and event_type in ALL_IN_DATABASE else nullcontext()


def finish_event(event_id: int, finished: Finished | None) -> None:
    finished = finished or Finished()
    with db.transaction() as session:
        inbox_service.finish_event(session, event_id=event_id, status=finished.status, now=utcnow(),
                                   note=finished.note)


def defer_event(event_id: int, event_type: str, reason: str, max_wait_hours: float) -> str:
    """An event that must wait for its deal.signed: retried without counting as a failure."""
    expired = EventStatus.ignored if event_type == "deal.lost" else EventStatus.dead
    with db.transaction() as session:
        return inbox_service.defer_event(session, event_id=event_id, reason=reason, now=utcnow(),
                                         max_wait=timedelta(hours=max_wait_hours), expired=expired)


def fail_event(event_id: int, error: str, max_attempts: int, *, upstream: bool = False,
               retry_after: float | None = None) -> bool:
    """Record a failed attempt (an `upstream` one waits longer); True when the event became a dead letter."""
    with db.transaction() as session:
        return inbox_service.record_failure(session, event_id=event_id, error=error, max_attempts=max_attempts,
                                            now=utcnow(), upstream=upstream, retry_after=retry_after)


def server_lease() -> timedelta:
    return timedelta(seconds=get_settings().server_lease_seconds)


@contextmanager
def leases_held(event_ids: list[int]) -> Iterator[list[int]]:
    """Server mode: while a batch runs, a thread renews the leases of the events it has not finished
    (the list yielded: remove an event once done) every third of a lease, so only a dead worker's events
    are claimed again, however long the batch takes."""
    remaining = list(event_ids)
    if not orchestrator.server_mode():
        yield remaining
        return
    stop = threading.Event()

    def renew() -> None:
        lease = server_lease()
        while True:
            try:
                with db.transaction() as session:
                    inbox_repository.extend_leases(session, list(remaining), until=utcnow() + lease)
            except Exception as exc:  # noqa: BLE001 - the next renewal tries again
                log.warning("runner.lease_renewal_failed", error=f"{type(exc).__name__}: {exc}")
            if stop.wait(lease.total_seconds() / 3):
                return

    keeper = threading.Thread(target=renew, name="journey-lease-keeper", daemon=True)
    keeper.start()
    try:
        yield remaining
    finally:
        stop.set()
        keeper.join()
