"""`step`: a Prefect task that becomes a plain call when the flow runs inline (no engine)."""
from __future__ import annotations

import functools
from collections.abc import Callable
from typing import ParamSpec, TypeVar

from prefect import task
from prefect.runtime import flow_run

from flows.steps import describe_event
from journey.adapters.orchestrator import INLINE

P = ParamSpec("P")
R = TypeVar("R")


def step(name: str, *, retries: int = 2) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Declare a flow step: a retried Prefect task under the engine, the plain function inline."""

    def wrap(fn: Callable[P, R]) -> Callable[P, R]:
        as_task = task(fn, name=name, retries=retries, retry_delay_seconds=1)

        @functools.wraps(fn)
        def call(*args: P.args, **kwargs: P.kwargs) -> R:
            return fn(*args, **kwargs) if INLINE.get() else as_task(*args, **kwargs)

        call.task = as_task  # type: ignore[attr-defined]
        return call

    return wrap


def run_name() -> str:
    """A readable flow-run name for Prefect's UI: the event type and the deal it is about."""
    return describe_event(int(flow_run.parameters["event_id"]))
