"""CRM write-back end to end on a fake HubSpot: a signed deal's values written once, bursts coalesced, rate
limits waited for, dead writes visible and resent, our own echo starting nothing, a person's edit undone."""
from __future__ import annotations

import json
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from journey import db
from journey.kit import utcnow
from journey.models import AuditEntry, CrmWrite
from tests.builders import drain
from tests.fixtures.crm import payloads as p
from tests.fixtures.crm.fake_hubspot import TOKEN, FakeHubSpotCrm

pytestmark = [pytest.mark.usefixtures("db_url"), pytest.mark.clock("2026-11-23T09:00:00Z")]


@pytest.fixture(autouse=True)
def crm_settings(monkeypatch):
    from journey.config import get_settings

    monkeypatch.setenv("JOURNEY_HUBSPOT_CLIENT_SECRET", p.HUBSPOT_SECRET)
    monkeypatch.setenv("JOURNEY_HUBSPOT_ACCESS_TOKEN", TOKEN)
    monkeypatch.setenv("JOURNEY_HUBSPOT_API_BASE", "https://api.hubapi.test")
    monkeypatch.setenv("JOURNEY_PUBLIC_BASE_URL", "https://journey.example")
    get_settings.cache_clear()


@pytest.fixture
def hubspot(monkeypatch):
    from flows import crm_steps as steps
    from journey.writeback import writers

    fake = FakeHubSpotCrm()
    transport = httpx.MockTransport(fake)
    monkeypatch.setattr(steps, "hubspot_transport", transport)
    monkeypatch.setattr(writers, "transports", {"hubspot": transport})
    slept: list[float] = []
    monkeypatch.setattr(writers, "sleep", slept.append)
    fake.slept = slept  # type: ignore[attr-defined]
    return fake


def _post(client, *events: dict) -> None:
    body = p.dumps(list(events))
    headers = p.hubspot_signed(body, uri="https://journey.example/webhooks/hubspot")  # JOURNEY_PUBLIC_BASE_URL
    assert client.post("/webhooks/hubspot", content=body, headers=headers).status_code == 202


def _sign(client, deal_id: int = 1001) -> None:
    _post(client, p.hubspot_event(deal_id, value="closedwon", event_id=deal_id))
    assert drain() == ["processed"]


def _write(now=None) -> dict[str, int]:
    from journey.writeback.drain import drain_writeback

    return drain_writeback(now or utcnow())


def _current(object_type: str, object_id: str) -> dict[str, str]:
    """What journey would write to the record now, as HubSpot holds it (text)."""
    from journey.adapters.crm.hubspot_writer import encode
    from journey.writeback.drain import sync_all

    changes = sync_all(utcnow(), dry_run=True)["changes"]
    found = next(c for c in changes if (c["object_type"], c["object_id"]) == (object_type, object_id))
    return {k: encode(v) for k, v in found["properties"].items()}


def _rows() -> dict[tuple[str, str], CrmWrite]:
    with db.transaction(writer=False) as session:
        return {(r.object_type, r.object_id): r for r in session.scalars(select(CrmWrite))}


def test_a_signed_deal_ends_with_its_values_written_once_on_the_deal_and_its_company(client, admin, hubspot):
    _sign(client)
    result = _write()
    assert result["written"] == 2 and result["dead"] == 0
    assert [path for path, _ in hubspot.batch_calls] == ["deals", "companies"]
    deal = hubspot.written["deals"]["1001"]
    account = client.get("/api/accounts/crm:hubspot:9001", headers=admin).json()
    assert deal["journey_csm_email"] == "csm@vendor.example"
    assert deal["journey_plan_status"] in ("on_time", "late")
    assert deal["journey_packet_status"] in ("draft", "awaiting_ack")
    assert deal["journey_go_live_date"] == "2027-01-15"
    assert deal["journey_url"] == f"https://journey.example/accounts/{account['id']}"
    assert deal["journey_next_review_kind"] and deal["journey_next_review_date"]
    assert hubspot.written["companies"]["9001"]["journey_csm_email"] == "csm@vendor.example"
    assert _write()["written"] == 0 and len(hubspot.batch_calls) == 2  # nothing changed: no call
    rows = _rows()
    assert rows[("deal", "1001")].status == "idle" and rows[("deal", "1001")].lag_seconds is not None


