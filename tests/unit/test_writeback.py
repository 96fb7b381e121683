"""The write-back's pure parts: values, changes, the mapping section, echoes, HubSpot's batch answers."""
from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from journey.adapters.crm import echoes
from journey.adapters.crm.hubspot_writer import HubSpotWriter
from journey.adapters.crm.mapping import MappingError, load_mapping
from journey.adapters.crm.writer import RecordUpdate
from journey.onboarding.lifecycle import TaskOutcome
from journey.writeback import domain

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
TODAY = NOW.date()


@pytest.mark.parametrize(("now", "before", "expected"), [
    (70, 60, "up"), (60, 70, "down"), (62, 60, "flat"), (65, 60, "up"), (None, 60, None), (60, None, None)])
def test_trend_over_30_days(now, before, expected) -> None:
    assert domain.trend(now, before) == expected


def _journey(status="active", tasks=(), **kw) -> domain.JourneyFacts:
    return domain.JourneyFacts(journey_id=kw.pop("journey_id", 1), status=status, tasks=tasks, **kw)


@pytest.mark.parametrize(("journey", "expected"), [
    (_journey("paused", (TaskOutcome("todo", TODAY - timedelta(days=3)),)), "paused"),
    (_journey(tasks=(TaskOutcome("done", TODAY, TODAY), TaskOutcome("skipped", TODAY))), "done"),
    (_journey("completed", ()), "done"),
    (_journey(tasks=(TaskOutcome("todo", TODAY - timedelta(days=1)),)), "late"),
    (_journey(tasks=(TaskOutcome("in_progress", TODAY),)), "on_time"),
    (_journey(tasks=()), None)])
def test_plan_status(journey, expected) -> None:
    assert domain.plan_status(journey, TODAY) == expected


def test_values_of_a_deal_come_from_its_journey_and_the_company_shows_the_latest() -> None:
    old = _journey(journey_id=1, go_live=date(2026, 1, 1), packet_state="accepted", objectives=("achieved",))
    new = _journey(journey_id=2, go_live=date(2027, 1, 15), packet_state="awaiting_ack",
                   objectives=("achieved", "on_track", "at_risk"),
                   reviews=(domain.ReviewFact("90_day", "proposed", date(2027, 4, 15)),
                            domain.ReviewFact("kickoff", "held", date(2026, 11, 20),
                                              held_at=datetime(2026, 11, 20, 15, tzinfo=UTC)),
                            domain.ReviewFact("3_month", "cancelled", date(2027, 2, 1))),
                   tasks=(TaskOutcome("done", TODAY - timedelta(days=2), TODAY - timedelta(days=3)),
                          TaskOutcome("todo", TODAY - timedelta(days=1))))
    account = domain.AccountFacts(account_id=7, score=71.6, band="green", score_30_days_ago=60.0,
                                  csm_email="c@x.example", url="https://j.example/accounts/7",
                                  journeys={10: old, 20: new})
    company = domain.journey_values(account, None, now=NOW)
    assert company == {"health_score": 72, "health_band": "green", "health_trend": "up", "plan_status": "late",
                       "plan_on_time_pct": 50, "go_live_date": "2027-01-15", "next_review_date": "2027-04-15",
                       "next_review_kind": "90_day", "packet_status": "awaiting_ack", "objectives_met": "1/3",
                       "last_review_date": "2026-11-20", "csm_email": "c@x.example", "am_email": None,
                       "url": "https://j.example/accounts/7"}
    assert domain.journey_values(account, 10, now=NOW)["packet_status"] == "accepted"
    assert domain.journey_values(account, 99, now=NOW)["plan_status"] is None  # a deal without a journey


def test_changed_keeps_differences_and_clears_and_never_written_properties() -> None:
    sent = {"a": 1, "b": "x", "c": "gone"}
    assert domain.changed({"a": 1, "b": "y", "c": None, "d": None}, sent) == {"b": "y", "c": None, "d": None}
    assert domain.changed({"a": 1}, sent) == {}


