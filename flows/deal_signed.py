"""A deal was signed: open its journey, plan the onboarding, hand the packet over, book the reviews."""
from __future__ import annotations

from prefect import flow, task

from journey import steps


@task(name="open-journey", retries=2, retry_delay_seconds=1)
def open_journey(event_id: int) -> int:
    return steps.open_journey(event_id)


@task(name="build-onboarding-plan", retries=2, retry_delay_seconds=1)
def build_onboarding_plan(journey_id: int) -> bool:
    return steps.build_onboarding_plan(journey_id)


@task(name="open-handoff-packet", retries=2, retry_delay_seconds=1)
def open_handoff_packet(journey_id: int, event_id: int) -> bool:
    return steps.open_handoff_packet(journey_id, event_id)


@task(name="schedule-reviews", retries=2, retry_delay_seconds=1)
def schedule_reviews(journey_id: int) -> bool:
    return steps.schedule_reviews(journey_id)


def _run_name() -> str:
    from prefect.runtime import flow_run

    return steps.describe_event(int(flow_run.parameters["event_id"]))


@flow(name="deal-signed", flow_run_name=_run_name, log_prints=False)
def deal_signed(event_id: int) -> int:
    journey_id = open_journey(event_id)
    build_onboarding_plan(journey_id)
    open_handoff_packet(journey_id, event_id)
    schedule_reviews(journey_id)
    steps.finish_event(event_id)
    return journey_id
