"""A signed deal through the real route and the flows (inline): one journey with plan, packet, reviews."""
from __future__ import annotations

import time
from datetime import date

import pytest
from sqlalchemy import func, select

from journey import db
from journey.models import Journey, PlanTask, Review, TaskStatus
from tests.builders import deal_signed, drain, event, member_with_token, post_event

pytestmark = pytest.mark.usefixtures("db_url")


def _count(model) -> int:  # type: ignore[no-untyped-def]
    with db.transaction(writer=False) as s:
        return s.scalar(select(func.count()).select_from(model))


def test_signed_deal_builds_a_whole_journey(client, admin) -> None:
    assert post_event(client, deal_signed()).status_code == 202
    assert drain() == ["processed"]
    acc = client.get("/api/accounts/crm:events:C-77", headers=admin).json()
    assert acc["name"] == "Société Acme — Ünïcødé 🚀"
    assert acc["csm"]["email"] == "csm@vendor.example" and acc["am"]["email"] == "am@vendor.example"
    plan = client.get(f"/api/accounts/{acc['id']}/plan", headers=admin).json()
    names = [m["name"] for m in plan["milestones"]]
    assert names[0] == "Kickoff" and "Go-live" in names
    tasks = [t for m in plan["milestones"] for t in m["tasks"]]
    assert all(date.fromisoformat(t["due_on"]).weekday() < 5 for t in tasks)
    assert all(t["raci"]["responsible"] for t in tasks)
    packet = client.get(f"/api/accounts/{acc['id']}/handoff", headers=admin).json()
    assert [o["title"] for o in packet["objectives"]] == ["Réduire le temps d'intégration des agents"]
    assert packet["version"] == 1 and packet["completeness"] == 100 and packet["missing"] == []
    reviews = client.get(f"/api/accounts/{acc['id']}/reviews", headers=admin).json()["items"]
    assert {r["kind"]: r["due_on"] for r in reviews} == {
        "90_day": "2027-02-18", "3_month": "2027-04-15", "6_month": "2027-07-15"}  # go-live 15 Jan + 3 / 6 months


def test_many_deliveries_of_one_deal_make_one_journey(client) -> None:
    for n in range(5):
        post_event(client, deal_signed(), msg_id=f"msg_{n}")
    post_event(client, deal_signed(), msg_id="msg_0")
    assert drain() == ["processed"] * 5
    assert _count(Journey) == 1
    assert _count(Review) == 3


def test_a_step_that_crashed_half_way_is_finished_once_on_retry(client, monkeypatch) -> None:
    from flows import steps

    post_event(client, deal_signed())
    real = steps.schedule_reviews
    monkeypatch.setattr(steps, "schedule_reviews", lambda journey_id: 1 / 0)
    import flows.deal_signed as flow_module

    monkeypatch.setattr(flow_module, "schedule_reviews", lambda journey_id: 1 / 0)
    assert drain() == ["retry"]
    monkeypatch.setattr(flow_module, "schedule_reviews", real)
    with db.transaction() as s:  # make the retry due now instead of in 5 s
        from journey.models import InboundEvent

        for e in s.scalars(select(InboundEvent)):
            e.next_attempt_at = None
    assert drain() == ["processed"]
    assert (_count(Journey), _count(Review)) == (1, 3)


def test_go_live_slip_moves_open_tasks_and_reviews_not_done_ones(client, admin) -> None:
    post_event(client, deal_signed())
    drain()
    acc = client.get("/api/accounts/crm:events:C-77", headers=admin).json()
    with db.transaction() as s:
        done = s.scalars(select(PlanTask).where(PlanTask.anchor == "go_live")).first()
        done.status = TaskStatus.done
        done_key, done_due = done.key, done.due_on
    before = {t["key"]: t["due_on"] for m in client.get(f"/api/accounts/{acc['id']}/plan", headers=admin).json()[
        "milestones"] for t in m["tasks"]}
    post_event(client, event("deal.updated", {"deal": {"id": "D-1001", "expected_go_live": "2027-03-15",
                                                        "reason": "customer IT freeze"}}))
    assert drain() == ["processed"]
    plan = client.get(f"/api/accounts/{acc['id']}/plan", headers=admin).json()
    after = {t["key"]: t for m in plan["milestones"] for t in m["tasks"]}
    assert plan["go_live_on"] == "2027-03-15"
    assert after[done_key]["due_on"] == str(done_due)
    moved = [k for k, t in after.items() if t["due_on"] != before[k]]
    assert moved and done_key not in moved


