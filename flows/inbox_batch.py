"""The embedded runner's flow: one flow run per batch of due inbox events (FACTS.md: a flow run costs
~50-300 ms of engine time here, so a run per event would dominate a burst of signed deals).

Each event still goes through its own flow function (deal-signed, deal-updated, ...) and reaches its own
outcome; one event failing never fails its neighbours.
"""
from __future__ import annotations

from prefect import flow


def _batch_name() -> str:
    from prefect.runtime import flow_run

    events = flow_run.parameters.get("events") or []
    return f"inbox batch of {len(events)}: " + ", ".join(f"#{e[0]} {e[1]}" for e in events[:3]) + (
        " ..." if len(events) > 3 else "")


@flow(name="process-inbox", flow_run_name=_batch_name, validate_parameters=False)
def process_inbox(events: list[tuple[int, str]]) -> dict[int, str]:
    from journey.runner import hold_leases, process_event_here

    outcomes = {}
    for n, (event_id, event_type) in enumerate(events):
        hold_leases([e[0] for e in events[n:]])  # still working on these: don't re-submit them
        outcomes[event_id] = process_event_here(event_id, event_type)
    return outcomes
