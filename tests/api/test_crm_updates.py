"""CRM deliveries that change a signed deal (go-live, seats, amount) are the same update as `deal.updated`;
and the bad input of the Salesforce and Pipedrive routes (negative amount, unknown stage, RTL / emoji name).

Payload shapes: tests/fixtures/crm/payloads.py (and the documentation it cites). HubSpot date properties
arrive in `propertyValue` as epoch milliseconds at midnight UTC ("Webhooks API"; "Properties API": date
properties); a Salesforce Outbound Message carries every field its action lists, changed or not;
Pipedrive v2 `previous` holds only the changed fields, custom fields under `custom_fields` ("Webhooks v2
migration guide"), v1 `previous` the whole deal before the change ("Guide for Webhooks").
"""
from __future__ import annotations

import copy
from datetime import UTC, datetime

import pytest

from tests.api.test_crm_webhooks import (  # noqa: F401 - fixtures
    SF_HEADERS,
    SF_URL,
    _events,
    _journeys,
    _post_hubspot,
    crm_settings,
    fake_hubspot,
)
from tests.builders import drain
from tests.fixtures.crm import payloads as p

pytestmark = pytest.mark.usefixtures("db_url")
GO_LIVE_KEY = "5b1e2c3d4e5f60718293a4b5c6d7e8f901234567"  # a Pipedrive custom field key


def _ms(day: str) -> str:
    return str(int(datetime.fromisoformat(day).replace(tzinfo=UTC).timestamp() * 1000))


def _plan(client, admin, account: str) -> dict:
    return client.get(f"/api/accounts/{account}/plan", headers=admin).json()


def _dues(plan: dict) -> dict[str, str]:
    return {t["key"]: t["due_on"] for m in plan["milestones"] for t in m["tasks"]}


def _deal(source: str, external_id: str):
    from journey import db
    from journey.deals import repository

    with db.transaction(writer=False) as session:
        deal = repository.deal_by_crm(session, source=source, external_id=external_id)
        return None if deal is None else (deal.expected_go_live, deal.seats, deal.amount)


# ------------------------------------------------------------------------------------------------ HubSpot
@pytest.mark.usefixtures("fake_hubspot")
def test_hubspot_go_live_changes_out_of_order_end_at_the_newest_and_move_the_plan(client, admin):
    _post_hubspot(client, [p.hubspot_event(1001, at=p.T0)])
    assert drain() == ["processed"]
    before = _plan(client, admin, "crm:hubspot:9001")
    assert before["go_live_on"] == "2027-01-15"
    newer = p.hubspot_event(1001, prop="go_live_date", value=_ms("2027-03-01"), at=p.T0 + 120_000, event_id=7)
    older = p.hubspot_event(1001, prop="go_live_date", value=_ms("2027-02-01"), at=p.T0 + 60_000, event_id=6)
    seats = p.hubspot_event(1001, prop="seats", value="150", at=p.T0 + 90_000, event_id=8)
    _post_hubspot(client, [newer, older, seats])  # delivery order, not occurrence order
    assert drain() == ["processed", "processed", "processed"]
    plan = _plan(client, admin, "crm:hubspot:9001")
    assert plan["go_live_on"] == "2027-03-01"
    [slip] = plan["slips"]
    assert (slip["from"], slip["to"], slip["reason"], slip["actor_kind"]) == (
        "2027-01-15", "2027-03-01", "expected go-live changed in HubSpot", "flow")
    assert {k for k, due in _dues(plan).items() if due != _dues(before)[k]}  # go-live tasks moved
    assert _deal("hubspot", "1001")[:2] == (datetime(2027, 3, 1).date(), 150)
    notes = [e["error"] for e in _events(client, admin)]
    assert "kept the newer value of expected_go_live" in notes[2] and "updated from HubSpot: seats" in notes[3]


