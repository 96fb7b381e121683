"""CRM routes end to end: vendor-shaped deliveries in, journeys out, exactly once, in occurrence order."""
from __future__ import annotations

import json

import httpx
import pytest

from tests.builders import drain
from tests.fixtures.crm import payloads as p

pytestmark = pytest.mark.usefixtures("db_url")


@pytest.fixture(autouse=True)
def crm_settings(monkeypatch):
    from journey.config import get_settings

    monkeypatch.setenv("JOURNEY_HUBSPOT_CLIENT_SECRET", p.HUBSPOT_SECRET)
    monkeypatch.setenv("JOURNEY_HUBSPOT_ACCESS_TOKEN", "pat-eu1-test")
    monkeypatch.setenv("JOURNEY_HUBSPOT_API_BASE", "https://api.hubapi.test")
    monkeypatch.setenv("JOURNEY_SALESFORCE_ORG_ID", p.SALESFORCE_ORG)
    monkeypatch.setenv("JOURNEY_SALESFORCE_PATH_TOKEN", p.SALESFORCE_TOKEN)
    monkeypatch.setenv("JOURNEY_PIPEDRIVE_USER", p.PIPEDRIVE_USER)
    monkeypatch.setenv("JOURNEY_PIPEDRIVE_PASSWORD", p.PIPEDRIVE_PASSWORD)
    get_settings.cache_clear()


class FakeHubSpot:
    """The CRM v3 endpoints a journey reads, from dictionaries; records every request."""

    def __init__(self, deals: dict[str, dict]) -> None:
        self.deals, self.requests = deals, []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        assert request.headers["authorization"] == "Bearer pat-eu1-test"
        path = request.url.path
        if path.startswith("/crm/v3/objects/deals/"):
            deal = self.deals.get(path.rsplit("/", 1)[1])
            return httpx.Response(200, json=deal) if deal else httpx.Response(404, json={"status": "error"})
        if path == "/crm/v3/objects/companies/9001":
            return httpx.Response(200, json=p.HUBSPOT_COMPANY)
        if path == "/crm/v3/objects/contacts/batch/read":
            return httpx.Response(200, json=p.HUBSPOT_CONTACTS)
        if path.startswith("/crm/v3/owners/"):
            owner = p.HUBSPOT_OWNERS.get(path.rsplit("/", 1)[1])
            return httpx.Response(200, json=owner) if owner else httpx.Response(404)
        return httpx.Response(404)


@pytest.fixture
def fake_hubspot(monkeypatch):
    from flows import crm_steps as steps

    fake = FakeHubSpot({"1001": p.hubspot_deal(1001), "1002": p.hubspot_deal(1002)})
    monkeypatch.setattr(steps, "hubspot_transport", httpx.MockTransport(fake))
    return fake


def _journeys(client, admin, deal: str) -> list[dict]:
    return client.get(f"/api/journeys?deal={deal}", headers=admin).json()["items"]


def _events(client, admin) -> list[dict]:
    return client.get("/api/events?limit=1000", headers=admin).json()["items"]


def _post_hubspot(client, events: list[dict], **kw):
    body = p.dumps(events)
    return client.post("/webhooks/hubspot", content=body, headers=p.hubspot_signed(body, **kw))


# ------------------------------------------------------------------------------------------------ HubSpot
def test_hubspot_batch_with_a_duplicate_and_out_of_order_stages_yields_one_journey_in_the_final_state(
        client, admin, fake_hubspot) -> None:
    won = p.hubspot_event(1001, value="closedwon", at=p.T0 + 60_000, event_id=2)
    earlier = p.hubspot_event(1001, value="presentationscheduled", at=p.T0, event_id=1)
    r = _post_hubspot(client, [won, won, earlier])  # delivery order: the newer change first, and twice
    assert r.status_code == 202, r.text
    assert r.json()["received"] == 3 and r.json()["duplicates"] == 1
    outcomes = drain()
    assert sorted(outcomes) == ["processed", "processed"]
    journeys = _journeys(client, admin, "crm:hubspot:1001")
    assert [j["status"] for j in journeys] == ["active"]
    events = _events(client, admin)
    assert [e["status"] for e in events] == ["processed", "ignored"]
    assert "older than the stage change applied" in events[1]["error"]
    account = client.get("/api/accounts/crm:hubspot:9001", headers=admin).json()
    assert account["name"] == p.HUBSPOT_COMPANY["properties"]["name"]  # RTL, emoji and SQL stored verbatim
    assert account["segment"] == "mid_market" and account["csm"]["email"] == "csm@vendor.example"
    plan = client.get(f"/api/accounts/{account['id']}/plan", headers=admin)
    assert plan.status_code == 200 and plan.json()["milestones"]


