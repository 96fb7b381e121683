"""One flow run per batch of claimed inbox events, embedded or on a `journey worker` (docs/engine-facts.md: a flow
run costs ~50-300 ms of engine time here, a task run as much, so a run per event would dominate a burst).

Each event still goes through its own flow function (deal-signed, deal-updated, ...), called as plain Python,
and reaches its own outcome; one event failing never fails its neighbours. What Prefect's UI shows per deal,
cheaply: the run's name lists the batch's deals, its tags carry the sources and event types (set when it is
submitted), every event's outcome is a log line linking to its account page, and a batch in which an event
failed ends Failed with a message naming those events (the others are done: nothing retries them).
"""
from __future__ import annotations

import logging

from prefect import flow, get_run_logger
from prefect.runtime import flow_run
from prefect.states import Completed, Failed, State

from flows.events import leases_held, process_event_here
from flows.steps import describe_batch
from journey.config import get_settings
from journey.inbox import report


def _batch_name() -> str:
    return describe_batch([(int(e[0]), str(e[1])) for e in flow_run.parameters.get("events") or []])


@flow(name="process-inbox", flow_run_name=_batch_name, validate_parameters=False)
def process_inbox(events: list[tuple[int, str]]) -> State:
    """The final state carries the outcomes ({event id: outcome}) as its data, Completed or Failed."""
    logger, base_url = get_run_logger(), get_settings().public_base_url
    outcomes = {}
    with leases_held([e[0] for e in events]) as unfinished:  # still working on these: don't re-submit them
        for event_id, event_type in events:
            outcome = outcomes[event_id] = process_event_here(event_id, event_type)
            unfinished.remove(event_id)
            level = logging.WARNING if outcome in report.FAILED else logging.INFO
            if outcome != "skipped" and logger.isEnabledFor(level):  # embedded, Prefect logs warnings only
                logger.log(level, report.outcome_line(event_id, outcome, base_url=base_url))
    failed = report.failure_message(outcomes)
    if failed:
        return Failed(message=failed, data=outcomes)
    return Completed(message=f"{len(outcomes)} events", data=outcomes)
