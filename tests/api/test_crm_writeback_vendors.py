"""Write-back to Salesforce (client credentials, sObject Collections) and Pipedrive (v2 custom fields), on fake
servers that answer as the vendors document: written once, a 401 then a fresh token, a deleted record dead
without blocking the others, a rate limit waited for, our own echo starting nothing."""
from __future__ import annotations

import shutil
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from journey import db
from journey.config import PROJECT_ROOT
from journey.kit import utcnow
from journey.models import CrmWrite
from tests.builders import drain
from tests.fixtures.crm import payloads as p
from tests.fixtures.crm.fake_writers import (
    PD_TOKEN,
    SF_CLIENT_ID,
    SF_CLIENT_SECRET,
    SF_USER,
    FakePipedrive,
    FakeSalesforce,
)

pytestmark = [pytest.mark.usefixtures("db_url"), pytest.mark.clock("2026-11-23T09:00:00Z")]
SF_URL = f"/webhooks/salesforce/{p.SALESFORCE_TOKEN}"
OPP = p.opportunity("0065g00000AAAAA1")
KEYS = {"health_band": "b" * 40, "plan_status": "c" * 40, "csm_email": None}  # deal fields
ORG_KEYS = {"health_band": "e" * 40, "url": "f" * 40}  # organization fields: keys of their own


@pytest.fixture(autouse=True)
def settings(monkeypatch, tmp_path):
    from journey.adapters.crm import salesforce_writer
    from journey.config import get_settings

    templates = tmp_path / "templates"
    shutil.copytree(PROJECT_ROOT / "templates", templates)
    pipedrive = templates / "crm" / "pipedrive.yaml"
    text = pipedrive.read_text().replace("    deal: {}\n", "    deal:\n" + "".join(
        f"      {k}: {v or 'null'}\n" for k, v in KEYS.items())).replace("    organization: {}\n", (
        "    organization:\n" + "".join(f"      {k}: {v}\n" for k, v in ORG_KEYS.items())))
    Path(pipedrive).write_text(text)
    for key, value in {"TEMPLATES_DIR": str(templates), "SALESFORCE_ORG_ID": p.SALESFORCE_ORG,
                       "SALESFORCE_PATH_TOKEN": p.SALESFORCE_TOKEN, "SALESFORCE_CLIENT_ID": SF_CLIENT_ID,
                       "SALESFORCE_CLIENT_SECRET": SF_CLIENT_SECRET,
                       "SALESFORCE_INSTANCE_URL": "https://acme.my.salesforce.test",
                       "PIPEDRIVE_USER": p.PIPEDRIVE_USER,
                       "PIPEDRIVE_PASSWORD": p.PIPEDRIVE_PASSWORD, "PIPEDRIVE_API_TOKEN": PD_TOKEN,
                       "PIPEDRIVE_API_BASE": "https://api.pipedrive.test"}.items():  # no integration ids: learned
        monkeypatch.setenv(f"JOURNEY_{key}", value)
    monkeypatch.setattr(salesforce_writer, "_TOKENS", {})
    get_settings.cache_clear()


@pytest.fixture
def fakes(monkeypatch):
    from flows import crm_steps as steps
    from journey.writeback import writers

    salesforce, pipedrive = FakeSalesforce(), FakePipedrive()
    salesforce.records["Account"] = {OPP["AccountId"]: {}}
    monkeypatch.setattr(steps, "pipedrive_transport", httpx.MockTransport(pipedrive))
    monkeypatch.setattr(writers, "transports", {"salesforce": httpx.MockTransport(salesforce),
                                                "pipedrive": httpx.MockTransport(pipedrive)})
    slept: list[float] = []
    monkeypatch.setattr(writers, "sleep", slept.append)
    return salesforce, pipedrive, slept


def _write() -> dict[str, int]:
    from journey.writeback.drain import drain_writeback

    return drain_writeback(utcnow())


def _rows(crm: str) -> dict[tuple[str, str], CrmWrite]:
    with db.transaction(writer=False) as session:
        rows = session.scalars(select(CrmWrite).where(CrmWrite.crm == crm))
        return {(r.object_type, r.object_id): r for r in rows}