def test_hubspot_leaving_the_won_stage_later_pauses_but_an_older_leave_does_not(client, admin, fake_hubspot):
    assert _post_hubspot(client, [p.hubspot_event(1002, value="closedwon", at=p.T0)]).status_code == 202
    drain()
    older = p.hubspot_event(1002, value="appointmentscheduled", at=p.T0 - 1000)
    newer = p.hubspot_event(1002, value="closedlost", at=p.T0 + 1000)
    _post_hubspot(client, [older])
    drain()
    assert [j["status"] for j in _journeys(client, admin, "crm:hubspot:1002")] == ["active"]
    _post_hubspot(client, [newer])
    drain()
    assert [j["status"] for j in _journeys(client, admin, "crm:hubspot:1002")] == ["paused"]


def test_hubspot_unknown_stage_or_pipeline_is_accepted_and_starts_nothing(client, admin, fake_hubspot):
    fake_hubspot.deals["1003"] = p.hubspot_deal(1003, stage="closedwon", pipeline="98765")
    r = _post_hubspot(client, [p.hubspot_event(1003, value="closedwon"), p.hubspot_event(1004, value="stage-x")])
    assert r.status_code == 202
    drain()
    assert [e["status"] for e in _events(client, admin)] == ["ignored", "ignored"]
    assert _journeys(client, admin, "crm:hubspot:1003") == []
    errors = sorted(e["error"] for e in _events(client, admin))
    assert "pipeline 98765 has no won stages" in errors[0] and "stage stage-x is not a won stage" in errors[1]


def test_hubspot_negative_amount_is_flagged_and_the_journey_still_starts(client, admin, fake_hubspot):
    fake_hubspot.deals["1005"] = p.hubspot_deal(1005, amount="-500")
    _post_hubspot(client, [p.hubspot_event(1005)])
    assert drain() == ["processed"]
    assert len(_journeys(client, admin, "crm:hubspot:1005")) == 1
    assert "deal.amount" in _events(client, admin)[0]["error"]


def _pending(event_id: int) -> tuple[int, float | None, str | None]:
    """(attempts, seconds until the next attempt, last error) of a pending inbox event."""
    from journey import db
    from journey.kit import utcnow
    from journey.models import EventStatus, InboundEvent

    with db.transaction(writer=False) as session:
        event = session.get_one(InboundEvent, event_id)
        assert event.status == EventStatus.pending
        wait = (event.next_attempt_at - utcnow()).total_seconds() if event.next_attempt_at else None
        return event.attempts, wait, event.error


def _make_due(event_id: int) -> None:
    from journey import db
    from journey.kit import utcnow
    from journey.models import InboundEvent

    with db.transaction() as session:
        session.get_one(InboundEvent, event_id).next_attempt_at = utcnow()


def test_hubspot_rate_limit_waits_for_retry_after_without_dead_lettering_then_signs(client, admin, monkeypatch,
                                                                                    fake_hubspot):
    from flows import crm_steps as steps
    from journey.config import get_settings

    monkeypatch.setenv("JOURNEY_EVENT_MAX_ATTEMPTS", "1")  # an ordinary failure would be dead at once
    get_settings.cache_clear()
    outage = {"on": True}

    def limited(request: httpx.Request) -> httpx.Response:
        if outage["on"]:
            return httpx.Response(429, headers={"Retry-After": "600"})
        return fake_hubspot(request)

    monkeypatch.setattr(steps, "hubspot_transport", httpx.MockTransport(limited))
    event_id = _post_hubspot(client, [p.hubspot_event(1001)]).json()["event_ids"][0]
    assert drain() == ["retry"]
    attempts, wait, error = _pending(event_id)
    assert attempts == 1 and 590 <= wait <= 600 and "429" in error
    assert drain() == []  # not due before HubSpot's Retry-After
    outage["on"] = False
    _make_due(event_id)
    assert drain() == ["processed"]
    assert [j["status"] for j in _journeys(client, admin, "crm:hubspot:1001")] == ["active"]


