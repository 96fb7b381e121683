"""Which flow handles an inbox event's type: real function references (importing this imports Prefect)."""
from __future__ import annotations

from typing import Any

from flows.crm_deal import crm_deal
from flows.deal_lost import deal_lost
from flows.deal_signed import deal_signed
from flows.deal_updated import deal_updated

FLOW_FOR_TYPE: dict[str, Any] = {
    "deal.signed": deal_signed,
    "deal.updated": deal_updated,
    "deal.lost": deal_lost,
    # CRM notifications (journey/adapters/crm): HubSpot, Salesforce Outbound Messages, Pipedrive v1 / v2
    "deal.creation": crm_deal,
    "deal.propertyChange": crm_deal,
    "outbound.Opportunity": crm_deal,
    "added.deal": crm_deal,
    "updated.deal": crm_deal,
    "create.deal": crm_deal,
    "change.deal": crm_deal,
}


# Flows that only touch the database: run inline, their event's whole run (context read, steps, outcome) is one
# transaction. A flow that calls out (a CRM's API) keeps a transaction per step: no lock held over the network.
ALL_IN_DATABASE = frozenset({"deal.signed"})


def flow_for(event_type: str) -> Any | None:
    return FLOW_FOR_TYPE.get(event_type)
