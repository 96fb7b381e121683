"""`journey worker`: run the server's `process-inbox` flow runs inside this long-lived process.

Prefect's `serve` (and its process workers) start a new Python interpreter for every flow run, which imports
Prefect and journey again for each batch (2-3x the embedded cost per journey here, bench/RESULTS.md). This
worker keeps what `serve` gives (the deployment registered, runs picked up from the server's queue, a run taken
by one worker only) and runs each flow run in a thread of its own process instead, with
`prefect.flow_engine.run_flow` (what the spawned interpreter would have called): the flow run's states, name,
tags and logs are the same in Prefect's UI.

A run is taken the way Prefect's runner takes one: by proposing Pending, which the server refuses when another
worker was first. A worker SIGKILLed mid-run leaves its run Running on the server, as before: its events'
leases lapse and the API processes claim and submit them again (flows/runner.py).
"""
from __future__ import annotations

import signal
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import structlog
from prefect.client.orchestration import get_client
from prefect.exceptions import Abort
from prefect.flow_engine import run_flow
from prefect.settings import PREFECT_FLOWS_HEARTBEAT_FREQUENCY, temporary_settings
from prefect.states import Pending
from prefect.utilities.engine import propose_state_sync

import flows.routing  # noqa: F401 - what a batch runs, loaded at start: not in the first run's lease window
from flows.deploy import deployments
from flows.inbox_batch import process_inbox

log = structlog.get_logger("journey.worker")
REGISTERED = "Your deployments are being served"  # what `serve` prints; scripts wait for it


class InProcessWorker:
    def __init__(self, *, concurrency: int, poll_seconds: float) -> None:
        self.concurrency, self.poll_seconds = concurrency, poll_seconds
        self._stopping = threading.Event()
        self._slot_freed = threading.Event()
        self._running: dict[UUID, Future[Any]] = {}

    def stop(self, *_: Any) -> None:
        """Take no new run; the runs in hand finish (a second signal ends the process at once)."""
        self._stopping.set()
        self._slot_freed.set()
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.SIG_DFL)

    def serve(self) -> None:
        """Register the deployment, then take and run its scheduled runs until stopped (blocks)."""
        signal.signal(signal.SIGTERM, self.stop)
        signal.signal(signal.SIGINT, self.stop)
        deployment_id = deployments()[0].apply()
        print(f"{REGISTERED}: process-inbox/journey, in this process (concurrency {self.concurrency})", flush=True)
        with ThreadPoolExecutor(self.concurrency, thread_name_prefix="journey-flow-run") as pool, \
                get_client(sync_client=True) as client:
            while not self._stopping.is_set():
                try:
                    self._take_runs(client, pool, deployment_id)
                except Exception as exc:  # noqa: BLE001 - the server is away: ask again at the next poll
                    log.warning("worker.poll_failed", error=f"{type(exc).__name__}: {exc}")
                self._slot_freed.wait(self.poll_seconds)
                self._slot_freed.clear()
        log.info("worker.stopped", finishing=len(self._running))

    def _take_runs(self, client: Any, pool: ThreadPoolExecutor, deployment_id: UUID) -> None:
        free = self.concurrency - len(self._running)
        if free <= 0:
            return
        runs = client.get_scheduled_flow_runs_for_deployments(
            deployment_ids=[deployment_id], scheduled_before=datetime.now(UTC), limit=free)
        for run in runs:
            if self._stopping.is_set():
                return
            if _take(client, run.id):
                future = pool.submit(_execute, run)
                self._running[run.id] = future
                future.add_done_callback(lambda _, run_id=run.id: self._finished(run_id))

    def _finished(self, run_id: UUID) -> None:
        self._running.pop(run_id, None)
        self._slot_freed.set()


def _take(client: Any, flow_run_id: UUID) -> bool:
    """Propose Pending: the server accepts it for one worker only (another one took the run otherwise)."""
    try:
        return propose_state_sync(client, Pending(), flow_run_id=flow_run_id).is_pending()
    except Abort:
        return False


def _execute(run: Any) -> None:
    """Run the flow run to its final state here, as the interpreter `serve` spawns would (heartbeat off)."""
    try:
        with temporary_settings({PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None}):
            state = run_flow(process_inbox, flow_run=run, parameters=run.parameters, return_type="state")
        log.info("worker.run_finished", flow_run=str(run.id), name=run.name, state=state.name,
                 message=state.message)
    except Exception as exc:  # noqa: BLE001 - the engine recorded it on the run; this thread must go on
        log.warning("worker.run_crashed", flow_run=str(run.id), error=f"{type(exc).__name__}: {exc}")
