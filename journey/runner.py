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
from journey.config import Settings, get_settings
from journey.deals.service import DealNotKnownYet
from journey.errors import ServiceUnavailable, UpstreamUnavailable
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


def process_event_here(event_id: int, event_type: str) -> str:
    """Run one claimed event inside a batch flow run: as a subflow with its steps as tasks under a
    Prefect server, as plain calls on the embedded temporary server. An event another run already
    finished (a re-submitted batch) is left alone."""
    if not still_pending([(event_id, event_type)]):
        return "skipped"
    mode = "prefect" if orchestrator.server_mode() else "inline"
    return process_event(event_id, event_type, settings=get_settings(), mode=mode)


def process_batch(batch: list[tuple[int, str]], *, settings: Settings) -> dict[int, str]:
    """Run claimed events to their outcomes; under Prefect, as one coarse flow run for the batch.

    Should the engine itself fail (its temporary server did not start, say), the events it did not
    reach are run inline: the work is ours and must not wait on the engine's health.
    """
    if settings.orchestrator == "prefect" and batch:
        try:
            return orchestrator.run_batch(batch)
        except Exception as exc:  # noqa: BLE001 - the engine's failure, not an event's
            log.warning("runner.engine_failed", error=f"{type(exc).__name__}: {exc}", events=len(batch))
            batch = still_pending(batch)
    return {event_id: process_event(event_id, event_type, settings=settings, mode="inline")
            for event_id, event_type in batch}


def still_pending(batch: list[tuple[int, str]]) -> list[tuple[int, str]]:
    with db.transaction(writer=False) as session:
        return [(i, t) for i, t in batch
                if (e := inbox_repository.get(session, i)) is not None and e.status == EventStatus.pending]


def process_event(event_id: int, event_type: str, *, settings: Settings, mode: str | None = None) -> str:
    """Run one claimed event to its outcome: processed, ignored, retry later, or dead."""
    started = time.monotonic()
    try:
        handled = orchestrator.run_flow(event_type, event_id, mode=mode or settings.orchestrator)
        if not handled:
            steps.finish_event(event_id, EventStatus.ignored.value, f"no flow handles '{event_type}'")
            outcome = "ignored"
        else:
            outcome = "processed"
    except ServiceUnavailable:
        raise
    except DealNotKnownYet as exc:
        outcome = steps.defer_event(event_id, event_type, str(exc), settings.wait_for_signed_hours)
    except UpstreamUnavailable as exc:  # a CRM API is down: wait for it (Retry-After), don't burn the attempts
        log.warning("event.upstream_unavailable", event_id=event_id, type=event_type, error=str(exc),
                    retry_after=exc.retry_after)
        dead = steps.fail_event(event_id, f"{type(exc).__name__}: {exc}", settings.upstream_max_attempts,
                                upstream=True, retry_after=exc.retry_after)
        outcome = "dead" if dead else "retry"
    except Exception as exc:  # noqa: BLE001 - any failure of a flow is recorded on its event
        error = f"{type(exc).__name__}: {exc}"
        log.warning("event.failed", event_id=event_id, type=event_type, error=error,
                    trace=traceback.format_exc(limit=3))
        dead = steps.fail_event(event_id, error, settings.event_max_attempts)
        outcome = "dead" if dead else "retry"
    metrics.outcome(steps.event_source(event_id), event_type, outcome, time.monotonic() - started)
    return outcome


class _Dispatcher(threading.Thread):
    """A daemon thread that a committed delivery wakes (`notify`) and `stop` ends."""

    def __init__(self, settings: Settings, name: str) -> None:
        super().__init__(name=name, daemon=True)
        self.settings = settings
        self._wake = threading.Event()
        self._stop = threading.Event()

    def notify(self, event_id: int | None = None) -> None:
        self._wake.set()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()

    def _sleep(self, seconds: float) -> None:
        self._wake.wait(seconds)
        self._wake.clear()