def test_hubspot_outage_backs_off_longer_each_time_then_dead_letters(client, admin, monkeypatch):
    from flows import crm_steps as steps
    from journey.adapters.crm import http
    from journey.config import get_settings

    monkeypatch.setattr(steps, "hubspot_transport", httpx.MockTransport(lambda r: httpx.Response(503)))
    sleeps: list[float] = []
    monkeypatch.setattr(http.time, "sleep", sleeps.append)
    monkeypatch.setenv("JOURNEY_UPSTREAM_MAX_ATTEMPTS", "3")
    get_settings.cache_clear()
    event_id = _post_hubspot(client, [p.hubspot_event(1001)]).json()["event_ids"][0]
    waits = []
    for _ in range(2):
        assert drain() == ["retry"]
        waits.append(_pending(event_id)[1])
        _make_due(event_id)
    assert 25 <= waits[0] <= 30 and 55 <= waits[1] <= 60  # 30 s, then 1 min (then 2, 4 ... up to an hour)
    assert sleeps == [1.0, 2.0, 4.0] * 2  # the client's own quick retries within each attempt
    assert drain() == ["dead"]
    dead = client.get("/api/events?status=dead", headers=admin).json()["items"]
    assert "HubSpotUnavailable" in dead[0]["error"] and "503" in dead[0]["error"]


@pytest.mark.parametrize(("case", "status"), [
    ("forged signature", 401), ("missing signature", 401), ("replayed after 5 minutes", 401),
    ("truncated json", 400), ("object instead of batch", 400), ("100-level nested json", 400),
    ("wrong content type", 415), ("over 1 MiB", 413),
])
def test_hubspot_hostile_deliveries(client, admin, case, status) -> None:
    body = p.dumps([p.hubspot_event(1001)])
    headers = p.hubspot_signed(body)
    if case == "forged signature":
        headers = p.hubspot_signed(body, secret="not-the-secret")
    elif case == "missing signature":
        headers.pop("x-hubspot-signature-v3")
    elif case == "replayed after 5 minutes":
        import time

        headers = p.hubspot_signed(body, ts=int((time.time() - 301) * 1000))
    elif case == "truncated json":
        body = body[:-5]
        headers = p.hubspot_signed(body)
    elif case == "object instead of batch":
        body = p.dumps(p.hubspot_event(1001))
        headers = p.hubspot_signed(body)
    elif case == "100-level nested json":
        body = b"[" * 100 + b"]" * 100
        headers = p.hubspot_signed(body)
    elif case == "wrong content type":
        headers["content-type"] = "text/plain"
    elif case == "over 1 MiB":
        body = b'[{"x": "' + b"a" * (1024 * 1024) + b'"}]'
        headers = p.hubspot_signed(body)
    r = client.post("/webhooks/hubspot", content=body, headers=headers)
    assert r.status_code == status, r.text
    assert r.json()["code"]
    assert _events(client, admin) == []


def test_hubspot_signature_uses_the_public_base_url_behind_a_proxy(client, admin, monkeypatch) -> None:
    from journey.config import get_settings

    monkeypatch.setenv("JOURNEY_PUBLIC_BASE_URL", "https://journey.example.com/")
    get_settings.cache_clear()
    body = p.dumps([p.hubspot_event(1001)])
    as_seen_inside = client.post("/webhooks/hubspot", content=body, headers=p.hubspot_signed(body))
    assert as_seen_inside.status_code == 401
    public = p.hubspot_signed(body, uri="https://journey.example.com/webhooks/hubspot")
    assert client.post("/webhooks/hubspot", content=body, headers=public).status_code == 202


# --------------------------------------------------------------------------------------------- Salesforce
SF_URL = f"/webhooks/salesforce/{p.SALESFORCE_TOKEN}"
SF_HEADERS = {"content-type": "text/xml; charset=utf-8", "soapaction": '""'}


def test_salesforce_two_notifications_one_ack_two_journeys_and_a_redelivery_changes_nothing(client, admin):
    from journey.adapters.crm.salesforce import ACK

    message = p.salesforce_message(p.opportunity("0065g00000AAAAA1"), p.opportunity("0065g00000AAAAA2"))
    first = client.post(SF_URL, content=message, headers=SF_HEADERS)
    assert first.status_code == 200 and first.text == ACK
    assert first.headers["content-type"].startswith("text/xml")
    assert drain() == ["processed", "processed"]
    again = client.post(SF_URL, content=message, headers=SF_HEADERS)
    assert (again.status_code, again.text) == (200, ACK)
    assert drain() == []
    assert len(_events(client, admin)) == 2
    for opp in ("0065g00000AAAAA1", "0065g00000AAAAA2"):
        assert [j["status"] for j in _journeys(client, admin, f"crm:salesforce:{opp}")] == ["active"]