def test_hubspot_change_of_an_unmapped_property_or_of_a_deal_without_journey_updates_nothing(client, admin,
                                                                                          fake_hubspot):  # noqa: F811
    _post_hubspot(client, [p.hubspot_event(1002, prop="go_live_date", value=_ms("2027-03-01")),
                           p.hubspot_event(1002, prop="description", value="hello", event_id=2)])
    drain()
    assert [e["status"] for e in _events(client, admin)] == ["ignored", "ignored"]
    notes = sorted(e["error"] for e in _events(client, admin))
    assert "is not a stage change" in notes[0] and "has no journey yet" in notes[1]
    assert _deal("hubspot", "1002") is None and not fake_hubspot.requests


# --------------------------------------------------------------------------------------------- Salesforce
def test_salesforce_message_with_changed_fields_updates_the_deal_and_an_older_one_does_not(client, admin):
    opp = "0065g00000AAAAU1"
    account = "crm:salesforce:0015g00000" + opp[-8:]
    client.post(SF_URL, content=p.salesforce_message(p.opportunity(opp)), headers=SF_HEADERS)
    assert drain() == ["processed"]
    changed = {**p.opportunity(opp, modified="2026-11-22T10:00:00.000Z"), "Go_Live_Date__c": "2027-02-20",
               "Seats__c": "150"}
    older = {**p.opportunity(opp, modified="2026-11-21T10:00:00.000Z"), "Go_Live_Date__c": "2027-04-01"}
    for message in (changed, older, changed | {"LastModifiedDate": "2026-11-23T10:00:00.000Z"}):
        assert client.post(SF_URL, content=p.salesforce_message(message), headers=SF_HEADERS).status_code == 200
        drain()
    plan = _plan(client, admin, account)
    assert plan["go_live_on"] == "2027-02-20"
    assert [(s["to"], s["reason"]) for s in plan["slips"]] == [("2027-02-20", "expected go-live changed in Salesforce")]
    assert _deal("salesforce", opp)[:2] == (datetime(2027, 2, 20).date(), 150)
    statuses = [(e["status"], e["error"] or "") for e in _events(client, admin)]
    assert "updated from Salesforce: expected_go_live, seats" in statuses[1][1]
    assert statuses[2][0] == "ignored" and "older than" in statuses[2][1]
    assert [j["status"] for j in _journeys(client, admin, f"crm:salesforce:{opp}")] == ["active"]


@pytest.mark.parametrize(("case", "fields"), [
    ("negative amount", {"Amount": "-500.0"}),
    ("unknown stage", {"StageName": "Mystery Stage", "IsWon": None, "IsClosed": None}),
    ("rtl and emoji name", {"Account_Name__c": "שלום Acme 🚀 مرحبا"}),
])
def test_salesforce_bad_input(client, admin, case, fields) -> None:
    opp = p.opportunity("0065g00000AAAAB1") | fields
    opp = {k: v for k, v in opp.items() if v is not None}
    r = client.post(SF_URL, content=p.salesforce_message(opp), headers=SF_HEADERS)
    assert r.status_code == 200 and "<Ack>true</Ack>" in r.text
    drain()
    [event] = _events(client, admin)
    journeys = _journeys(client, admin, "crm:salesforce:0065g00000AAAAB1")
    if case == "unknown stage":
        assert (event["status"], journeys) == ("ignored", [])
        assert "Mystery Stage" in event["error"]
        return
    assert event["status"] == "processed" and len(journeys) == 1
    if case == "negative amount":
        assert "deal.amount" in event["error"] and _deal("salesforce", "0065g00000AAAAB1")[2] is None
    else:
        account = client.get(f"/api/accounts/crm:salesforce:{opp['AccountId']}", headers=admin).json()
        assert account["name"] == fields["Account_Name__c"]