def test_same_and_edited_compare_as_a_crm_shows_values() -> None:
    assert domain.same("72", 72) and domain.same("72.0", 72) and domain.same("", None)
    assert not domain.same("done", "on_time") and not domain.same("", "x")
    assert domain.edited({"p": "done", "q": "72", "r": "x"}, {"p": "on_time", "q": 72}) == {"p": "done"}


def test_due_at_respects_the_minimum_interval() -> None:
    assert domain.due_at(NOW, acked_at=None, min_interval=30) == NOW
    assert domain.due_at(NOW, acked_at=NOW - timedelta(seconds=10), min_interval=30) == NOW + timedelta(seconds=20)
    assert domain.backoff(1, retry_after=300) == timedelta(seconds=300)
    assert domain.backoff(20) == timedelta(hours=1)


# ------------------------------------------------------------------------------------------------ mapping
def _mapping(tmp_path: Path, vendor: str, text: str):  # type: ignore[no-untyped-def]
    path = tmp_path / f"{vendor}.yaml"
    path.write_text(text)
    return load_mapping(path, vendor)


def test_write_back_defaults_null_turns_a_value_off_and_salesforce_suffixes(tmp_path) -> None:
    mapping = _mapping(tmp_path, "hubspot", "write_back:\n  fields:\n    csm_email: null\n    health_score: hs_x\n")
    fields = mapping.write_back.fields_for("deal")
    assert fields["health_score"] == "hs_x" and "csm_email" not in fields and fields["url"] == "journey_url"
    assert mapping.write_back.fields_for("company") == fields  # the flat form maps every object alike
    salesforce = _mapping(tmp_path, "salesforce", "").write_back
    assert salesforce.fields_for("company")["plan_status"] == "journey_plan_status__c"
    assert _mapping(tmp_path, "pipedrive", "write_back:\n  enabled: false\n").write_back.enabled is False


def test_write_back_per_object_fields_for_pipedrive_deals_and_organizations(tmp_path) -> None:
    text = ("write_back:\n  fields:\n    deal:\n      health_score: " + "d" * 40 + "\n      url: " + "u" * 40 +
            "\n    organization:\n      health_score: " + "o" * 40 + "\n")
    write_back = _mapping(tmp_path, "pipedrive", text).write_back
    assert write_back.objects == ("deal", "company")
    assert write_back.fields_for("deal") == {"health_score": "d" * 40, "url": "u" * 40}
    assert write_back.fields_for("company") == {"health_score": "o" * 40}
    assert write_back.properties() == {"d" * 40, "u" * 40, "o" * 40}
    deals_only = _mapping(tmp_path, "pipedrive", "write_back:\n  fields:\n    deal: {health_band: " + "b" * 40 + "}\n")
    assert deals_only.write_back.objects == ("deal",)  # no organization field: organizations are not written
    assert _mapping(tmp_path, "pipedrive", "").write_back.objects == ()  # no key yet: nothing to write
    hubspot = _mapping(tmp_path, "hubspot", "write_back:\n  fields:\n    company: {health_score: null}\n").write_back
    assert "health_score" not in hubspot.fields_for("company") and hubspot.fields_for("deal")["health_score"]


@pytest.mark.parametrize(("text", "message"), [
    ("write_back:\n  fields:\n    deal: {}\n    health_score: x\n", "'health_score' is not an object"),
    ("write_back:\n  fields:\n    deal: [a]\n", "write_back.fields.deal must map journey values"),
    ("write_back:\n  fields:\n    company: {health: x}\n", "write_back.fields.company: unknown journey value"),
])
def test_write_back_per_object_problems(tmp_path, text, message) -> None:
    with pytest.raises(MappingError) as caught:
        _mapping(tmp_path, "pipedrive", text)
    assert message in str(caught.value)