def _sign_salesforce(client, **fields) -> None:
    r = client.post(SF_URL, content=p.salesforce_message({**OPP, **fields}),
                    headers={"content-type": "text/xml; charset=utf-8"})
    assert r.status_code == 200, r.text
    drain()


def _sign_pipedrive(client) -> None:
    assert client.post("/webhooks/pipedrive", content=p.dumps(p.pipedrive_v1()), headers=p.basic()).status_code == 202
    drain()


# ------------------------------------------------------------------------------------------------ Salesforce
def test_salesforce_opportunity_and_account_written_once_with_one_token(client, fakes) -> None:
    salesforce, _, _ = fakes
    _sign_salesforce(client)
    assert _write()["written"] == 2
    assert salesforce.tokens_issued == 1 and len(salesforce.collection_calls) == 2
    opportunity = salesforce.records["Opportunity"]["0065g00000AAAAA1"]
    assert opportunity["journey_go_live_date__c"] == "2027-01-15"
    assert opportunity["journey_packet_status__c"] in ("draft", "awaiting_ack")
    assert "journey_health_score__c" in opportunity  # empty values are written as clears (null)
    assert _write()["written"] == 0 and len(salesforce.collection_calls) == 2


def test_salesforce_expired_token_is_refreshed_once_and_the_write_goes_through(client, fakes) -> None:
    salesforce, _, _ = fakes
    _sign_salesforce(client)
    salesforce.tokens_issued = 0
    from journey.adapters.crm import salesforce_writer

    salesforce_writer._TOKENS[("https://acme.my.salesforce.test", SF_CLIENT_ID)] = "00D!stale"
    assert _write()["written"] == 2
    assert salesforce.tokens_issued == 1  # one refresh, reused for the Account batch


def test_salesforce_deleted_opportunity_is_dead_and_the_account_is_still_written(client, fakes) -> None:
    salesforce, _, _ = fakes
    _sign_salesforce(client)
    del salesforce.records["Opportunity"]["0065g00000AAAAA1"]
    assert _write() == {"written": 1, "unchanged": 0, "deferred": 0, "retry": 0, "dead": 1}
    dead = _rows("salesforce")[("deal", "0065g00000AAAAA1")]
    assert dead.status == "dead" and dead.error.startswith("ENTITY_IS_DELETED: entity is deleted")


def _identity(crm: str) -> str | None:
    from journey.writeback import repository

    with db.transaction(writer=False) as session:
        return repository.identity(session, crm)


@pytest.mark.parametrize("identity_url", [True, False])
def test_salesforce_echo_of_our_write_starts_nothing(client, admin, fakes, identity_url) -> None:
    """No JOURNEY_SALESFORCE_INTEGRATION_USER_ID: the run-as user is learned from the token's identity URL, or
    from /services/oauth2/userinfo when the token answer has none."""
    salesforce, _, _ = fakes
    salesforce.identity_url = identity_url
    _sign_salesforce(client)
    _write()
    assert _identity("salesforce") == SF_USER
    _sign_salesforce(client, LastModifiedById=SF_USER, LastModifiedDate="2026-11-23T09:00:05.000Z")
    event = client.get("/api/events?limit=10", headers=admin).json()["items"][-1]
    assert event["status"] == "ignored" and "own write-back" in event["error"]
    assert {r.status for r in _rows("salesforce").values()} == {"idle"}


# ------------------------------------------------------------------------------------------------- Pipedrive
def test_pipedrive_deal_and_organization_written_once_with_their_own_keys(client, fakes) -> None:
    _, pipedrive, _ = fakes
    _sign_pipedrive(client)
    assert _write()["written"] == 2
    assert sorted((kind, object_id) for kind, object_id, _ in pipedrive.patches) == [("deals", "812"),
                                                                                    ("organizations", "77")]
    assert set(pipedrive.records["deals"]["812"]) == {"b" * 40, "c" * 40}  # csm_email: null is not written
    organization = pipedrive.records["organizations"]["77"]
    assert set(organization) == {"e" * 40, "f" * 40}  # the url clears (no JOURNEY_PUBLIC_BASE_URL here)
    assert _write()["written"] == 0 and len(pipedrive.patches) == 2  # nothing changed: no second write


