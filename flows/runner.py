"""The runner: claims due inbox events (leased), batches them and runs their flows (`journey serve`'s thread,
or, in server mode, the submitter of batches to the Prefect server).

A delivery is committed to the inbox before its 202; the route then wakes this thread. Work is leased
(`locked_until`) so a crash never loses it: at start the embedded server releases every lease (it is the
only process), and a lease that outlives its holder expires. Each flow step is idempotent, so an event
re-run after a crash completes without doubling anything.
"""
from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import timedelta

import structlog

from flows.events import process_event, process_inline, remember_sources, server_lease, still_pending
from flows.inbox_batch import process_inbox
from flows.steps import describe_batch
from journey import db
from journey.adapters import orchestrator
from journey.config import Settings
from journey.errors import ServiceUnavailable
from journey.inbox import report
from journey.inbox import repository as inbox_repository
from journey.inbox.domain import submission_key
from journey.kit import utcnow

log = structlog.get_logger("journey.runner")
LEASE = timedelta(minutes=5)


def claim_batch(limit: int) -> list[tuple[int, str]]:
    with db.transaction() as session:
        claimed = inbox_repository.claim_due_with_source(session, now=utcnow(), lease=LEASE, limit=limit)
    remember_sources(claimed)
    return [(i, t) for i, t, _ in claimed]


def drain_inline(limit: int = 50, on_done: Callable[[int, str, str], object] | None = None
                 ) -> list[tuple[int, str, str]]:
    """Process every due inbox event here, batch after batch, without Prefect's engine: (id, type, outcome),
    each also handed to `on_done` as it is done (a progress bar)."""
    done = []
    while batch := claim_batch(limit):
        for event_id, event_type in batch:
            done.append((event_id, event_type, process_inline(event_id, event_type)))
            if on_done is not None:
                on_done(*done[-1])
    return done


def process_batch(batch: list[tuple[int, str]], *, settings: Settings) -> dict[int, str]:
    """Run claimed events to their outcomes; under Prefect, as one coarse flow run for the batch.

    Should the engine itself fail (its temporary server did not start, say), the events it did not
    reach are run inline: the work is ours and must not wait on the engine's health.
    """
    if settings.orchestrator == "prefect" and batch:
        try:
            return orchestrator.run_batch(process_inbox, batch)
        except Exception as exc:  # noqa: BLE001 - the engine's failure, not an event's
            log.warning("runner.engine_failed", error=f"{type(exc).__name__}: {exc}", events=len(batch))
            batch = still_pending(batch)
    return {event_id: process_event(event_id, event_type, settings=settings, mode="inline")
            for event_id, event_type in batch}


class _Dispatcher(threading.Thread):
    """A daemon thread that a committed delivery wakes (`notify`) and `stop` ends."""

    def __init__(self, settings: Settings, name: str) -> None:
        super().__init__(name=name, daemon=True)
        self.settings = settings
        self._wake = threading.Event()
        self._stopping = threading.Event()  # not `_stop`: that is a method Thread.join calls

    def notify(self, event_id: int | None = None) -> None:
        self._wake.set()

    def stop(self) -> None:
        self._stopping.set()
        self._wake.set()

    def _sleep(self, seconds: float) -> None:
        self._wake.wait(seconds)
        self._wake.clear()


INTAKE_QUIET = 0.05  # seconds without a delivery before the runner takes the cores back
INTAKE_MAX_DEFER = 1.0  # ...but it never waits longer than this: a long burst still makes progress
BURST_BATCH = 5  # events per batch while deliveries keep arriving
STOP_GRACE_SECONDS = 3.0  # at stop, how long the batch in hand may take before the engine is stopped under it