# ---------------------------------------------------------------------------------------------- Pipedrive
@pytest.fixture
def pipedrive_go_live(monkeypatch, tmp_path):
    """The mapping a user writes to feed go-live from a custom field (templates/crm/pipedrive.yaml's example)."""
    from flows import crm_steps as steps
    from journey.adapters.crm import mapping as crm_mapping

    path = tmp_path / "pipedrive.yaml"
    path.write_text(f"fields:\n  account.name: org_name\n  owners.ae: user_id\n"
                    f"  deal.expected_go_live: {GO_LIVE_KEY}\n", encoding="utf-8")
    mapped = crm_mapping.load_mapping(path, "pipedrive")
    real = steps._mapping
    monkeypatch.setattr(steps, "_mapping", lambda source: mapped if source == "pipedrive" else real(source))


def test_pipedrive_v2_go_live_and_value_change_updates_the_deal_and_moves_the_plan(client, admin,
                                                                                   pipedrive_go_live):
    won = copy.deepcopy(p.PIPEDRIVE_V2)
    won["data"]["custom_fields"] = {GO_LIVE_KEY: {"type": "date", "value": "2027-01-15"}}
    client.post("/webhooks/pipedrive", content=p.dumps(won), headers=p.basic())
    assert drain() == ["processed"]
    change = copy.deepcopy(won)
    change["data"].update(value=15000, custom_fields={GO_LIVE_KEY: {"type": "date", "value": "2027-02-10"}})
    change["previous"] = {"value": 12000, "custom_fields": {GO_LIVE_KEY: {"type": "date", "value": "2027-01-15"}}}
    change["meta"].update(id="0b7f4f9e-0000-4000-8000-00000000abce", timestamp="2026-11-21T09:00:00.000Z")
    client.post("/webhooks/pipedrive", content=p.dumps(change), headers=p.basic())
    assert drain() == ["processed"]
    plan = _plan(client, admin, "crm:pipedrive:88")
    assert plan["go_live_on"] == "2027-02-10"
    assert [s["reason"] for s in plan["slips"]] == ["expected go-live changed in Pipedrive"]
    assert str(_deal("pipedrive", "913")[2]) == "15000.00"


def test_pipedrive_v1_go_live_change_compares_current_with_previous(client, admin, pipedrive_go_live):
    won = p.pipedrive_v1(**{GO_LIVE_KEY: "2027-01-15"})
    client.post("/webhooks/pipedrive", content=p.dumps(won), headers=p.basic())
    assert drain() == ["processed"]
    change = p.pipedrive_v1(**{GO_LIVE_KEY: "2027-03-03"})
    change["previous"].update(status="won", **{GO_LIVE_KEY: "2027-01-15"})
    change["meta"].update(timestamp=1795190000, timestamp_micro=1795190000000000)
    client.post("/webhooks/pipedrive", content=p.dumps(change), headers=p.basic())
    assert drain() == ["processed"]
    assert _plan(client, admin, "crm:pipedrive:77")["go_live_on"] == "2027-03-03"


@pytest.mark.parametrize("case", ["negative amount", "unknown stage", "rtl and emoji name"])
def test_pipedrive_bad_input(client, admin, case) -> None:
    name = "שלום Acme 🚀 مرحبا"
    if case == "negative amount":
        body = p.pipedrive_v1(value=-500)
    elif case == "unknown stage":
        body = copy.deepcopy(p.PIPEDRIVE_V2)
        body["data"].update(status="open", stage_id=999, pipeline_id=77)
        body["previous"] = {"status": "lost", "stage_id": 998}
    else:
        body = p.pipedrive_v1(org_name=name)
    assert client.post("/webhooks/pipedrive", content=p.dumps(body), headers=p.basic()).status_code == 202
    drain()
    [event] = _events(client, admin)
    deal = "913" if case == "unknown stage" else "812"
    journeys = _journeys(client, admin, f"crm:pipedrive:{deal}")
    if case == "unknown stage":
        assert (event["status"], journeys) == ("ignored", [])
        return
    assert event["status"] == "processed" and len(journeys) == 1
    if case == "negative amount":
        assert "deal.amount" in event["error"] and _deal("pipedrive", "812")[2] is None
    else:
        assert client.get("/api/accounts/crm:pipedrive:77", headers=admin).json()["name"] == name