class EmbeddedRunner(_Dispatcher):
    """Wake on notify() or every poll interval, drain due events in batches.

    Prefect's temporary server takes 5-30 s (more on a loaded machine) to start, so it boots in a thread
    of its own; until it answers, batches run inline, so the first journeys never wait on the engine.
    """

    def __init__(self, settings: Settings) -> None:
        super().__init__(settings, "journey-runner")
        self.engine_ready = threading.Event()
        self._interrupted: list[tuple[int, str]] = []  # a batch the database went away under

    def run(self) -> None:
        if self.settings.orchestrator == "prefect":
            orchestrator.prepare_prefect_environment(self.settings)
            threading.Thread(target=self._warm_up, name="journey-engine-warm-up", daemon=True).start()
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
                self._sleep(self.settings.runner_poll_seconds)

    def _drain_once(self) -> int:
        if self._interrupted:  # the database is back: give the batch's unfinished events back at once
            release(self._interrupted)
            self._interrupted = []
        batch = claim_batch(self.settings.runner_batch_size)
        if batch:
            settings = self.settings
            if settings.orchestrator == "prefect" and not self.engine_ready.is_set():
                settings = settings.model_copy(update={"orchestrator": "inline"})
            try:
                outcomes = process_batch(batch, settings=settings)
            except ServiceUnavailable:
                self._interrupted = batch
                raise
            log.info("inbox.batch", events=len(batch), engine=settings.orchestrator,
                     outcomes=sorted(set(outcomes.values())))
        return len(batch)

    def _warm_up(self) -> None:
        """Boot Prefect's temporary server with an empty batch; the runner uses it once it answers."""
        started = time.monotonic()
        try:
            orchestrator.run_batch([])
        except Exception as exc:  # noqa: BLE001 - events keep running inline
            log.warning("runner.engine_unavailable", error=f"{type(exc).__name__}: {exc}")
            return
        self.engine_ready.set()
        log.info("runner.engine_ready", seconds=round(time.monotonic() - started, 1))


SERVER_LEASE = timedelta(minutes=3)


class PrefectSubmitter(_Dispatcher):
    """Server mode: claim due inbox events and submit them to the Prefect server as deployment runs.

    Runs in every API process; claims are single SQL statements (`FOR UPDATE SKIP LOCKED`), so two
    processes never submit the same event in the same lease. A batch whose run never finishes (its
    worker was killed) keeps its lease until it expires, is claimed again (attempts + 1) and re-submitted
    under a new idempotency key; events it did finish are skipped by the new run.
    """

    def __init__(self, settings: Settings) -> None:
        super().__init__(settings, "journey-submitter")

    def run(self) -> None:
        while not self._stop.is_set():
            try:
                submitted = self.submit_once()
            except Exception as exc:  # noqa: BLE001 - the server or the database is away: try again soon
                log.warning("submitter.error", error=f"{type(exc).__name__}: {exc}")
                submitted = 0
                self._stop.wait(5)
            if not submitted:
                self._sleep(self.settings.runner_poll_seconds * 4)

    def submit_once(self) -> int:
        return submit_due(self.settings)


def submit_due(settings: Settings) -> int:
    """Server mode: claim one batch of due inbox events (new, retries whose backoff ended, expired
    leases) and submit it as one deployment run; how many. Any number of callers (each API process's
    submitter, the scheduler's job) can run this at once: the claim leases rows in one statement."""
    now = utcnow()
    with db.transaction() as session:
        batch = inbox_repository.claim_due(session, now=now, lease=SERVER_LEASE, limit=settings.runner_batch_size)
    if not batch:
        return 0
    key = f"inbox:{batch[0][0]}-{batch[-1][0]}:{len(batch)}:{int(now.timestamp() * 1000)}"
    try:
        run_id = orchestrator.submit_batch(batch, idempotency_key=key)
    except Exception:
        release(batch)
        raise
    log.info("submitter.submitted", events=len(batch), flow_run=run_id)
    return len(batch)


def hold_leases(event_ids: list[int]) -> None:
    """Server mode: a live batch renews the lease of the events it has not reached yet, so only a
    dead worker's events are claimed again."""
    if orchestrator.server_mode() and event_ids:
        with db.transaction() as session:
            inbox_repository.extend_leases(session, event_ids, until=utcnow() + SERVER_LEASE)


def release(batch: list[tuple[int, str]]) -> None:
    """Give claimed events back (their submission failed): another try can claim them at once."""
    with db.transaction() as session:
        inbox_repository.release(session, [event_id for event_id, _ in batch])


class NullDispatcher:
    """Stands in for the runner where flows run elsewhere (JOURNEY_RUNNER=0)."""

    def notify(self, event_id: int | None = None) -> None:
        return None
