"""A signed deal changed in the CRM: apply it; when go-live moved, the plan and the reviews follow."""
from __future__ import annotations

from prefect import flow, task

from journey import steps


@task(name="record-deal-update", retries=2, retry_delay_seconds=1)
def record_deal_update(event_id: int):  # type: ignore[no-untyped-def]
    return steps.record_deal_update(event_id)


@task(name="move-plan-to-go-live", retries=2, retry_delay_seconds=1)
def move_plan_to_go_live(journey_id: int, go_live, reason: str) -> int:  # type: ignore[no-untyped-def]
    return steps.move_plan_to_go_live(journey_id, go_live, reason)


@task(name="move-reviews-to-go-live", retries=2, retry_delay_seconds=1)
def move_reviews_to_go_live(journey_id: int, go_live) -> int:  # type: ignore[no-untyped-def]
    return steps.move_reviews_to_go_live(journey_id, go_live)


def _run_name() -> str:
    from prefect.runtime import flow_run

    return steps.describe_event(int(flow_run.parameters["event_id"]))


@flow(name="deal-updated", flow_run_name=_run_name)
def deal_updated(event_id: int) -> None:
    journey_id, go_live, reason = record_deal_update(event_id)
    if journey_id is not None and go_live is not None:
        move_plan_to_go_live(journey_id, go_live, reason)
        move_reviews_to_go_live(journey_id, go_live)
    steps.finish_event(event_id)
