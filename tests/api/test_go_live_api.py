"""Moving the expected go-live by hand (`PUT /api/accounts/{id}/go-live`) and reading the slips back."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from journey import db
from journey.models import PlanTask, TaskStatus
from tests.builders import deal_signed, drain, event, member_with_token, post_event

pytestmark = pytest.mark.usefixtures("db_url")
ACCOUNT = "/api/accounts/crm:events:C-77"


def _signed_with_a_done_go_live_task(client) -> tuple[str, str]:  # type: ignore[no-untyped-def]
    post_event(client, deal_signed())
    assert drain() == ["processed"]
    with db.transaction() as s:
        done = s.scalars(select(PlanTask).where(PlanTask.anchor == "go_live").order_by(PlanTask.id)).first()
        done.status = TaskStatus.done
        return done.key, str(done.due_on)


def _dues(plan: dict) -> dict[str, str]:
    return {t["key"]: t["due_on"] for m in plan["milestones"] for t in m["tasks"]}


def _reviews(client, headers) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return {r["kind"]: r["due_on"] for r in client.get(f"{ACCOUNT}/reviews", headers=headers).json()["items"]}


def test_the_csm_moves_go_live_with_a_reason_and_the_slip_is_read_back(client, admin) -> None:
    done_key, done_due = _signed_with_a_done_go_live_task(client)
    csm = member_with_token("csm@vendor.example", "csm")
    before = client.get(f"{ACCOUNT}/plan", headers=csm).json()
    reviews_before = _reviews(client, csm)
    assert before["slips"] == []

    answer = client.put(f"{ACCOUNT}/go-live", headers=csm,
                        json={"date": "2027-03-15", "reason": "customer IT freeze until March"})
    assert answer.status_code == 200, answer.text
    plan = answer.json()
    assert plan["go_live_on"] == "2027-03-15"
    [slip] = plan["slips"]
    assert (slip["from"], slip["to"], slip["reason"], slip["actor"], slip["actor_kind"]) == (
        "2027-01-15", "2027-03-15", "customer IT freeze until March", "csm@vendor.example", "user")
    after = _dues(plan)
    assert after[done_key] == done_due  # a done task never moves
    moved = {k for k, due in after.items() if due != _dues(before)[k]}
    assert moved and done_key not in moved
    reviews_after = _reviews(client, csm)
    assert reviews_after["90_day"] == reviews_before["90_day"]  # anchored at signature
    assert reviews_after["3_month"] > reviews_before["3_month"]  # anchored at go-live
    assert client.get(f"{ACCOUNT}/plan", headers=admin).json()["slips"] == [slip]

    # the same date again is no new slip; an older CRM update does not take the go-live back
    assert len(client.put(f"{ACCOUNT}/go-live", headers=csm,
                          json={"date": "2027-03-15", "reason": "again"}).json()["slips"]) == 1
    post_event(client, event("deal.updated", {"deal": {"id": "D-1001", "expected_go_live": "2027-02-01"}},
                             timestamp="2026-11-21T10:00:00Z"))
    assert drain() == ["processed"]
    assert client.get(f"{ACCOUNT}/plan", headers=csm).json()["go_live_on"] == "2027-03-15"


def test_a_crm_slip_names_the_flow_as_its_actor(client, admin) -> None:
    post_event(client, deal_signed())
    drain()
    post_event(client, event("deal.updated", {"deal": {"id": "D-1001", "expected_go_live": "2027-02-15",
                                                        "reason": "SSO late"}}, timestamp="2099-01-01T00:00:00Z"))
    assert drain() == ["processed"]
    [slip] = client.get(f"{ACCOUNT}/plan", headers=admin).json()["slips"]
    assert (slip["to"], slip["reason"], slip["actor_kind"]) == ("2027-02-15", "SSO late", "flow")


@pytest.mark.parametrize(("who", "body", "status"), [
    (("ae@vendor.example", "ae"), {"date": "2027-03-15", "reason": "x"}, 403),  # sees it, may not move it
    (("other.csm@vendor.example", "csm"), {"date": "2027-03-15", "reason": "x"}, 404),  # not their book
    (("am@vendor.example", "am"), {"date": "2026-01-01", "reason": "x"}, 422),  # before the signature
    (("am@vendor.example", "am"), {"date": "2040-01-01", "reason": "x"}, 422),
    (("am@vendor.example", "am"), {"date": "2027-03-15", "reason": "  "}, 422),
    (("am@vendor.example", "am"), {"date": "2027-03-15"}, 422),
    (("am@vendor.example", "am"), {"date": "next week", "reason": "x"}, 422),
])
def test_who_may_move_go_live_and_what_is_refused(client, admin, who, body, status) -> None:
    post_event(client, deal_signed())
    drain()
    answer = client.put(f"{ACCOUNT}/go-live", headers=member_with_token(*who), json=body)
    assert answer.status_code == status, answer.text
    assert client.get(f"{ACCOUNT}/plan", headers=admin).json()["go_live_on"] == "2027-01-15"


def test_a_paused_journey_keeps_its_go_live(client, admin) -> None:
    post_event(client, deal_signed())
    post_event(client, event("deal.lost", {"deal": {"id": "D-1001", "reason": "budget"}},
                             timestamp="2099-01-01T00:00:00Z"))
    drain()
    manager = member_with_token("boss@vendor.example", "manager")
    answer = client.put(f"{ACCOUNT}/go-live", headers=manager, json={"date": "2027-03-15", "reason": "x"})
    assert answer.status_code == 409 and "paused" in answer.json()["detail"]
