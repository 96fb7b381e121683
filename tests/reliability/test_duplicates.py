"""10,000 deliveries, 30 % of them re-deliveries, shuffled, from 16 concurrent senders.

Each deal is told four times (three `deal.signed` occurrences with growing timestamps and changing
facts, then a `deal.updated` moving its go-live), and 30 % of those deliveries are delivered twice.
The database must end with exactly one complete journey per deal, every delivery processed once, and
each deal's facts those of its newest occurrence, whatever order the deliveries arrived in.
    make reliability RELIABILITY_ARGS="-k duplicates"
"""
from __future__ import annotations

import asyncio
import random
from collections import Counter
from datetime import date, timedelta
from decimal import Decimal

import pytest

from tests.builders import deal_signed, event
from tests.reliability import checks
from tests.reliability.server import Delivery, Server, orchestrator, scale, send_all, wait_until

pytestmark = pytest.mark.reliability
SIGNED_OCCURRENCES = 3
BASE_GO_LIVE = date(2027, 1, 15)


def _deal_story(i: int) -> tuple[list[Delivery], dict[str, object]]:
    """The four deliveries of deal i, and the facts its newest occurrence leaves."""
    deal_id, stories = f"D-{i}", []
    for k in range(SIGNED_OCCURRENCES):
        payload = deal_signed(deal_id, f"C-{i}", deal={"name": f"Deal {i} v{k}", "amount": f"{1000 + k}.00",
                                                       "seats": 10 + k})
        payload["timestamp"] = f"2026-11-20T14:0{k}:00Z"
        stories.append(Delivery.of(payload))
    go_live = BASE_GO_LIVE + timedelta(days=7 + i % 20)
    update = event("deal.updated", {"deal": {"id": deal_id, "amount": "2000.00", "expected_go_live": str(go_live),
                                             "reason": "customer asked"}}, timestamp="2026-11-20T15:00:00Z")
    stories.append(Delivery.of(update))
    last = SIGNED_OCCURRENCES - 1
    return stories, {"amount": Decimal("2000.00"), "seats": 10 + last, "name": f"Deal {i} v{last}",
                     "go_live": go_live}


def _traffic(total: int, with_updates: bool, seed: int) -> tuple[list[Delivery], list[Delivery], dict]:
    """(unique deliveries, all deliveries shuffled with 30 % re-deliveries, expected facts per deal)."""
    per_deal = SIGNED_OCCURRENCES + (1 if with_updates else 0)
    rng = random.Random(seed)
    unique, expected = [], {}
    for i in range(round(total / 1.3) // per_deal):
        stories, facts = _deal_story(i)
        if not with_updates:
            stories, facts = stories[:-1], {**facts, "amount": Decimal(f"{1000 + SIGNED_OCCURRENCES - 1}.00"),
                                             "go_live": BASE_GO_LIVE}
        unique += stories
        expected[f"D-{i}"] = facts
    deliveries = unique + rng.choices(unique, k=total - len(unique))  # re-deliveries: same id, same body
    rng.shuffle(deliveries)
    return unique, deliveries, expected


def _run_and_check(work, total: int, *, with_updates: bool) -> None:  # type: ignore[no-untyped-def]
    unique, deliveries, expected = _traffic(total, with_updates, seed=total)
    with Server(work, JOURNEY_ORCHESTRATOR=orchestrator()) as server:
        server.migrate()
        server.start()
        outcomes = asyncio.run(send_all(server.base, deliveries, senders=16))
        statuses = {o.status for o in outcomes}
        assert statuses == {202}, f"answers other than 202: {sorted(statuses, key=str)}"
        assert sum(o.status == 202 for o in outcomes) == len(deliveries)
        engine = server.engine()
        drained = wait_until(lambda: checks.pending_count(engine) == 0, timeout=120 + 0.25 * total, step=2)
        assert drained, f"{checks.pending_count(engine)} events still pending; log: {server.log_tail()}"

    box = checks.inbox(engine)
    assert len(box.status_by_delivery) == len(unique), "the inbox must hold each delivery exactly once"
    not_processed = box.not_processed({d.msg_id for d in unique})
    assert not_processed == {}, f"{len(not_processed)} deliveries not processed: {Counter(not_processed.values())}"
    assert checks.journeys(engine).problems(set(expected)) == []
    stored, go_lives = checks.deals(engine), checks.go_live_by_deal(engine)
    wrong = {d: (stored[d], go_lives[d]) for d, facts in expected.items()
             if (stored[d].amount, stored[d].seats, stored[d].name, stored[d].expected_go_live, go_lives[d])
             != (facts["amount"], facts["seats"], facts["name"], facts["go_live"], facts["go_live"])}
    assert wrong == {}, f"{len(wrong)} deals do not show their newest occurrence, e.g. {list(wrong.items())[:3]}"


def test_10k_deliveries_with_30_percent_duplicates_shuffled_give_one_journey_per_deal(tmp_path):
    """Three deal.signed occurrences per deal (newer facts each time), re-delivered, shuffled."""
    _run_and_check(tmp_path / "dups", max(130, round(10_000 * scale())), with_updates=False)


def test_updates_shuffled_before_their_signed_deal_still_apply_in_occurrence_order(tmp_path):
    """The same, with a deal.updated (the newest occurrence) among each deal's shuffled deliveries."""
    _run_and_check(tmp_path / "updates", max(130, round(3_000 * scale())), with_updates=True)
