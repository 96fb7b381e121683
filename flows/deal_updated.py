"""A signed deal changed in the CRM: apply it; when go-live moved, the plan and the reviews follow."""
from __future__ import annotations

from prefect import flow

from flows import steps
from flows._kit import run_name, step
from flows.steps import Finished

record_deal_update = step("record-deal-update")(steps.record_deal_update)
move_plan_to_go_live = step("move-plan-to-go-live")(steps.move_plan_to_go_live)
move_reviews_to_go_live = step("move-reviews-to-go-live")(steps.move_reviews_to_go_live)


@flow(name="deal-updated", flow_run_name=run_name)
def deal_updated(event_id: int) -> Finished:
    journey_id, go_live, reason = record_deal_update(event_id)
    if journey_id is not None and go_live is not None:
        move_plan_to_go_live(journey_id, go_live, reason)
        move_reviews_to_go_live(journey_id, go_live)
    return Finished()
