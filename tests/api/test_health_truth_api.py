"""Health that tells the truth, through the API: unknown until enough is known, plan lateness in proportion,
the CSM's override (set, shown, lapsing by itself), and what moved since an earlier day."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from tests.builders import deal_signed, drain, member_with_token, post_event

pytestmark = pytest.mark.usefixtures("db_url")
ACCOUNT = "crm:events:C-77"  # signed Friday 2026-11-20; its first task is due Tuesday 2026-11-24


@pytest.fixture
def signed(client) -> None:
    # no promises or risks: the plan is the playbook's tasks only (packet items would add tasks to count)
    post_event(client, deal_signed(notes={"promises": [], "risks": []}))
    assert drain() == ["processed"]


def send(client, headers, prefix: str, **values: float) -> None:
    at = datetime.now(UTC).isoformat()
    items = [{"id": f"{prefix}-{m}", "account": ACCOUNT, "metric": m, "value": v, "at": at} for m, v in values.items()]
    assert client.post("/api/signals", json={"items": items}, headers=headers).status_code == 200


def health(client, headers) -> dict:
    r = client.get(f"/api/accounts/{ACCOUNT}/health", headers=headers)
    assert r.status_code == 200, r.text
    return r.json()


def tasks(client, headers) -> list[dict]:
    plan = client.get(f"/api/accounts/{ACCOUNT}/plan", headers=headers).json()
    return [t for m in plan["milestones"] for t in m["tasks"]]


def nightly() -> None:
    from journey.audit import Actor
    from journey.health.jobs import recompute_all_health
    from journey.job_context import JobContext

    recompute_all_health(JobContext(now=datetime.now(UTC), actor=Actor.flow("test")))


def done_by_hand(task_id: int) -> None:
    from journey import db
    from journey.models import PlanTask, TaskStatus

    with db.transaction() as session:
        task = session.get_one(PlanTask, task_id)
        task.status, task.done_at = TaskStatus.done, datetime.now(UTC)


def factor(h: dict, name: str) -> dict:
    return next(c for c in h["contributions"] if c["factor"] == name)


@pytest.mark.clock("2026-11-23T09:00:00Z")
def test_a_fresh_account_is_unknown_and_says_what_is_missing(client, admin, signed) -> None:
    h = health(client, admin)
    assert (h["band"], h["computed_band"], h["provisional"]) == ("unknown", "unknown", True)
    assert h["evidence"] == pytest.approx(0.2) and h["min_evidence"] == 0.5  # the handoff packet alone
    assert h["scorecard"] == "default_onboarding" and h["scorecard_version"] == 2
    assert "provisional (unknown)" in h["explanation"]
    assert "No plan tasks due recorded yet (no plan task is due yet)" in h["explanation"]
    assert ("No active users, CSM sentiment or escalation status recorded yet (send them with POST /api/signals or "
            "journey import signals)") in h["explanation"]
    assert client.get(f"/api/accounts/{ACCOUNT}", headers=admin).json()["health"] is None  # not stored yet
    send(client, admin, "s1", active_users=30, seats=120, escalation_open=0)
    h = health(client, admin)
    assert h["band"] == "unknown" and h["evidence"] == pytest.approx(0.47)  # 12 + 15 + 20 % of the weight
    assert client.get(f"/api/accounts/{ACCOUNT}", headers=admin).json()["health"]["band"] == "unknown"
    send(client, admin, "s2", csm_sentiment=4)
    assert health(client, admin)["band"] in {"red", "yellow", "green"}  # 55 %: enough for a band


@pytest.mark.clock("2026-11-23T09:00:00Z")  # the deal is signed on Friday 20 November
def test_plan_lateness_costs_in_proportion(client, admin, signed, clock) -> None:
    clock.move_to("2026-11-24T08:00:00Z")
    send(client, admin, "s1", active_users=60, seats=120, csm_sentiment=5, escalation_open=0)
    clock.move_to("2026-11-25T09:00:00Z")  # the first task is one business day late
    nightly()
    h = health(client, admin)
    # version 1 read this as plan_on_time 0.0 and lost all its 27 points (yellow): within the grace it is free
    assert factor(h, "plan_on_time")["value"] == 1.0 and factor(h, "plan_on_time")["points"] == pytest.approx(27)
    assert factor(h, "overdue_tasks")["value"] == 0
    first, second, third = tasks(client, admin)[:3]
    clock.move_to("2026-11-26T10:00:00Z")
    assert client.patch(f"/api/tasks/{first['id']}", json={"action": "done"}, headers=admin).status_code == 200
    done_by_hand(second["id"])  # the others wait for the packet's acceptance: this test is about the score
    clock.move_to("2026-12-09T09:00:00Z")  # Wednesday: the third task (due 1 Dec) open 6 business days
    nightly()
    h = health(client, admin)
    due = [t for t in tasks(client, admin) if t["due_on"] < "2026-12-09"]
    assert len(due) == 6 and third["due_on"] == "2026-12-01"
    # penalties: 0 (done 2 days late), 0 (on time), 0.4 (third), 0.3 (5 days), 0 and 0 (due 8 Dec, 1 day)
    expected = 1 - (0.4 + 0.3) / 6
    plan = factor(h, "plan_on_time")
    assert plan["value"] == pytest.approx(expected, abs=1e-4)
    assert plan["points"] == pytest.approx(27 * expected, abs=0.01)
    words = "4 of 6 tasks due are on time (grace 2 business days); 2 late by 3+ business days (up to 6 business days)"
    assert plan["detail"] == words
    assert f"Plan tasks on time: {words.replace('; ', ', ')} — 3.1 of 27 points lost" in h["explanation"]


@pytest.mark.clock("2026-11-23T09:00:00Z")  # the deal is signed on Friday 20 November
def test_the_csm_overrides_the_band_until_it_lapses(client, admin, signed, clock) -> None:
    from journey import db
    from journey.models import AuditEntry

    clock.move_to("2026-11-23T09:00:00Z")
    csm = member_with_token("csm@vendor.example", "csm")
    am = member_with_token("am@vendor.example", "am")
    manager = member_with_token("boss@vendor.example", "manager")
    path = f"/api/accounts/{ACCOUNT}/health/override"
    body = {"band": "green", "reason": "Dates moved with the customer: re-planning"}
    assert client.put(path, json=body, headers=am).status_code == 403  # the AM may not
    bad = client.put(path, json={**body, "band": "purple"}, headers=csm)
    assert bad.status_code == 422 and "band must be one of green, red, yellow" in bad.text
    assert client.put(path, json={**body, "expires_on": "2026-11-01"}, headers=csm).status_code == 422
    r = client.put(path, json=body, headers=csm)
    assert r.status_code == 200, r.text
    assert r.json() | {"set_at": None} == {"band": "green", "reason": "Dates moved with the customer: re-planning",
                                           "set_at": None, "set_by": "csm@vendor.example", "expires_on": "2026-12-23"}
    h = health(client, csm)
    assert (h["band"], h["computed_band"]) == ("green", "unknown")  # the CSM's judgment where data is thin
    assert h["override"]["set_by"] == "csm@vendor.example" and h["override"]["expires_on"] == "2026-12-23"
    assert h["explanation"].startswith("green (set by csm@vendor.example on 2026-11-23, until 2026-12-23: Dates "
                                       "moved with the customer: re-planning); computed ")
    assert client.get(f"/api/accounts/{ACCOUNT}", headers=csm).json()["health"]["band"] == "green"  # reminders read it

    clock.move_to("2026-12-23T23:00:00Z")
    nightly()  # a month on, nothing done: every task due so far is late, the computed band is red
    h = health(client, csm)
    assert (h["band"], h["computed_band"]) == ("green", "red")  # the override holds through its last day
    clock.move_to("2026-12-24T01:00:00Z")
    h = health(client, csm)
    assert h["band"] == h["computed_band"] == "red" and h["override"] is None  # lapsed, even before the recompute
    nightly()  # the nightly recompute removes it and puts the computed band back in force
    assert client.get(f"/api/accounts/{ACCOUNT}", headers=csm).json()["health"]["band"] == "red"
    with db.transaction(writer=False) as session:
        actions = session.scalars(select(AuditEntry.action).where(AuditEntry.action.like("health.override%"))
                                  .order_by(AuditEntry.id)).all()
    assert actions == ["health.override_set", "health.override_lapsed"]

    r = client.put(path, json={**body, "band": "yellow", "expires_on": "2027-01-10"}, headers=manager)
    assert r.status_code == 200 and health(client, admin)["band"] == "yellow"
    assert client.delete(path, headers=csm).status_code == 204  # the CSM may clear the manager's
    assert health(client, admin)["band"] == "red"
    assert client.get(f"/api/accounts/{ACCOUNT}", headers=csm).json()["health"]["band"] == "red"
    assert client.delete(path, headers=csm).status_code == 404
    assert client.put(path, json=body, headers=member_with_token("x@vendor.example", "csm")).status_code == 404
    assert client.put(path, json=body).status_code == 401


@pytest.mark.clock("2026-11-23T09:00:00Z")  # the deal is signed on Friday 20 November
def test_history_keeps_what_moved_each_day(client, admin, signed, clock) -> None:
    clock.move_to("2026-11-23T09:00:00Z")
    send(client, admin, "d1", active_users=100, seats=120, csm_sentiment=5, escalation_open=0)
    clock.move_to("2026-11-30T09:00:00Z")
    send(client, admin, "d2", csm_sentiment=2)
    h = health(client, admin)
    first, last = h["history"]
    assert first["on"] == "2026-11-23" and first["changes"] == []
    moved = {c["factor"]: c for c in last["changes"]}
    assert moved["csm_sentiment"]["from"] == 5 and moved["csm_sentiment"]["to"] == 2
    assert moved["csm_sentiment"]["points_delta"] < -5
    assert sum(c["points_delta"] for c in last["changes"]) == pytest.approx(last["score"] - first["score"], abs=0.05)
    assert h["changes_since"]["since"] == "2026-11-23"
    since = h["explanation"].split("; since ")[1]  # the plan's first late tasks moved it too, the weight spreading
    assert since.startswith("2026-11-23: ")
    assert f"CSM sentiment {moved['csm_sentiment']['points_delta']:+.0f} points" in since
    clock.shift(timedelta(hours=2))
    send(client, admin, "d3", escalation_open=0)  # nothing moves: the day's changes stay those since the 23rd
    assert health(client, admin)["history"][-1]["changes"] == last["changes"]