class EmbeddedRunner(_Dispatcher):
    """Wake on notify() or every poll interval, drain due events in batches.

    Intake comes first: the same process answers the webhooks, and on a small machine every flow step
    takes CPU and SQLite's write lock from them. While deliveries keep arriving, the runner waits for a
    pause (at most INTAKE_MAX_DEFER) and takes small batches, then catches up at full batch size.

    Prefect's temporary server takes 5-30 s (more on a loaded machine) and about 230 MB to start, so it
    boots in a thread of its own when the first batch is claimed (an idle server never pays for it); until
    it answers, batches run inline, so the first journeys never wait on the engine.
    """

    def __init__(self, settings: Settings) -> None:
        super().__init__(settings, "journey-runner")
        self.engine_ready = threading.Event()
        self.engine_failed = False
        self._warming: threading.Thread | None = None
        self._interrupted: list[tuple[int, str]] = []  # a batch the database went away under
        self._last_intake = 0.0

    def notify(self, event_id: int | None = None) -> None:
        self._last_intake = time.monotonic()
        super().notify(event_id)

    @property
    def engine_state(self) -> str:
        """For /readyz: `inline` (no Prefect engine), `standby` (its temporary server starts with the first
        event), `starting` (it boots; events run inline meanwhile), `ready`, or `unavailable` (it failed to
        start; events run inline)."""
        if self.settings.orchestrator != "prefect":
            return "inline"
        if self.engine_ready.is_set():
            return "ready"
        if self._warming is None:
            return "standby"
        return "unavailable" if self.engine_failed else "starting"

    def _batch_size_after_intake_pause(self) -> int:
        """Wait (bounded) for a pause in deliveries; the batch size to take now."""
        deadline = time.monotonic() + INTAKE_MAX_DEFER
        while not self._stopping.is_set():
            now, quiet_at = time.monotonic(), self._last_intake + INTAKE_QUIET
            if now >= quiet_at or now >= deadline:
                break
            self._stopping.wait(min(quiet_at, deadline) - now)
        busy = time.monotonic() - self._last_intake < INTAKE_MAX_DEFER
        return min(BURST_BATCH, self.settings.runner_batch_size) if busy else self.settings.runner_batch_size

    def run(self) -> None:
        if self.settings.orchestrator == "prefect":
            orchestrator.prepare_prefect_environment(self.settings)
        while not self._stopping.is_set():
            try:
                drained = self._drain_once()
            except ServiceUnavailable:
                drained = 0
                self._stopping.wait(5)
            except Exception:  # noqa: BLE001 - the runner must outlive any single failure
                log.exception("runner.error")
                drained = 0
            if not drained:
                self._sleep(self.settings.runner_poll_seconds)

    def _drain_once(self) -> int:
        if self._interrupted:  # the database is back: give the batch's unfinished events back at once
            release(self._interrupted)
            self._interrupted = []
        batch = claim_batch(self._batch_size_after_intake_pause())
        if batch:
            settings = self.settings
            if settings.orchestrator == "prefect" and not self.engine_ready.is_set():
                if self._warming is None:
                    self._warming = threading.Thread(target=self._warm_up, name="journey-engine-warm-up",
                                                     daemon=True)
                    self._warming.start()
                settings = settings.model_copy(update={"orchestrator": "inline"})
            try:
                outcomes = process_batch(batch, settings=settings)
            except ServiceUnavailable:
                self._interrupted = batch
                raise
            log.info("inbox.batch", events=len(batch), engine=settings.orchestrator,
                     outcomes=sorted(set(outcomes.values())))
        return len(batch)

    def stop(self) -> None:
        """End the loop, give the batch in hand a moment to finish, then stop Prefect's temporary server."""
        super().stop()
        if self.is_alive() and threading.current_thread() is not self:
            self.join(STOP_GRACE_SECONDS)
        if self.settings.orchestrator == "prefect":
            orchestrator.stop_temporary_server()

    def _warm_up(self) -> None:
        """Boot Prefect's temporary server with an empty batch; the runner uses it once it answers."""
        started = time.monotonic()
        try:
            orchestrator.run_batch(process_inbox, [])
        except Exception as exc:  # noqa: BLE001 - events keep running inline
            log.warning("runner.engine_unavailable", error=f"{type(exc).__name__}: {exc}")
            self.engine_failed = True
            return
        self.engine_ready.set()
        log.info("runner.engine_ready", seconds=round(time.monotonic() - started, 1))