def test_pipedrive_rate_limit_is_waited_for_and_a_deleted_deal_is_dead(client, fakes) -> None:
    _, pipedrive, slept = fakes
    _sign_pipedrive(client)
    pipedrive.script = [httpx.Response(429, headers={"x-ratelimit-reset": "2"},
                                       json={"success": False, "error": "Too many requests"})]
    del pipedrive.records["deals"]["812"]
    result = _write()
    assert slept == [2.0] and result["dead"] == 1  # waited, then tried again
    assert [(kind, object_id) for kind, object_id, _ in pipedrive.patches] == [
        ("deals", "812"), ("deals", "812"), ("organizations", "77")]  # the organization is still written
    assert "Deal not found" in _rows("pipedrive")[("deal", "812")].error


def test_pipedrive_echo_of_our_write_starts_nothing(client, admin, fakes) -> None:
    _sign_pipedrive(client)
    _write()
    assert _identity("pipedrive") == "9100"  # /v1/users/me, no JOURNEY_PIPEDRIVE_INTEGRATION_USER_ID
    echo = p.pipedrive_v1()
    echo["meta"].update(change_source="api", user_id=9100, timestamp_micro=1795189600123456)
    echo["previous"] = {**echo["current"], "c" * 40: None}
    echo["current"]["c" * 40] = "on_time"
    assert client.post("/webhooks/pipedrive", content=p.dumps(echo), headers=p.basic()).status_code == 202
    drain()
    event = client.get("/api/events?limit=10", headers=admin).json()["items"][-1]
    assert event["status"] == "ignored" and "own write-back" in event["error"]


def test_setup_pipedrive_creates_the_fields_once_and_prints_their_keys(fakes) -> None:
    from typer.testing import CliRunner

    from journey.cli import app

    _, pipedrive, _ = fakes
    first = CliRunner().invoke(app, ["crm", "setup", "pipedrive"])
    assert first.exit_code == 0, first.output
    lines = first.output.splitlines()
    keys = [line.split(": ")[1] for line in lines if line.startswith("      ")]
    assert len(keys) == 28 and all(len(k) == 40 for k in keys)
    assert "    deal:" in lines and "    organization:" in lines
    deal_keys = set(keys[:14]) & {f["key"] for f in pipedrive.fields["/v1/dealFields"]}
    org_keys = set(keys[14:]) & {f["key"] for f in pipedrive.fields["/v1/organizationFields"]}
    assert len(deal_keys) == 14 and len(org_keys) == 14  # each object's keys, printed under its name
    again = CliRunner().invoke(app, ["crm", "setup", "pipedrive"])
    assert again.output == first.output and len(pipedrive.fields["/v1/dealFields"]) == 14
    assert len(pipedrive.fields["/v1/organizationFields"]) == 14
    score = next(f for f in pipedrive.fields["/v1/dealFields"] if f["name"] == "journey Health score")
    assert score["field_type"] == "double"


def test_setup_salesforce_lists_the_fields_and_names_the_missing_ones(fakes) -> None:
    from typer.testing import CliRunner

    from journey.cli import app

    salesforce, _, _ = fakes
    salesforce.missing = {"Account": {"journey_url__c"}}
    out = CliRunner().invoke(app, ["crm", "setup", "salesforce"])
    assert out.exit_code == 1
    assert "Opportunity  journey_health_score__c" in out.output and "Number(3, 0)" in out.output
    assert "missing: Account.journey_url__c" in out.output and SF_USER in out.output
    salesforce.missing = {}
    assert CliRunner().invoke(app, ["crm", "setup", "salesforce"]).exit_code == 0


