"""A deal was lost: pause its journey and cancel its future reviews; nothing done is undone."""
from __future__ import annotations

from prefect import flow

from flows import steps
from flows._kit import run_name, step
from flows.steps import Finished
from journey.models import EventStatus

pause_journey = step("pause-journey")(steps.pause_journey)


@flow(name="deal-lost", flow_run_name=run_name)
def deal_lost(event_id: int) -> Finished:
    journey_id = pause_journey(event_id)
    if journey_id is None:
        return Finished(EventStatus.ignored, "no journey for this deal")
    return Finished()