def test_lost_deal_pauses_the_journey_and_cancels_future_reviews(client, admin) -> None:
    post_event(client, deal_signed())
    drain()
    post_event(client, event("deal.lost", {"deal": {"id": "D-1001", "reason": "budget cut"}}))
    assert drain() == ["processed"]
    journeys = client.get("/api/journeys?deal=crm:events:D-1001", headers=admin).json()["items"]
    assert [j["status"] for j in journeys] == ["paused"]
    acc_id = journeys[0]["account_id"]
    reviews = client.get(f"/api/accounts/{acc_id}/reviews", headers=admin).json()["items"]
    assert {r["status"] for r in reviews} == {"cancelled"}
    assert all(r["sequence"] == 1 for r in reviews)


def test_an_update_before_its_signed_deal_waits_and_is_applied_once_the_deal_arrives(client, admin) -> None:
    post_event(client, event("deal.updated", {"deal": {"id": "D-1001", "expected_go_live": "2027-03-15"}},
                             timestamp="2026-11-21T10:00:00Z"))
    assert drain() == ["waiting"]
    waiting = client.get("/api/events?status=pending", headers=admin).json()["items"]
    assert waiting[0]["attempts"] == 0 and "waiting for its deal.signed" in waiting[0]["error"]
    post_event(client, deal_signed())  # older than the update: its go-live must not win
    assert drain() == ["processed", "processed"]  # the signed deal wakes the waiting update at once
    journeys = client.get("/api/journeys?deal=crm:events:D-1001", headers=admin).json()["items"]
    assert [j["go_live_on"] for j in journeys] == ["2027-03-15"]


def test_an_update_for_a_deal_that_never_comes_is_a_dead_letter_after_the_wait(client, admin, monkeypatch) -> None:
    from journey.config import get_settings

    monkeypatch.setenv("JOURNEY_WAIT_FOR_SIGNED_HOURS", "0.0001")  # 0.36 s
    get_settings.cache_clear()
    post_event(client, event("deal.updated", {"deal": {"id": "NOPE", "expected_go_live": "2027-03-15"}}))
    post_event(client, event("deal.lost", {"deal": {"id": "NOPE-2"}}))
    assert drain() == ["waiting", "waiting"]
    time.sleep(0.5)
    with db.transaction() as s:
        from journey.models import InboundEvent

        for e in s.scalars(select(InboundEvent)):
            e.next_attempt_at = None
    assert sorted(drain()) == ["dead", "ignored"]  # an update is an error to look at; a loss, nothing to do
    dead = client.get("/api/events?status=dead", headers=admin).json()["items"]
    assert len(dead) == 1 and "NOPE" in dead[0]["error"] and "gave up" in dead[0]["error"]
    assert client.post(f"/api/events/{dead[0]['id']}/replay", headers=admin).status_code == 202
    assert client.get("/api/events?status=pending", headers=admin).json()["items"][0]["attempts"] == 0


def test_newest_wins_per_field_whatever_the_arrival_order(client, admin) -> None:
    """A late, older deal.signed still brings the seats that the newer update did not carry."""
    post_event(client, deal_signed(deal={"seats": 10, "name": "v0"}))
    drain()
    post_event(client, event("deal.updated", {"deal": {"id": "D-1001", "amount": "2000.00"}},
                             timestamp="2026-11-20T15:00:00Z"))
    late = deal_signed(deal={"seats": 12, "name": "v2", "amount": "1002.00"})
    late["timestamp"] = "2026-11-20T14:30:00Z"
    post_event(client, late)
    assert drain() == ["processed", "processed"]
    with db.transaction(writer=False) as s:
        from journey.models import Deal

        deal = s.scalars(select(Deal)).one()
        assert (str(deal.amount), deal.seats, deal.name) == ("2000.00", 12, "v2")


def test_a_loss_older_than_a_new_signature_does_not_pause(client, admin) -> None:
    post_event(client, deal_signed())  # occurred 2026-11-20T14:03
    post_event(client, event("deal.lost", {"deal": {"id": "D-1001"}}, timestamp="2026-11-19T10:00:00Z"))
    assert drain() == ["processed", "processed"]
    journeys = client.get("/api/journeys?deal=crm:events:D-1001", headers=admin).json()["items"]
    assert [j["status"] for j in journeys] == ["active"]


def test_a_manager_override_of_the_pair_survives_a_resent_signed_deal(client, admin) -> None:
    post_event(client, deal_signed())
    drain()
    member_with_token("new.csm@vendor.example", "csm")
    manager = member_with_token("boss@vendor.example", "manager")
    r = client.put("/api/accounts/crm:events:C-77/owners", headers=manager,
                   json={"csm": "new.csm@vendor.example", "reason": "workload rebalance"})
    assert r.status_code == 200, r.text
    post_event(client, deal_signed(), msg_id="msg_resent_by_crm")  # the CRM still names csm@vendor.example
    drain()
    acc = client.get("/api/accounts/crm:events:C-77", headers=admin).json()
    assert acc["csm"]["email"] == "new.csm@vendor.example"
