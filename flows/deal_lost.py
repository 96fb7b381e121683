"""A deal was lost: pause its journey and cancel its future reviews; nothing done is undone."""
from __future__ import annotations

from prefect import flow, task

from journey import steps
from journey.models import EventStatus


@task(name="pause-journey", retries=2, retry_delay_seconds=1)
def pause_journey(event_id: int) -> int | None:
    return steps.pause_journey(event_id)


def _run_name() -> str:
    from prefect.runtime import flow_run

    return steps.describe_event(int(flow_run.parameters["event_id"]))


@flow(name="deal-lost", flow_run_name=_run_name)
def deal_lost(event_id: int) -> None:
    journey_id = pause_journey(event_id)
    if journey_id is None:
        steps.finish_event(event_id, EventStatus.ignored.value, "no journey for this deal")
    else:
        steps.finish_event(event_id)