def test_write_back_problems_name_the_line(tmp_path) -> None:
    with pytest.raises(MappingError) as caught:
        _mapping(tmp_path, "hubspot", "write_back:\n  enabled: maybe\n  objects: [deal, ticket]\n"
                                      "  fields:\n    health: x\n    url: a\n    am_email: a\n")
    text = str(caught.value)
    assert "line 2: write_back.enabled must be true or false" in text
    assert "line 3: write_back.objects" in text and "line 5: write_back.fields: unknown journey value 'health'" in text
    assert "property 'a' is named twice" in text


# ------------------------------------------------------------------------------------------------- echoes
PROPS = frozenset({"journey_health_score", "journey_plan_status"})


def test_hubspot_echo_and_a_persons_edit() -> None:
    ours = {"subscriptionType": "deal.propertyChange", "propertyName": "journey_health_score", "objectId": 1,
            "propertyValue": "72", "changeSource": "INTEGRATION", "sourceId": "1160452"}
    assert echoes.hubspot(ours, PROPS, app_id=None).echo
    assert echoes.hubspot(ours, PROPS, app_id="1160452").echo
    assert not echoes.hubspot(ours, PROPS, app_id="999").echo  # another integration's write is an edit
    person = {**ours, "changeSource": "CRM_UI", "sourceId": "userId:12"}
    seen = echoes.hubspot(person, PROPS, app_id=None)
    assert seen and not seen.echo and seen.seen == {"journey_health_score": "72"} and seen.only_journey
    assert echoes.hubspot({**ours, "propertyName": "amount"}, PROPS, app_id=None) is None


def test_salesforce_echo_is_the_integration_users_modification() -> None:
    stored = {"sobject_type": "Opportunity", "fields": {"Id": "006A", "LastModifiedById": "005000000000001AAA",
                                                         "journey_health_score": "72.0"}}
    assert echoes.salesforce(stored, PROPS, integration_user="005000000000001").echo
    other = echoes.salesforce(stored, PROPS, integration_user="005000000000002")
    assert other and not other.echo and other.seen == {"journey_health_score": "72.0"}


def test_pipedrive_v2_echo_only_journey_fields_and_a_mixed_change() -> None:
    key = "a" * 40
    body = {"meta": {"version": "2.0", "entity": "deal", "entity_id": "5", "change_source": "api", "user_id": 77},
            "data": {"id": 5, "custom_fields": {key: {"value": 72}}},
            "previous": {"custom_fields": {key: None}, "update_time": "x"}}
    assert echoes.pipedrive(body, frozenset({key}), integration_user="77").echo
    person = {**body, "meta": {**body["meta"], "change_source": "app", "user_id": 12}}
    seen = echoes.pipedrive(person, frozenset({key}), integration_user="77")
    assert seen and not seen.echo and seen.only_journey and seen.seen == {key: 72}
    mixed = {**person, "previous": {**person["previous"], "value": 10}}
    assert not echoes.pipedrive(mixed, frozenset({key}), integration_user="77").only_journey


# -------------------------------------------------------------------------------------------- HubSpot writer
def test_a_400_batch_is_halved_until_the_bad_record_alone_is_dead() -> None:
    calls = []

    def handler(request: httpx.Request) -> httpx.Response:
        inputs = json.loads(request.content)["inputs"]
        calls.append(len(inputs))
        if any(i["id"] == "3" for i in inputs):
            return httpx.Response(400, json={"status": "error", "category": "VALIDATION_ERROR",
                                             "message": "Property values were not valid: journey_go_live_date"})
        return httpx.Response(200, json={"status": "COMPLETE", "results": []})

    writer = HubSpotWriter(base_url="https://api.hubapi.test", token="t", transport=httpx.MockTransport(handler))
    updates = [RecordUpdate("deal", str(i), {"journey_go_live_date": "2027-01-15"}) for i in range(8)]
    outcomes = writer.write(updates)
    assert [k for k, o in outcomes.items() if o.result == "dead"] == [("deal", "3")]
    assert "VALIDATION_ERROR" in outcomes[("deal", "3")].error
    assert calls[0] == 8 and len(calls) <= 8