def test_salesforce_lost_after_won_pauses_the_journey(client, admin):
    client.post(SF_URL, content=p.salesforce_message(p.opportunity("0065g00000AAAAA3")), headers=SF_HEADERS)
    drain()
    lost = p.opportunity("0065g00000AAAAA3", won=False, stage="Closed Lost", modified="2026-11-21T09:00:00.000Z")
    lost["IsClosed"] = "true"
    client.post(SF_URL, content=p.salesforce_message(lost), headers=SF_HEADERS)
    drain()
    assert [j["status"] for j in _journeys(client, admin, "crm:salesforce:0065g00000AAAAA3")] == ["paused"]


XXE = (b'<?xml version="1.0"?><!DOCTYPE foo [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
       b'<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Body>&xxe;'
       b"</soapenv:Body></soapenv:Envelope>")
LAUGHS = (b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
          + b"".join(f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">'.encode()
                     for i in range(1, 10))
          + b"]><lolz>&lol9;</lolz>")


@pytest.mark.parametrize(("case", "url", "body", "headers", "status"), [
    ("wrong path token", "/webhooks/salesforce/nope", None, SF_HEADERS, 401),
    ("other organization", SF_URL, p.salesforce_message(p.opportunity("0065g00000AAAAA9"), org="00DOTHERORG00000AA"),
     SF_HEADERS, 401),
    ("truncated xml", SF_URL, p.salesforce_message(p.opportunity("0065g00000AAAAA9"))[:-40], SF_HEADERS, 400),
    ("xxe", SF_URL, XXE, SF_HEADERS, 400),
    ("billion laughs", SF_URL, LAUGHS, SF_HEADERS, 400),
    ("json content type", SF_URL, None, {"content-type": "application/json"}, 415),
    ("over 1 MiB", SF_URL, b"<a>" + b"x" * (1024 * 1024 + 10) + b"</a>", SF_HEADERS, 413),
])
def test_salesforce_hostile_messages_get_a_soap_fault_and_store_nothing(client, admin, case, url, body, headers,
                                                                       status):
    import time

    body = body if body is not None else p.salesforce_message(p.opportunity("0065g00000AAAAA9"))
    started = time.monotonic()
    r = client.post(url, content=body, headers=headers)
    assert time.monotonic() - started < 1.0
    assert r.status_code == status, r.text
    assert "<soapenv:Fault>" in r.text and "Ack" not in r.text
    assert "root:" not in r.text  # no file content echoed back
    assert _events(client, admin) == []


def test_salesforce_unexpected_error_is_a_soap_fault_and_the_log_hides_the_path_token(client, admin, monkeypatch,
                                                                                       capsys):
    from journey.webhooks import salesforce as route

    def broken(source, rows):
        raise RuntimeError(f"boom while storing for /webhooks/salesforce/{p.SALESFORCE_TOKEN}")

    monkeypatch.setattr(route, "accept_all", broken)
    capsys.readouterr()
    r = client.post(SF_URL, content=p.salesforce_message(p.opportunity("0065g00000AAAAA1")), headers=SF_HEADERS)
    assert r.status_code == 500 and r.headers["content-type"].startswith("text/xml")
    assert "<faultcode>soapenv:Server</faultcode>" in r.text and "Ack" not in r.text
    logged = capsys.readouterr().out
    assert "request.failed" in logged and "RuntimeError" in logged
    assert p.SALESFORCE_TOKEN not in logged and "/webhooks/salesforce/***" in logged


def test_salesforce_route_is_404_until_configured(client, monkeypatch):
    from journey.config import get_settings

    monkeypatch.delenv("JOURNEY_SALESFORCE_PATH_TOKEN")
    get_settings.cache_clear()
    r = client.post(SF_URL, content=p.salesforce_message(p.opportunity("0065g00000AAAAA1")), headers=SF_HEADERS)
    assert r.status_code == 404 and "<soapenv:Fault>" in r.text


