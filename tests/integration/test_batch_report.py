"""What a batch's flow run shows in Prefect's UI: tags, one outcome line per event with its account link, and
a message naming the failed events."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from journey import db
from journey.inbox import report
from journey.models import Deal, InboundEvent
from tests.builders import deal_signed, drain, event, post_event

pytestmark = pytest.mark.usefixtures("db_url")


def _events() -> list[tuple[int, str]]:
    with db.transaction(writer=False) as s:
        return [(e.id, e.type) for e in s.scalars(select(InboundEvent).order_by(InboundEvent.id))]


@pytest.mark.parametrize(("outcomes", "message"), [
    ({}, None),
    ({1: "processed", 2: "ignored", 3: "waiting", 4: "skipped"}, None),
    ({1: "processed", 2: "retry"}, "1 of 2 events failed: 2 (retry)"),
    ({1: "dead", 2: "retry", 3: "processed"}, "2 of 3 events failed: 1 (dead), 2 (retry)"),
    ({n: "retry" for n in range(22)}, "22 of 22 events failed: " + ", ".join(f"{n} (retry)" for n in range(20))
     + ", +2 more"),
])
def test_the_failure_message_names_the_failed_events(outcomes, message) -> None:
    assert report.failure_message(outcomes) == message


def test_a_batch_is_tagged_with_its_sources_and_event_types(client) -> None:
    post_event(client, deal_signed("D-1"))
    post_event(client, event("deal.lost", {"deal": {"id": "D-1"}}))
    post_event(client, deal_signed("D-2", "C-2"))
    assert report.batch_tags(_events()) == ["journey", "source:events", "type:deal.lost", "type:deal.signed"]


def test_an_outcome_line_links_the_account_page_and_says_why_an_event_failed(client) -> None:
    post_event(client, deal_signed("D-1001"))
    post_event(client, event("deal.updated", {"deal": {"id": "D-404"}}))
    (signed, _), (unknown, _) = _events()
    drain()
    with db.transaction() as s:
        account = s.scalars(select(Deal.account_id)).one()
        s.get_one(InboundEvent, unknown).error = "ValueError: bad date"
    assert report.outcome_line(signed, "processed", base_url="https://journey.example/") == (
        f"event {signed} deal.signed D-1001: processed; account https://journey.example/accounts/{account}")
    assert report.outcome_line(signed, "processed", base_url=None).endswith(f"; account /accounts/{account}")
    assert report.outcome_line(unknown, "retry", base_url=None) == (
        f"event {unknown} deal.updated D-404: retry; error: ValueError: bad date")
    assert report.outcome_line(10_000, "skipped", base_url=None) == "event 10000: skipped (no longer in the inbox)"
