"""The in-process runner of `journey serve`: claims due inbox events and runs their flows.

A delivery is committed to the inbox before its 202; the route then wakes this thread. Work is leased
(`locked_until`) so a crash never loses it: at start the embedded server releases every lease (it is the
only process), and a lease that outlives its holder expires. Each flow step is idempotent, so an event
re-run after a crash completes without doubling anything.
"""
from __future__ import annotations

import threading
import time
import traceback
from datetime import timedelta

import structlog

from journey import db, metrics, steps
from journey.adapters import orchestrator
from journey.config import Settings
from journey.errors import ServiceUnavailable
from journey.inbox import repository as inbox_repository
from journey.kit import utcnow
from journey.models import EventStatus

log = structlog.get_logger("journey.runner")
LEASE = timedelta(minutes=5)


def claim_batch(limit: int) -> list[tuple[int, str]]:
    with db.transaction() as session:
        return inbox_repository.claim_due(session, now=utcnow(), lease=LEASE, limit=limit)


def release_all_leases() -> int:
    with db.transaction() as session:
        return inbox_repository.release_leases(session)


def process_event(event_id: int, event_type: str, *, settings: Settings) -> str:
    """Run one claimed event to its outcome: processed, ignored, retry later, or dead."""
    started = time.monotonic()
    try:
        handled = orchestrator.run_flow(event_type, event_id, mode=settings.orchestrator)
        if not handled:
            steps.finish_event(event_id, EventStatus.ignored.value, f"no flow handles '{event_type}'")
            outcome = "ignored"
        else:
            outcome = "processed"
    except ServiceUnavailable:
        raise
    except Exception as exc:  # noqa: BLE001 - any failure of a flow is recorded on its event
        error = f"{type(exc).__name__}: {exc}"
        log.warning("event.failed", event_id=event_id, type=event_type, error=error,
                    trace=traceback.format_exc(limit=3))
        dead = steps.fail_event(event_id, error, settings.event_max_attempts)
        outcome = "dead" if dead else "retry"
    metrics.outcome(event_type, outcome, time.monotonic() - started)
    return outcome


class EmbeddedRunner(threading.Thread):
    """One daemon thread: wake on notify() or every poll interval, drain due events in order."""

    def __init__(self, settings: Settings) -> None:
        super().__init__(name="journey-runner", daemon=True)
        self.settings = settings
        self._wake = threading.Event()
        self._stop = threading.Event()

    def notify(self, event_id: int | None = None) -> None:
        self._wake.set()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()

    def run(self) -> None:
        if self.settings.orchestrator == "prefect":
            orchestrator.prepare_prefect_environment(self.settings)
        while not self._stop.is_set():
            try:
                drained = self._drain_once()
            except ServiceUnavailable:
                drained = 0
                self._stop.wait(5)
            except Exception:  # noqa: BLE001 - the runner must outlive any single failure
                log.exception("runner.error")
                drained = 0
            if not drained:
                self._wake.wait(self.settings.runner_poll_seconds)
                self._wake.clear()

    def _drain_once(self) -> int:
        batch = claim_batch(self.settings.runner_batch_size)
        for event_id, event_type in batch:
            if self._stop.is_set():
                break
            outcome = process_event(event_id, event_type, settings=self.settings)
            log.info("event.done", event_id=event_id, type=event_type, outcome=outcome)
        return len(batch)


class NullDispatcher:
    """Stands in for the runner where flows run elsewhere (JOURNEY_RUNNER=0)."""

    def notify(self, event_id: int | None = None) -> None:
        return None
