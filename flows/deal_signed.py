"""A deal was signed: open its journey, plan the onboarding, hand the packet over, book the reviews."""
from __future__ import annotations

from prefect import flow

from flows import steps
from flows._kit import run_name, step
from flows.steps import Finished

open_journey = step("open-journey")(steps.open_journey)
assign_account_owners = step("assign-account-owners")(steps.assign_account_owners)
build_onboarding_plan = step("build-onboarding-plan")(steps.build_onboarding_plan)
open_handoff_packet = step("open-handoff-packet")(steps.open_handoff_packet)
schedule_reviews = step("schedule-reviews")(steps.schedule_reviews)


@flow(name="deal-signed", flow_run_name=run_name)
def deal_signed(event_id: int) -> Finished:
    with steps.steps_together():  # all in the database: one transaction when the steps are plain calls
        journey_id, data = open_journey(event_id)
        assign_account_owners(journey_id)
        build_onboarding_plan(journey_id)
        open_handoff_packet(journey_id, data)
        schedule_reviews(journey_id)
    return Finished()