# ---------------------------------------------------------------------------------------------- Pipedrive
def test_pipedrive_v1_won_then_reopened_pauses_and_a_retry_is_a_duplicate(client, admin) -> None:
    body = p.dumps(p.PIPEDRIVE_V1)
    first = client.post("/webhooks/pipedrive", content=body, headers=p.basic())
    retry = client.post("/webhooks/pipedrive", content=body, headers=p.basic())
    assert (first.status_code, retry.status_code) == (202, 202)
    assert retry.json() == {"event_id": first.json()["event_id"], "duplicate": True}
    assert drain() == ["processed"]
    journeys = _journeys(client, admin, "crm:pipedrive:812")
    assert [j["status"] for j in journeys] == ["active"]
    reopened = p.pipedrive_v1(status="open")
    reopened["previous"]["status"] = "won"
    reopened["meta"].update(timestamp=1795190000, timestamp_micro=1795190000000000)
    client.post("/webhooks/pipedrive", content=p.dumps(reopened), headers=p.basic())
    drain()
    assert [j["status"] for j in _journeys(client, admin, "crm:pipedrive:812")] == ["paused"]


def test_pipedrive_v1_won_then_reopened_within_one_second_applies_in_microsecond_order(client, admin) -> None:
    won = p.pipedrive_v1()
    won["meta"].update(timestamp=1795189500, timestamp_micro=1795189500100000)
    reopened = p.pipedrive_v1(status="open")
    reopened["previous"]["status"] = "won"
    reopened["meta"].update(timestamp=1795189500, timestamp_micro=1795189500900000)
    client.post("/webhooks/pipedrive", content=p.dumps(won), headers=p.basic())
    drain()
    client.post("/webhooks/pipedrive", content=p.dumps(reopened), headers=p.basic())
    drain()
    assert [j["status"] for j in _journeys(client, admin, "crm:pipedrive:812")] == ["paused"]


def test_pipedrive_v2_won_starts_a_journey(client, admin) -> None:
    r = client.post("/webhooks/pipedrive", content=p.dumps(p.PIPEDRIVE_V2), headers=p.basic())
    assert r.status_code == 202
    assert drain() == ["processed"]
    assert len(_journeys(client, admin, "crm:pipedrive:913")) == 1


def _member(email: str):
    from journey import db
    from journey.team import repository

    with db.transaction(writer=False) as session:
        return repository.by_email(session, email) is not None


def test_pipedrive_v2_with_api_token_reads_the_owner_and_the_organisation(client, admin, monkeypatch) -> None:
    from flows import crm_steps as steps
    from journey.config import get_settings
    from tests.unit.test_crm_connectors import FakePipedrive

    monkeypatch.setenv("JOURNEY_PIPEDRIVE_API_TOKEN", "pd-api-token")
    monkeypatch.setenv("JOURNEY_PIPEDRIVE_API_BASE", "https://acme.pipedrive.test")
    get_settings.cache_clear()
    fake = FakePipedrive()
    monkeypatch.setattr(steps, "pipedrive_transport", httpx.MockTransport(fake))
    client.post("/webhooks/pipedrive", content=p.dumps(p.PIPEDRIVE_V2), headers=p.basic())
    assert drain() == ["processed"]
    assert [str(r.url) for r in fake.requests] == ["https://acme.pipedrive.test/v1/users/9002",
                                                   "https://acme.pipedrive.test/v1/organizations/88"]
    account = client.get("/api/accounts/crm:pipedrive:88", headers=admin).json()
    assert account["name"] == "Globex <b>Corp</b>" and _member("bob@vendor.example")
    assert _events(client, admin)[0]["error"] is None  # nothing flagged


def test_pipedrive_v1_without_api_token_uses_the_payload_and_flags_the_owner(client, admin) -> None:
    client.post("/webhooks/pipedrive", content=p.dumps(p.PIPEDRIVE_V1), headers=p.basic())
    assert drain() == ["processed"]
    assert client.get("/api/accounts/crm:pipedrive:77", headers=admin).json()["name"] == "Acme SAS"
    note = _events(client, admin)[0]["error"]
    assert "owner user 9001 (Alice AE) left out: set JOURNEY_PIPEDRIVE_API_TOKEN" in note
    assert not _member("ae@vendor.example")


def test_pipedrive_change_without_status_change_is_stored_and_ignored(client, admin) -> None:
    body = p.pipedrive_v1(title="Renamed")
    body["previous"]["status"] = "won"
    client.post("/webhooks/pipedrive", content=p.dumps(body), headers=p.basic())
    drain()
    [event] = _events(client, admin)
    assert event["status"] == "ignored" and "deal 812 has no journey yet: nothing to update" in event["error"]