def test_a_burst_of_50_changes_to_one_account_is_at_most_two_writes(client, admin, hubspot, clock):
    _sign(client)
    _write()
    plan = client.get("/api/accounts/crm:hubspot:9001/plan", headers=admin).json()
    task = next(t for m in plan["milestones"] for t in m["tasks"] if t["status"] == "todo")
    before = hubspot.writes_of("deals", "1001")
    for n in range(50):
        action = "done" if n % 2 == 0 else "reopen"
        r = client.patch(f"/api/tasks/{task['id']}", json={"action": action}, headers=admin)
        assert r.status_code == 200, r.text
        _write()  # the scheduler drains every 15 s; here after every change
    clock.shift(timedelta(seconds=31))
    _write()
    assert hubspot.writes_of("deals", "1001") - before <= 2
    assert hubspot.written["deals"]["1001"] == _current("deal", "1001")  # the latest values, not an older one
    assert _rows()[("deal", "1001")].status == "idle"


def test_a_rate_limited_crm_is_waited_for_and_nothing_is_lost(client, hubspot, clock):
    _sign(client)
    _sign(client, 1002)
    hubspot.script = [httpx.Response(429, headers={"Retry-After": "1"}, json={"status": "error",
                                                                              "category": "RATE_LIMITS"})]
    assert _write()["written"] == 3  # a short wait is waited out in place
    assert hubspot.slept == [1.0]
    with db.transaction() as session:  # everything is to be written again; HubSpot now asks for two minutes
        from journey.writeback import repository

        rows = session.scalars(select(CrmWrite)).all()
        refs = [repository.ObjectRef(r.crm, r.object_type, r.object_id, r.account_id, r.deal_id) for r in rows]
        repository.mark(session, refs, now=utcnow())
        repository.forget_sent(session, refs)
    clock.shift(timedelta(seconds=31))
    hubspot.script = [httpx.Response(429, headers={"Retry-After": "120"}, json={"status": "error"})] * 4
    assert _write()["retry"] >= 2
    assert {r.status for r in _rows().values()} == {"pending"}
    clock.shift(timedelta(seconds=125))
    hubspot.script = []
    assert _write()["written"] == 3
    assert {r.status for r in _rows().values()} == {"idle"}


def test_a_deleted_deal_is_a_dead_write_that_does_not_block_the_others_and_can_be_resent(client, hubspot):
    _sign(client)
    del hubspot.deals["1001"]  # deleted in HubSpot after it signed
    result = _write()
    assert result == {"written": 1, "unchanged": 0, "deferred": 0, "retry": 0, "dead": 1}
    dead = _rows()[("deal", "1001")]
    assert dead.status == "dead" and "OBJECT_NOT_FOUND" in dead.error and "may be deleted" in dead.error
    assert "9001" in hubspot.written["companies"]
    runner = CliRunner()
    from journey.cli import app

    listed = runner.invoke(app, ["outbox", "list", "--status", "dead"])
    assert listed.exit_code == 0 and f"crm-{dead.id}" in listed.output and "OBJECT_NOT_FOUND" in listed.output
    hubspot.deals["1001"] = p.hubspot_deal(1001)  # restored from the recycle bin
    resent = runner.invoke(app, ["outbox", "resend", f"crm-{dead.id}"])
    assert resent.exit_code == 0, resent.output
    assert _write()["written"] == 1 and _rows()[("deal", "1001")].status == "idle"


def test_an_unknown_property_is_dead_with_hubspots_words_until_setup_then_sync_writes_it(client, hubspot):
    hubspot.defined.discard("journey_health_trend")
    _sign(client)
    assert _write()["dead"] == 2
    assert "PROPERTY_DOESNT_EXIST" in _rows()[("deal", "1001")].error
    assert len(hubspot.batch_calls) == 2  # one call per object type: not halved record by record
    hubspot.defined.add("journey_health_trend")
    from journey.cli import app

    out = CliRunner().invoke(app, ["crm", "sync"])
    assert out.exit_code == 0, out.output
    assert {r.status for r in _rows().values()} == {"idle"}


