"""A CRM notification (HubSpot, Salesforce, Pipedrive): read the deal if needed, apply its stage in order;
a won deal gets its journey, plan, packet and reviews, a deal leaving the won stage pauses its journey, and
a changed go-live (seats, amount...) of a deal with a journey moves its plan and reviews as `deal.updated` does."""
from __future__ import annotations

from prefect import flow

from flows import crm_steps
from flows._kit import run_name, step
from flows.deal_signed import assign_account_owners, build_onboarding_plan, open_handoff_packet, schedule_reviews
from flows.deal_updated import move_plan_to_go_live, move_reviews_to_go_live
from flows.steps import Finished
from journey.models import EventStatus

# no task retries: an API outage goes back to the inbox, which waits minutes to hours (Retry-After)
fetch_crm_details = step("fetch-crm-details", retries=0)(crm_steps.fetch_crm_details)
apply_stage_change = step("apply-stage-change")(crm_steps.apply_stage_change)


@flow(name="crm-deal", flow_run_name=run_name)
def crm_deal(event_id: int) -> Finished:
    bundle = fetch_crm_details(event_id)
    outcome = apply_stage_change(event_id, bundle)
    if outcome["action"] == "sign":
        journey_id = outcome["journey_id"]
        assign_account_owners(journey_id)
        build_onboarding_plan(journey_id)
        open_handoff_packet(journey_id, outcome["data"])
        schedule_reviews(journey_id)
    update = outcome.get("update")
    if update is not None and update["go_live"] is not None:
        move_plan_to_go_live(update["journey_id"], update["go_live"], update["reason"])
        move_reviews_to_go_live(update["journey_id"], update["go_live"])
    status = EventStatus.ignored if outcome["action"] == "ignore" else EventStatus.processed
    return Finished(status, outcome.get("note"))