RUNS_WAITING_MAX = 2  # server mode: submit no batch while this many runs wait for a worker


class PrefectSubmitter(_Dispatcher):
    """Server mode: claim due inbox events and submit them to the Prefect server as deployment runs.

    Runs in every API process; claims are single SQL statements (`FOR UPDATE SKIP LOCKED`), so two
    processes never claim the same event under a live lease. A claim's lease (JOURNEY_SERVER_LEASE_SECONDS)
    is renewed while its run waits for a worker (the Prefect server says it is Scheduled) and while the run
    is working (`leases_held`); only a run that died, failed or vanished lets its lease expire, and its
    events are claimed again (attempts + 1) and re-submitted under a new key. Events it did finish are
    skipped by the new run.
    """

    engine_state = "server"  # flows run on the Prefect server's workers

    def __init__(self, settings: Settings) -> None:
        super().__init__(settings, "journey-submitter")
        self._renewed_at = 0.0

    def run(self) -> None:
        while not self._stopping.is_set():
            try:
                self.renew_queued_leases()
            except Exception as exc:  # noqa: BLE001 - the server is away: submitting may still work
                log.warning("submitter.renewal_failed", error=f"{type(exc).__name__}: {exc}")
            try:
                if self.workers_busy():
                    self._stopping.wait(self.settings.runner_poll_seconds)
                    continue
                submitted = self.submit_once()
            except Exception as exc:  # noqa: BLE001 - the server or the database is away: try again soon
                log.warning("submitter.error", error=f"{type(exc).__name__}: {exc}")
                submitted = 0
                self._stopping.wait(5)
            if not submitted:
                self._sleep(self.settings.runner_poll_seconds * 4)

    def workers_busy(self) -> bool:
        """Runs wait for a worker already: leave the due events in the inbox, where the next claim takes them
        as one bigger batch (a flow run costs about as much for 1 event as for 50: bench/RESULTS.md)."""
        return orchestrator.runs_waiting() >= RUNS_WAITING_MAX

    def submit_once(self) -> int:
        return submit_due(self.settings)

    def renew_queued_leases(self, *, force: bool = False) -> int:
        """Every third of a lease, renew the leases of the events whose run still waits for a worker."""
        lease = server_lease()
        if not force and time.monotonic() - self._renewed_at < lease.total_seconds() / 3:
            return 0
        self._renewed_at = time.monotonic()
        event_ids = [i for ids in orchestrator.queued_batches(pending_for_less_than=lease) for i in ids]
        if event_ids:
            with db.transaction() as session:
                inbox_repository.extend_leases(session, event_ids, until=utcnow() + lease)
        return len(event_ids)


def submit_due(settings: Settings) -> int:
    """Server mode: claim one batch of due inbox events (new, retries whose backoff ended, expired
    leases) and submit it as one deployment run; how many. Any number of callers (each API process's
    submitter, the scheduler's job) can run this at once: the claim leases rows in one statement, and
    the same claim submitted twice is one run (its key comes from the events and their attempts)."""
    with db.transaction() as session:
        batch = inbox_repository.claim_due(session, now=utcnow(), lease=server_lease(),
                                           limit=settings.runner_batch_size)
        marks = inbox_repository.claim_marks(session, [i for i, _ in batch]) if batch else []
    if not batch:
        return 0
    key = submission_key(marks)
    try:
        run_id = orchestrator.submit_batch(batch, idempotency_key=key, name=describe_batch(batch),
                                           tags=report.batch_tags(batch))
    except Exception:
        release(batch)
        raise
    log.info("submitter.submitted", events=len(batch), flow_run=run_id, key=key)
    return len(batch)



def release(batch: list[tuple[int, str]]) -> None:
    """Give claimed events back (their submission failed): another try can claim them at once."""
    with db.transaction() as session:
        inbox_repository.release(session, [event_id for event_id, _ in batch])