def test_pipedrive_another_integrations_api_change_is_not_taken_for_our_echo(client, admin, fakes) -> None:
    """The token's user is known: an API change of journey's field by another user is an edit, undone."""
    _sign_pipedrive(client)
    _write()
    edit = p.pipedrive_v1()
    edit["meta"].update(change_source="api", user_id=5555, timestamp_micro=1795189600123456)
    edit["previous"] = {**edit["current"], "c" * 40: "on_time"}
    edit["current"]["c" * 40] = "done"
    assert client.post("/webhooks/pipedrive", content=p.dumps(edit), headers=p.basic()).status_code == 202
    drain()
    event = client.get("/api/events?limit=10", headers=admin).json()["items"][-1]
    assert "own write-back" not in (event["error"] or "") and "edited in the CRM" in event["error"]
    assert _rows("pipedrive")[("deal", "812")].status == "pending"  # journey writes its value back


def test_setup_prints_what_it_discovered_and_a_setting_overrides_it(fakes, monkeypatch) -> None:
    from typer.testing import CliRunner

    from journey.cli import app
    from journey.config import get_settings

    out = CliRunner().invoke(app, ["crm", "setup", "pipedrive"])
    assert "discovered API token's user id: 9100" in out.output and _identity("pipedrive") == "9100"
    out = CliRunner().invoke(app, ["crm", "setup", "salesforce"])
    assert f"discovered integration (run-as) user id: {SF_USER}" in out.output
    monkeypatch.setenv("JOURNEY_PIPEDRIVE_INTEGRATION_USER_ID", "7")
    get_settings.cache_clear()
    out = CliRunner().invoke(app, ["crm", "setup", "pipedrive"])
    assert "API token's user id: 7 (from JOURNEY_PIPEDRIVE_INTEGRATION_USER_ID)" in out.output


def test_pipedrive_nearly_spent_window_is_waited_for_before_each_write(client, fakes) -> None:
    _, pipedrive, slept = fakes
    _sign_pipedrive(client)
    pipedrive.headers = {"x-ratelimit-limit": "20", "x-ratelimit-remaining": "1", "x-ratelimit-reset": "2",
                         "x-daily-requests-left": "9000"}
    assert _write()["written"] == 2
    assert slept == [2.0, 2.0]  # after /v1/users/me and after the deal's PATCH: no 429 reached
    assert len(pipedrive.patches) == 2


def test_the_admin_inbox_shows_each_crms_lag(client, fakes, clock) -> None:
    from datetime import timedelta

    from journey.writeback import repository
    from tests.builders import member_with_password, sign_in

    _sign_salesforce(client)
    _sign_pipedrive(client)
    clock.shift(timedelta(seconds=12))  # the changes wait 12 s for the drain
    assert _write()["written"] == 4
    with db.transaction(writer=False) as session:
        lags = {c["crm"]: (c["idle"], c["lag_avg"], c["lag_max"]) for c in repository.summary(session)}
    assert set(lags) == {"salesforce", "pipedrive"}
    assert all(idle == 2 and avg >= 12 and peak >= avg for idle, avg, peak in lags.values())
    member_with_password("root@vendor.example", "admin")
    sign_in(client, "root@vendor.example")
    page = client.get("/admin/inbox").text
    rows = page[page.index("CRM write-back"):]
    assert "<td>pipedrive</td>" in rows and "<td>salesforce</td>" in rows
    assert rows.count(" s / ") == 2  # a lag for each CRM


def test_salesforce_api_requests_nearly_used_up_defer_the_account_to_a_later_drain(client, fakes, clock) -> None:
    from datetime import timedelta

    salesforce, _, _ = fakes
    _sign_salesforce(client)
    salesforce.headers = {"Sforce-Limit-Info": "api-usage=14900/15000"}
    result = _write()
    assert (result["written"], result["deferred"], result["retry"]) == (1, 1, 0)
    assert len(salesforce.collection_calls) == 1  # the Opportunity went; the Account's call was not made
    account = _rows("salesforce")[("company", OPP["AccountId"])]
    assert account.status == "pending" and account.attempts == 0 and "14900/15000" in account.error
    clock.shift(timedelta(hours=1, seconds=1))
    salesforce.headers = {"Sforce-Limit-Info": "api-usage=200/15000"}  # the rolling day moved on
    assert _write()["written"] == 1 and {r.status for r in _rows("salesforce").values()} == {"idle"}