def test_a_refused_token_is_dead_for_every_record_with_the_reason(client, hubspot, monkeypatch):
    _sign(client)
    from journey.config import get_settings

    monkeypatch.setenv("JOURNEY_HUBSPOT_ACCESS_TOKEN", "pat-revoked")
    get_settings.cache_clear()
    assert _write()["dead"] == 2
    assert "refused the token (401)" in _rows()[("company", "9001")].error


def _identity() -> str | None:
    from journey.writeback import repository

    with db.transaction(writer=False) as session:
        return repository.identity(session, "hubspot")


def test_our_own_writes_echo_starts_nothing(client, admin, hubspot):
    """No JOURNEY_HUBSPOT_APP_ID: the app id is learned from the token's info before the first write."""
    _sign(client)
    _write()
    assert _identity() == "1160452"
    echo = p.hubspot_event(1001, value="72", event_id=9, at=p.T0 + 5000, prop="journey_health_score")
    echo.update(changeSource="INTEGRATION", sourceId="1160452")
    _post(client, echo)
    drain()
    event = client.get("/api/events?limit=10", headers=admin).json()["items"][-1]
    assert event["status"] == "ignored" and "own write-back" in event["error"]
    assert {r.status for r in _rows().values()} == {"idle"}
    assert _write()["written"] == 0 and len(hubspot.batch_calls) == 2


def test_a_person_editing_a_journey_property_is_recorded_and_journey_writes_its_value_back(client, admin, hubspot,
                                                                                            clock):
    _sign(client)
    _write()
    ours = hubspot.written["deals"]["1001"]["journey_plan_status"]
    edit = p.hubspot_event(1001, value="done", event_id=10, at=p.T0 + 6000, prop="journey_plan_status")
    edit.update(changeSource="CRM_UI", sourceId="userId:1234")
    _post(client, edit)
    drain()
    event = client.get("/api/events?limit=10", headers=admin).json()["items"][-1]
    assert event["status"] == "ignored" and "journey_plan_status edited in the CRM" in event["error"]
    with db.transaction(writer=False) as session:
        entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "crm.field_edited")).one()
        assert entry.details["fields"] == ["journey_plan_status"]
    clock.shift(timedelta(seconds=31))
    assert _write()["written"] == 1
    _, inputs = hubspot.batch_calls[-1]
    assert inputs == [{"id": "1001", "properties": {"journey_plan_status": ours}}]


def test_sync_dry_run_shows_the_values_and_writes_nothing(client, hubspot):
    _sign(client)
    from journey.cli import app

    out = CliRunner().invoke(app, ["crm", "sync", "--dry-run", "--json", "--account", "crm:hubspot:9001"])
    assert out.exit_code == 0, out.output
    result = json.loads(out.output)
    assert result["accounts"] == 1 and {c["object_type"] for c in result["changes"]} == {"deal", "company"}
    assert not hubspot.batch_calls


def test_setup_hubspot_creates_the_group_and_properties_once(client, hubspot):
    from journey.cli import app

    hubspot.defined = set()  # a portal where setup never ran
    first = CliRunner().invoke(app, ["crm", "setup", "hubspot"])
    assert first.exit_code == 0, first.output
    assert "created deals: group" in first.output and "created companies: journey_health_score" in first.output
    again = CliRunner().invoke(app, ["crm", "setup", "hubspot"])
    assert again.exit_code == 0 and "created" not in again.output and again.output.count("exists") == 30
    _sign(client)
    assert _write()["written"] == 2
    created = [json.loads(r.content) for r in hubspot.requests if r.url.path == "/crm/v3/properties/deals"]
    score = next(c for c in created if c["name"] == "journey_health_score")
    assert (score["type"], score["fieldType"], score["groupName"]) == ("number", "number", "journey")


