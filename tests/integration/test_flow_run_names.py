"""Prefect's UI names every journey flow run after its deal and account, and every batch after its first deals."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from flows import steps
from journey import db
from journey.models import InboundEvent
from tests.builders import deal_signed, drain, event, post_event

pytestmark = pytest.mark.usefixtures("db_url")


def _events() -> list[tuple[int, str]]:
    with db.transaction(writer=False) as s:
        return [(e.id, e.type) for e in s.scalars(select(InboundEvent).order_by(InboundEvent.id))]


def test_a_flow_run_is_named_after_its_deal_and_account(client) -> None:
    post_event(client, deal_signed("D-1001", account={"name": "Acme SAS"}))
    post_event(client, event("deal.lost", {"deal": {"id": "D-1001"}}))  # no account in the delivery
    post_event(client, event("deal.updated", {"deal": {"id": "D-404"}}))  # a deal we do not know
    (signed, _), (lost, _), (unknown, _) = _events()
    assert steps.describe_event(signed) == "deal.signed · D-1001 · Acme SAS"
    assert steps.describe_event(lost) == "deal.lost · D-1001"
    drain()
    assert steps.describe_event(lost) == "deal.lost · D-1001 · Acme SAS"  # the account it now has here
    assert steps.describe_event(unknown) == "deal.updated · D-404"


def test_a_batch_is_named_after_its_first_deals(client) -> None:
    for n in range(5):
        post_event(client, deal_signed(f"D-{n}", f"C-{n}", account={"name": f"Client {n}"}))
    assert steps.describe_batch(_events()) == (
        "inbox batch of 5: D-0 · Client 0, D-1 · Client 1, D-2 · Client 2, D-3, D-4")  # every deal
    assert steps.describe_batch(_events()[:1]) == "inbox batch of 1: D-0 · Client 0"
