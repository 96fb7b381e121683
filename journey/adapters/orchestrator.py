"""How an inbox event's flow is run: through Prefect's engine (default) or inline (`.fn`, no engine).

An adapter: it talks to Prefect and never imports `flows/`; the flow to run is handed to it by `flows/`.
"""
from __future__ import annotations

import os
import sys
from collections.abc import Callable
from contextvars import ContextVar
from datetime import UTC, datetime, timedelta
from typing import Any

from journey.config import Settings

INLINE: ContextVar[bool] = ContextVar("journey_inline_steps", default=False)
"""True while flow steps run as plain calls instead of Prefect tasks: always with `flow.fn`, and under the
engine when there is no Prefect server (PREFECT_API_URL unset). On the temporary SQLite server each task
run costs ~150 ms and stalls for seconds on its write lock (bench/RESULTS.md): the flow run is still
recorded, the steps are not. With a real server (`journey worker`) every step is a retried task."""

def prepare_prefect_environment(settings: Settings) -> None:
    """Keep Prefect's own state under our data folder and off the network (before importing it)."""
    home = (settings.data_dir / "prefect").resolve()
    if os.environ.setdefault("PREFECT_HOME", str(home)) == str(home):
        home.mkdir(parents=True, exist_ok=True)  # Prefect makes only the last folder: the data folder may be new
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("DO_NOT_TRACK", "1")
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "60")
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")


def stop_temporary_server() -> None:
    """Stop the temporary Prefect server this process started, if any (SIGTERM, SIGKILL after 5 s).

    Prefect stops it only from an `atexit` hook, which does not run when a signal ends the process: its
    server would outlive ours, re-parented and still listening."""
    if "prefect.server.api.server" not in sys.modules:
        return  # never imported: no temporary server was started (and Prefect is not loaded just to say so)
    from prefect.server.api.server import SubprocessASGIServer

    SubprocessASGIServer().stop()  # one instance per port; the temporary server's is the one without


def run_flow(flow: Any, event_id: int, *, mode: str) -> Any:
    """Run the event's flow to the end: what it returned (raising what it raised)."""
    if mode == "inline":
        token = INLINE.set(True)
        try:
            return flow.fn(event_id)
        finally:
            INLINE.reset(token)
    token = INLINE.set(not os.environ.get("PREFECT_API_URL"))
    try:
        return _engine_call(lambda: flow(event_id, return_state=False))
    finally:
        INLINE.reset(token)


def run_batch(process_inbox: Any, events: list[tuple[int, str]]) -> dict[int, str]:
    """Run a batch of inbox events through one `process-inbox` flow run of Prefect's engine."""
    token = INLINE.set(not os.environ.get("PREFECT_API_URL"))
    try:
        state = _engine_call(lambda: process_inbox(events, return_state=True))
    finally:
        INLINE.reset(token)
    outcomes = state.result(raise_on_failure=False)  # Failed when an event failed: its outcome says so
    if not isinstance(outcomes, dict):  # the flow itself failed, not one of its events
        raise outcomes if isinstance(outcomes, Exception) else RuntimeError(f"process-inbox ended {state!r}")
    return outcomes


def server_mode() -> bool:
    """True when flows are submitted to a Prefect server and run by `journey worker` processes."""
    return bool(os.environ.get("PREFECT_API_URL"))


DEPLOYMENT = "process-inbox/journey"


class NotDeployed(RuntimeError):
    """No `journey worker` has registered the deployment yet."""


def submit_batch(events: list[tuple[int, str]], *, idempotency_key: str, name: str | None = None,
                 tags: list[str] | None = None) -> str:
    """Ask the Prefect server for one `process-inbox` run of these events; its flow run id.

    The server keeps one run per deployment and idempotency key (docs/engine-facts.md: even from 10 concurrent
    callers), so a submission repeated with the same key returns the run that exists instead of a second.
    """
    from prefect.deployments import run_deployment
    from prefect.exceptions import ObjectNotFound

    try:
        run = run_deployment(DEPLOYMENT, parameters={"events": [list(e) for e in events]}, timeout=0,
                             idempotency_key=idempotency_key, as_subflow=False, flow_run_name=name,
                             tags=tags)
    except ObjectNotFound as exc:
        raise NotDeployed(f"deployment {DEPLOYMENT} not found: start `journey worker`") from exc
    return str(run.id)


def queued_batches(*, pending_for_less_than: timedelta) -> list[list[int]]:
    """The event ids of every `process-inbox` run still waiting for a worker: Scheduled (Late included)
    whatever its age, and Pending (a worker is starting it) for less than the given time.

    Running runs are not here: Prefect's open-source server does not notice a SIGKILLed worker (its runs
    stay Running), so a running batch proves it is alive by renewing its own leases (`runner.leases_held`).
    A Pending run whose worker died before the flow started lapses the same way after that time.
    """
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import (
        DeploymentFilter,
        DeploymentFilterName,
        FlowFilter,
        FlowFilterName,
        FlowRunFilter,
        FlowRunFilterState,
        FlowRunFilterStateType,
    )
    from prefect.client.schemas.objects import StateType
    from prefect.client.schemas.sorting import FlowRunSort

    flow_name, _, deployment_name = DEPLOYMENT.partition("/")
    waiting = FlowRunFilter(state=FlowRunFilterState(type=FlowRunFilterStateType(
        any_=[StateType.SCHEDULED, StateType.PENDING])))
    oldest_pending = datetime.now(UTC) - pending_for_less_than
    batches, offset = [], 0
    with get_client(sync_client=True) as client:
        while True:
            runs = client.read_flow_runs(flow_filter=FlowFilter(name=FlowFilterName(any_=[flow_name])),
                                         deployment_filter=DeploymentFilter(name=DeploymentFilterName(
                                             any_=[deployment_name])),
                                         flow_run_filter=waiting, sort=FlowRunSort.ID_DESC, limit=200,
                                         offset=offset)
            batches += [[int(e[0]) for e in run.parameters.get("events") or []] for run in runs
                        if run.state and (run.state.type == StateType.SCHEDULED
                                          or run.state.timestamp >= oldest_pending)]
            if len(runs) < 200:
                return batches
            offset += 200


def runs_waiting() -> int:
    """How many `process-inbox` runs wait for a worker (Scheduled, Late included)."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import (
        DeploymentFilter,
        DeploymentFilterName,
        FlowRunFilter,
        FlowRunFilterState,
        FlowRunFilterStateType,
    )
    from prefect.client.schemas.objects import StateType

    with get_client(sync_client=True) as client:
        return client.count_flow_runs(
            deployment_filter=DeploymentFilter(name=DeploymentFilterName(any_=[DEPLOYMENT.partition("/")[2]])),
            flow_run_filter=FlowRunFilter(state=FlowRunFilterState(type=FlowRunFilterStateType(
                any_=[StateType.SCHEDULED]))))


def _engine_call(call: Callable[[], Any]) -> Any:
    """Call a flow with the flow-run heartbeat off: it costs ~1 s per synchronous run (docs/engine-facts.md)."""
    from prefect.settings import PREFECT_FLOWS_HEARTBEAT_FREQUENCY, temporary_settings

    with temporary_settings({PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None}):
        return call()
