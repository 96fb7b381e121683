"""The embedded runner's flow: one flow run per batch of due inbox events (docs/engine-facts.md: a flow run costs
~50-300 ms of engine time here, so a run per event would dominate a burst of signed deals).

Each event still goes through its own flow function (deal-signed, deal-updated, ...) and reaches its own
outcome; one event failing never fails its neighbours.
"""
from __future__ import annotations

from prefect import flow
from prefect.runtime import flow_run

from flows.events import leases_held, process_event_here
from flows.steps import describe_batch


def _batch_name() -> str:
    return describe_batch([(int(e[0]), str(e[1])) for e in flow_run.parameters.get("events") or []])


@flow(name="process-inbox", flow_run_name=_batch_name, validate_parameters=False)
def process_inbox(events: list[tuple[int, str]]) -> dict[int, str]:
    outcomes = {}
    with leases_held([e[0] for e in events]) as unfinished:  # still working on these: don't re-submit them
        for event_id, event_type in events:
            outcomes[event_id] = process_event_here(event_id, event_type)
            unfinished.remove(event_id)
    return outcomes
