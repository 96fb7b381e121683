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
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

import structlog

from journey import db, metrics, steps
from journey.adapters import orchestrator
from journey.config import Settings, get_settings
from journey.deals.service import DealNotKnownYet
from journey.errors import ServiceUnavailable, UpstreamUnavailable
from journey.inbox import repository as inbox_repository
from journey.inbox.domain import submission_key
from journey.kit import utcnow
from journey.models import EventStatus

log = structlog.get_logger("journey.runner")
LEASE = timedelta(minutes=5)


_sources: dict[int, str] = {}  # the source of each event this process claimed, for its metric's label


def claim_batch(limit: int) -> list[tuple[int, str]]:
    with db.transaction() as session:
        claimed = inbox_repository.claim_due_with_source(session, now=utcnow(), lease=LEASE, limit=limit)
    if len(_sources) > 10_000:
        _sources.clear()
    _sources.update((i, source) for i, _, source in claimed)
    return [(i, t) for i, t, _ in claimed]


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
    source = _sources.pop(event_id, None) or steps.event_source(event_id)  # read only if claimed elsewhere
    metrics.outcome(source, event_type, outcome, time.monotonic() - started)
    return outcome


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
            orchestrator.run_batch([])
        except Exception as exc:  # noqa: BLE001 - events keep running inline
            log.warning("runner.engine_unavailable", error=f"{type(exc).__name__}: {exc}")
            self.engine_failed = True
            return
        self.engine_ready.set()
        log.info("runner.engine_ready", seconds=round(time.monotonic() - started, 1))


def server_lease() -> timedelta:
    return timedelta(seconds=get_settings().server_lease_seconds)


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
                submitted = self.submit_once()
            except Exception as exc:  # noqa: BLE001 - the server or the database is away: try again soon
                log.warning("submitter.error", error=f"{type(exc).__name__}: {exc}")
                submitted = 0
                self._stopping.wait(5)
            if not submitted:
                self._sleep(self.settings.runner_poll_seconds * 4)

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
        run_id = orchestrator.submit_batch(batch, idempotency_key=key, name=steps.describe_batch(batch))
    except Exception:
        release(batch)
        raise
    log.info("submitter.submitted", events=len(batch), flow_run=run_id, key=key)
    return len(batch)



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


def release(batch: list[tuple[int, str]]) -> None:
    """Give claimed events back (their submission failed): another try can claim them at once."""
    with db.transaction() as session:
        inbox_repository.release(session, [event_id for event_id, _ in batch])


class NullDispatcher:
    """Stands in for the runner where flows run elsewhere (JOURNEY_RUNNER=0)."""

    engine_state = "off"

    def notify(self, event_id: int | None = None) -> None:
        return None
