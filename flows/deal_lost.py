"""A deal was lost: pause its journey and cancel its future reviews; nothing done is undone."""
from __future__ import annotations

from prefect import flow

from flows._kit import run_name, step
from journey import steps
from journey.models import EventStatus

pause_journey = step("pause-journey")(steps.pause_journey)


@flow(name="deal-lost", flow_run_name=run_name)
def deal_lost(event_id: int) -> None:
    journey_id = pause_journey(event_id)
    if journey_id is None:
        steps.finish_event(event_id, EventStatus.ignored.value, "no journey for this deal")
    else:
        steps.finish_event(event_id)