def test_the_admin_inbox_shows_the_lag_per_crm_and_resends_a_dead_write(client, hubspot, monkeypatch):
    from journey.config import get_settings
    from tests.builders import member_with_password, sign_in, web_csrf

    _sign(client)
    del hubspot.deals["1001"]
    _write()
    dead = _rows()[("deal", "1001")]
    monkeypatch.delenv("JOURNEY_PUBLIC_BASE_URL")  # the test client signs in over http://testserver
    get_settings.cache_clear()
    member_with_password("root@vendor.example", "admin")
    sign_in(client, "root@vendor.example")
    page = client.get("/admin/inbox").text
    assert "CRM write-back" in page and f"crm-{dead.id}" in page and "OBJECT_NOT_FOUND" in page
    assert " s / " in page  # the company's write was acknowledged: its lag is shown
    action = f"/admin/crm-writes/{dead.id}/resend"
    r = client.post(action, data={"csrf_token": web_csrf(client, "/admin/inbox", action)}, follow_redirects=False)
    assert r.status_code == 303 and _rows()[("deal", "1001")].status == "pending"


@pytest.mark.parametrize("private_info", [True, False])
def test_another_apps_change_of_a_journey_property_is_an_edit_not_our_echo(client, admin, hubspot, private_info):
    """The private app's id comes from the private-apps token info, else the OAuth v1 token metadata; an
    INTEGRATION change made by another app is then someone else's edit."""
    hubspot.private_info = private_info
    _sign(client)
    _write()
    assert _identity() == "1160452"
    edit = p.hubspot_event(1001, value="done", event_id=11, at=p.T0 + 7000, prop="journey_plan_status")
    edit.update(changeSource="INTEGRATION", sourceId="999")
    _post(client, edit)
    drain()
    event = client.get("/api/events?limit=10", headers=admin).json()["items"][-1]
    assert "journey_plan_status edited in the CRM" in event["error"]


def test_setup_hubspot_prints_the_app_it_discovered(hubspot):
    from journey.cli import app

    out = CliRunner().invoke(app, ["crm", "setup", "hubspot"])
    assert out.exit_code == 0 and "discovered private app id: 1160452" in out.output


LOW_WINDOW = {"X-HubSpot-RateLimit-Max": "100", "X-HubSpot-RateLimit-Remaining": "3",
              "X-HubSpot-RateLimit-Interval-Milliseconds": "10000", "X-HubSpot-RateLimit-Daily": "250000",
              "X-HubSpot-RateLimit-Daily-Remaining": "200000"}


def test_a_nearly_spent_rate_window_is_waited_for_before_the_next_call_not_after_a_429(client, hubspot):
    _sign(client)
    _sign(client, 1002)
    hubspot.headers = LOW_WINDOW
    assert _write()["written"] == 3
    calls = [r.url.path for r in hubspot.requests if "/batch/update" in r.url.path or "/oauth/" in r.url.path]
    assert len(calls) == 3  # the app's id, the deals, the companies: no 429 in between
    assert hubspot.slept == [10.0, 10.0]  # a window's wait before each call after the first


def test_a_nearly_spent_daily_limit_defers_the_rest_to_a_later_drain_and_loses_nothing(client, hubspot, clock):
    _sign(client)
    _sign(client, 1002)
    assert _write()["written"] == 3
    with db.transaction() as session:  # everything is to be written again (as a nightly sync does)
        from journey.writeback import repository

        rows = session.scalars(select(CrmWrite)).all()
        refs = [repository.ObjectRef(r.crm, r.object_type, r.object_id, r.account_id, r.deal_id) for r in rows]
        repository.mark(session, refs, now=utcnow())
        repository.forget_sent(session, refs)
    clock.shift(timedelta(seconds=31))
    hubspot.headers = {**LOW_WINDOW, "X-HubSpot-RateLimit-Remaining": "90", "X-HubSpot-RateLimit-Daily-Remaining": "40"}
    before = len(hubspot.batch_calls)
    result = _write()
    assert (result["written"], result["deferred"], result["retry"], result["dead"]) == (2, 1, 0, 0)
    assert len(hubspot.batch_calls) == before + 1  # the deals went; the company's call was not made
    company = _rows()[("company", "9001")]
    assert company.status == "pending" and company.attempts == 0 and "daily limit" in company.error
    clock.shift(timedelta(minutes=30))
    assert _write()["written"] == 0 and len(hubspot.batch_calls) == before + 1  # still waiting its turn
    clock.shift(timedelta(minutes=31))
    hubspot.headers = {}
    assert _write()["written"] == 1
    assert {r.status for r in _rows().values()} == {"idle"}
    assert hubspot.written["companies"]["9001"] == _current("company", "9001")