@pytest.mark.parametrize(("case", "body", "headers", "status"), [
    ("no credentials", p.dumps(p.PIPEDRIVE_V1), {"content-type": "application/json"}, 401),
    ("wrong password", p.dumps(p.PIPEDRIVE_V1), p.basic(password="guess"), 401),
    ("truncated json", p.dumps(p.PIPEDRIVE_V1)[:-3], p.basic(), 400),
    ("no meta", p.dumps({"current": {}}), p.basic(), 400),
    ("deeply nested", b'{"meta": ' + b'{"a": ' * 5000 + b"1" + b"}" * 5001, p.basic(), 400),
    ("not utf-8", b'{"meta": {"v": 1, "action": "updated", "object": "deal", "id": "\xff"}}', p.basic(), 400),
    ("form post", p.dumps(p.PIPEDRIVE_V1), {**p.basic(), "content-type": "application/x-www-form-urlencoded"}, 415),
    ("over 1 MiB", b'{"meta": "' + b"a" * (1024 * 1024) + b'"}', p.basic(), 413),
])
def test_pipedrive_hostile_deliveries(client, admin, case, body, headers, status) -> None:
    r = client.post("/webhooks/pipedrive", content=body, headers=headers)
    assert r.status_code == status, r.text
    assert _events(client, admin) == []
    if status == 401:
        assert r.headers["www-authenticate"].startswith("Basic")


@pytest.mark.parametrize("url", ["/webhooks/hubspot", "/webhooks/pipedrive"])
def test_json_crm_routes_are_404_until_configured(client, monkeypatch, url) -> None:
    from journey.config import get_settings

    monkeypatch.delenv("JOURNEY_HUBSPOT_CLIENT_SECRET")
    monkeypatch.delenv("JOURNEY_PIPEDRIVE_PASSWORD")
    get_settings.cache_clear()
    r = client.post(url, content=b"[]", headers={"content-type": "application/json"})
    assert r.status_code == 404 and json.loads(r.text)["code"] == "not_found"


# ------------------------------------------------------------------------------------------------- metrics
METRICS_TOKEN = "metrics-test-token"
SCRAPE = {"Authorization": f"Bearer {METRICS_TOKEN}"}


def _metric(client, name: str, **labels: str) -> float:
    """The sum of the samples with these labels (other labels, such as the event type, may split them: a
    bulk import before this test counts its deal.signed events under the same source)."""
    from prometheus_client.parser import text_string_to_metric_families

    scraped = client.get("/metrics", headers=SCRAPE)
    assert scraped.status_code == 200, scraped.text
    return sum(sample.value for family in text_string_to_metric_families(scraped.text) for sample in family.samples
               if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items()))


def test_metrics_count_processed_per_source_and_size_and_media_type_rejections(client, admin, monkeypatch) -> None:
    from journey.config import get_settings

    monkeypatch.setenv("JOURNEY_METRICS_TOKEN", METRICS_TOKEN)
    get_settings.cache_clear()
    processed = {"source": "salesforce", "outcome": "processed"}
    too_large = {"source": "hubspot", "reason": "too_large"}
    media = {"source": "pipedrive", "reason": "media_type"}
    before = [_metric(client, "journey_event_outcome_total", **processed),
              _metric(client, "journey_webhook_rejected_total", **too_large),
              _metric(client, "journey_webhook_rejected_total", **media)]
    message = p.salesforce_message(p.opportunity("0065g00000AAAAM1"), p.opportunity("0065g00000AAAAM2"))
    client.post(SF_URL, content=message, headers=SF_HEADERS)
    assert drain() == ["processed", "processed"]
    big = b'[{"x": "' + b"a" * (1024 * 1024) + b'"}]'
    assert client.post("/webhooks/hubspot", content=big, headers=p.hubspot_signed(big)).status_code == 413
    form = {**p.basic(), "content-type": "application/x-www-form-urlencoded"}
    assert client.post("/webhooks/pipedrive", content=p.dumps(p.PIPEDRIVE_V1), headers=form).status_code == 415
    after = [_metric(client, "journey_event_outcome_total", **processed),
             _metric(client, "journey_webhook_rejected_total", **too_large),
             _metric(client, "journey_webhook_rejected_total", **media)]
    assert [a - b for a, b in zip(after, before, strict=True)] == [2, 1, 1]
    assert p.SALESFORCE_TOKEN not in client.get("/metrics", headers=SCRAPE).text
