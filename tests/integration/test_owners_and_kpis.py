"""The CSM + AM pair chosen by the roster when the CRM names nobody, a manager's override with the
ownership history, objectives with measured progress, and the onboarding KPIs."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from journey import db
from journey.models import AuditEntry
from journey.team import service as team_service
from tests.builders import deal_signed, drain, member_with_token, post_event

pytestmark = pytest.mark.usefixtures("db_url")
NO_OWNERS = {"csm": None, "am": None}


def _roster() -> None:
    with db.transaction() as s:
        for email, role, segments, regions, capacity in [
            ("fr.csm@vendor.example", "csm", ["mid_market"], ["FR"], 1),
            ("us.csm@vendor.example", "csm", ["mid_market"], ["US"], 10),
            ("any.csm@vendor.example", "csm", [], [], 10),
            ("fr.am@vendor.example", "am", [], ["FR"], 10),
        ]:
            m = team_service.create_member(s, email=email, name=email.split("@")[0], role=role)
            m.segments, m.regions, m.capacity_accounts = segments, regions, capacity


def test_owners_by_rules_then_capacity_then_manager_override(client, admin) -> None:
    _roster()
    post_event(client, deal_signed("D-1", "C-1", owners=NO_OWNERS))
    post_event(client, deal_signed("D-2", "C-2", owners=NO_OWNERS))
    assert drain() == ["processed", "processed"]
    first = client.get("/api/accounts/crm:events:C-1/owners", headers=admin).json()
    assert (first["csm"]["email"], first["am"]["email"]) == ("fr.csm@vendor.example", "fr.am@vendor.example")
    assert first["history"][0]["source"] == "rules"
    assert "covers segment mid_market and region FR" in first["history"][0]["reason"]
    second = client.get("/api/accounts/crm:events:C-2/owners", headers=admin).json()
    assert second["csm"]["email"] == "any.csm@vendor.example"  # the French CSM is at capacity (1)
    with db.transaction(writer=False) as s:
        reasons = [e.details["reason"] for e in s.scalars(select(AuditEntry).where(
            AuditEntry.action == "owner.assigned").order_by(AuditEntry.id))]
    assert len(reasons) == 4 and all(reasons)

    csm = member_with_token("fr.csm@vendor.example", "csm")
    body = {"csm": "us.csm@vendor.example", "reason": "French speaker on leave"}
    assert client.put("/api/accounts/crm:events:C-1/owners", headers=csm, json=body).status_code == 403
    manager = member_with_token("boss@vendor.example", "manager")
    assert client.put("/api/accounts/crm:events:C-1/owners", headers=manager,
                      json={"csm": "fr.am@vendor.example", "reason": "x"}).status_code == 422  # an AM is no CSM
    moved = client.put("/api/accounts/crm:events:C-1/owners", headers=manager, json=body).json()
    assert moved["csm"]["email"] == "us.csm@vendor.example"
    windows = [(w["role"], w["member"]["email"], w["ended_at"] is None, w["source"]) for w in moved["history"]]
    assert windows == [("csm", "fr.csm@vendor.example", False, "rules"), ("am", "fr.am@vendor.example", True, "rules"),
                       ("csm", "us.csm@vendor.example", True, "manager")]
    # the former CSM no longer sees the account; the new one does
    assert client.get("/api/accounts/crm:events:C-1", headers=csm).status_code == 404
    assert client.get("/api/accounts/crm:events:C-1/plan",
                      headers=member_with_token("us.csm@vendor.example", "csm")).status_code == 200


def test_crm_named_owners_open_windows_from_the_crm(client, admin) -> None:
    post_event(client, deal_signed())
    drain()
    owners = client.get("/api/accounts/crm:events:C-77/owners", headers=admin).json()
    assert [(w["role"], w["source"]) for w in owners["history"]] == [("csm", "crm"), ("am", "crm")]


def test_nobody_in_the_roster_leaves_the_account_unassigned_and_says_why(client, admin) -> None:
    post_event(client, deal_signed(owners=NO_OWNERS))
    assert drain() == ["processed"]
    assert client.get("/api/accounts/crm:events:C-77/owners", headers=admin).json()["csm"] is None
    with db.transaction(writer=False) as s:
        entry = s.scalars(select(AuditEntry).where(AuditEntry.action == "owner.unassigned")).first()
        assert entry.details["reason"] == "no active CSM in the roster"


def test_objective_progress_and_kpis(client, admin) -> None:
    post_event(client, deal_signed())
    drain()
    csm = member_with_token("csm@vendor.example", "csm")
    objectives = client.get("/api/accounts/crm:events:C-77/objectives", headers=csm).json()["items"]
    assert [(o["title"], o["baseline"], o["target"], o["measurements"]) for o in objectives] == [
        ("Réduire le temps d'intégration des agents", 21.0, 7.0, [])]
    url = f"/api/accounts/crm:events:C-77/objectives/{objectives[0]['id']}/progress"
    done = client.post(url, headers=csm, json={"value": 6, "note": "measured at the 90-day review",
                                                "source": "review"})
    assert done.status_code == 201 and done.json()["status"] == "achieved"
    assert client.post(url, headers=member_with_token("ae@vendor.example", "ae"), json={"value": 1}).status_code == 403
    kpis = client.get("/api/kpis/onboarding", headers=admin).json()
    assert [a["name"] for a in kpis["accounts"]] == ["Société Acme — Ünïcødé 🚀"]
    assert kpis["overall"]["accounts"] == 1 and kpis["teams"][0]["csm_email"] == "csm@vendor.example"
    assert client.get("/api/kpis/onboarding", headers=member_with_token("x@vendor.example", "csm")).json()[
        "accounts"] == []


def test_arr_capacity_and_the_account_language_pick_the_csm(client, admin) -> None:
    manager = member_with_token("boss@vendor.example", "manager")
    with db.transaction() as s:
        for email, languages in (("en.csm@vendor.example", ["en"]), ("fr.csm@vendor.example", ["fr", "en"])):
            m = team_service.create_member(s, email=email, name=email.split("@")[0], role="csm")
            m.segments, m.regions, m.languages = ["mid_market"], ["FR"], languages
        team_service.create_member(s, email="am1@vendor.example", name="am1", role="am")
    roster = {m["email"]: m for m in client.get("/api/team", headers=manager).json()}
    for email in ("en.csm@vendor.example", "fr.csm@vendor.example"):
        patched = client.patch(f"/api/team/{roster[email]['id']}", headers=manager, json={"capacity_arr": 60000})
        assert patched.status_code == 200 and patched.json()["capacity_arr"] == 60000.0
    french = {"segment": "mid_market", "region": "FR", "language": "fr"}
    post_event(client, deal_signed("D-1", "C-1", owners=NO_OWNERS, account=french))  # 48,000 each
    post_event(client, deal_signed("D-2", "C-2", owners=NO_OWNERS, account=french))
    assert drain() == ["processed", "processed"]
    first = client.get("/api/accounts/crm:events:C-1/owners", headers=admin).json()
    assert first["csm"]["email"] == "fr.csm@vendor.example"  # same fit, same load: speaks French
    assert "speaks fr" in first["history"][0]["reason"]
    second = client.get("/api/accounts/crm:events:C-2/owners", headers=admin).json()
    assert second["csm"]["email"] == "en.csm@vendor.example"  # 48,000 + 48,000 is over 60,000 ARR
    assert "0 of 60,000 ARR before this one (48,000)" in second["history"][0]["reason"]
    arr = {m["email"]: m["arr"] for m in client.get("/api/team", headers=manager).json()}
    assert (arr["fr.csm@vendor.example"], arr["en.csm@vendor.example"]) == (48000.0, 48000.0)


def test_a_malformed_account_language_is_refused_at_the_door(client) -> None:
    answer = post_event(client, deal_signed(account={"language": "français!"}))
    assert answer.status_code == 422 and "language" in answer.text


def test_signals_of_an_objectives_metric_record_its_progress(client, admin) -> None:
    from datetime import UTC, datetime, timedelta

    objective = {"title": "Faster first reply", "kpi": "median first reply (h)", "baseline": 24, "target": 4,
                 "unit": "h", "due": "2027-06-01", "source": "customer_validated", "metric": "first_reply_hours"}
    post_event(client, deal_signed(objectives=[objective]))
    assert drain() == ["processed"]
    csm = member_with_token("csm@vendor.example", "csm")
    now = datetime.now(UTC)
    batch = {"items": [
        {"id": "s-1", "account": "crm:events:C-77", "metric": "first_reply_hours", "value": 14,
         "at": (now - timedelta(days=2)).isoformat()},
        {"id": "s-2", "account": "crm:events:C-77", "metric": "active_users", "value": 50, "at": now.isoformat()},
        {"id": "s-3", "account": "crm:events:C-77", "metric": "first_reply_hours", "value": 3,
         "at": (now - timedelta(days=1)).isoformat()}]}
    answer = client.post("/api/signals", headers=csm, json=batch)
    assert answer.status_code == 200, answer.text
    assert answer.json()["objective_measurements"] == 2
    again = client.post("/api/signals", headers=csm, json=batch)  # resent as is: nothing counts twice
    assert again.json()["objective_measurements"] == 0
    [read] = client.get("/api/accounts/crm:events:C-77/objectives", headers=csm).json()["items"]
    assert read["metric"] == "first_reply_hours"
    assert [(m["value"], m["source"]) for m in read["measurements"]] == [(14.0, "signal"), (3.0, "signal")]
    assert read["status"] == "achieved" and "3 reached the target 4" in read["reason"]
    with db.transaction(writer=False) as s:
        entry = s.scalars(select(AuditEntry).where(AuditEntry.action == "objective.status_changed")).one()
        assert (entry.actor, entry.details["new"]) == ("csm@vendor.example", "achieved")
