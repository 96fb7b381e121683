"""Logs as an operator reads them: JSON lines (or console text) from one pipeline, uvicorn's and Prefect's lines
included, a request id per request, the event's deal and account on a run's lines, and no secret in a whole
run's output."""
from __future__ import annotations

import json
import logging
import re

import pytest
import structlog
from sqlalchemy import select

from journey import logs
from tests.builders import (
    WEB_PASSWORD,
    deal_signed,
    drain,
    member_with_password,
    member_with_token,
    post_event,
    signed_headers,
    web_csrf,
)
from tests.conftest import WEBHOOK_SECRET
from tests.fixtures.crm import payloads as p


def _lines(text: str) -> list[dict]:
    """Every line of `text` as JSON: a line that is not JSON fails the test."""
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def test_json_lines_carry_level_logger_time_and_bound_context_for_structlog_and_stdlib_alike(capsys) -> None:
    logs.configure("INFO", "json")
    structlog.contextvars.bind_contextvars(request_id="r-1")
    structlog.get_logger("journey.test").info("thing.done", deal_id=7)
    logging.getLogger("uvicorn.error").warning("Invalid HTTP request received %s", "x")
    logging.getLogger("prefect.flow_runs").info("Finished in state Completed()")
    try:
        raise ValueError("broken")
    except ValueError:
        logging.getLogger("uvicorn.error").exception("Exception in ASGI application")
    structlog.get_logger("journey.test").debug("below.level")
    lines = _lines(capsys.readouterr().err)
    assert [(x["logger"], x["level"], x["event"]) for x in lines] == [
        ("journey.test", "info", "thing.done"), ("uvicorn.error", "warning", "Invalid HTTP request received x"),
        ("prefect.flow_runs", "info", "Finished in state Completed()"),
        ("uvicorn.error", "error", "Exception in ASGI application")]
    assert all(x["request_id"] == "r-1" and re.match(r"\d{4}-\d\d-\d\dT.*Z$", x["timestamp"]) for x in lines)
    assert lines[0]["deal_id"] == 7 and "ValueError: broken" in lines[3]["exception"]


def test_console_format_is_text(capsys) -> None:
    logs.configure("INFO", "console")
    structlog.get_logger("journey.test").info("thing.done", deal_id=7)
    err = capsys.readouterr().err
    assert "thing.done" in err and "deal_id=7" in err and not err.lstrip().startswith("{")


@pytest.mark.parametrize(("environment", "given", "expected"), [
    ("production", None, "json"), ("development", None, "console"), ("development", "json", "json"),
    ("production", " Console ", "console")])
def test_the_log_format_follows_the_environment_unless_set(monkeypatch, environment, given, expected) -> None:
    from journey.config import Settings

    monkeypatch.setenv("JOURNEY_ENVIRONMENT", environment)
    if given is not None:
        monkeypatch.setenv("JOURNEY_LOG_FORMAT", given)
    assert Settings().resolved_log_format == expected


@pytest.mark.parametrize(("name", "value"), [("LOG_FORMAT", "xml"), ("LOG_LEVEL", "loud")])
def test_a_bad_log_setting_is_refused_with_its_name(monkeypatch, name, value) -> None:
    from journey.config import settings_problems

    monkeypatch.setenv(f"JOURNEY_{name}", value)
    assert any(f"JOURNEY_{name}" in problem for problem in settings_problems())


PREFECT_SCRIPT = """
import logging
from journey import logs
logs.configure("INFO", "json")
from prefect import flow  # Prefect sets up its logging here, reading journey's file
root = logging.getLogger().handlers
assert [h.get_name() for h in root] == ["journey"], root
assert [type(h).__name__ for h in logging.getLogger("prefect.flow_runs").handlers] == ["APILogHandler"]
assert not logging.getLogger("uvicorn").handlers and logging.getLogger("uvicorn").propagate
logging.getLogger("prefect.server").warning("from prefect")
logging.getLogger("uvicorn.error").info("from uvicorn")
"""


def test_prefect_and_uvicorn_log_through_the_pipeline_and_prefect_keeps_its_api_handlers() -> None:
    """In a fresh process, as `journey serve` starts: Prefect's logging setup (at its import) keeps its API
    handlers (the Prefect UI's logs) and leaves the root handler and uvicorn's loggers to journey."""
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-c", PREFECT_SCRIPT], capture_output=True, text=True, timeout=120,
                          check=False)
    assert done.returncode == 0, done.stderr
    lines = _lines(done.stderr)
    assert [(x["logger"], x["event"]) for x in lines] == [("prefect.server", "from prefect"),
                                                          ("uvicorn.error", "from uvicorn")]


# -------------------------------------------------------------------------------------------------- request ids
@pytest.mark.parametrize("given", ["abc-123", "7f1c2a4e-0b1d-4c1e-9a8e-3b0f5d2c6e71"])
def test_a_sane_request_id_is_kept_returned_and_on_the_lines_of_its_request(client, admin, capsys, given) -> None:
    logs.configure("INFO", "json")
    capsys.readouterr()
    answer = client.get("/api/accounts/crm:events:NOPE", headers=admin | {"X-Request-ID": given})
    assert answer.status_code == 404 and answer.headers["X-Request-ID"] == given
    [line] = [x for x in _lines(capsys.readouterr().err) if x["event"] == "http.request"]
    assert line["request_id"] == given and line["route"] == "/api/accounts/{ref}", line
    assert line["status"] == 404 and line["method"] == "GET"


@pytest.mark.parametrize("given", [None, "", "x" * 129, "a b", "id\nforged", "-starts-with-dash", "é"])
def test_another_request_id_is_replaced_by_a_new_one(client, given) -> None:
    headers = {} if given is None else {"X-Request-ID": given.encode()}
    first = client.get("/healthz", headers=headers).headers["X-Request-ID"]
    second = client.get("/healthz", headers=headers).headers["X-Request-ID"]
    assert re.fullmatch(r"[0-9a-f]{32}", first) and first != second


def test_a_500_carries_the_request_id_in_its_answer_and_its_log_line(db_url, monkeypatch, capsys) -> None:
    from fastapi.testclient import TestClient

    from journey.app import create_app
    from journey.inbox import service as inbox_service

    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(inbox_service, "accept_delivery", broken)
    logs.configure("INFO", "json")
    capsys.readouterr()
    body = json.dumps(deal_signed()).encode()
    with TestClient(create_app(start_runner=False), raise_server_exceptions=False) as client:
        answer = client.post("/webhooks/events", content=body,
                             headers=signed_headers(body) | {"X-Request-ID": "r-500"})
    assert answer.status_code == 500 and answer.headers["X-Request-ID"] == "r-500"
    lines = _lines(capsys.readouterr().err)
    [failed] = [x for x in lines if x["event"] == "request.failed"]
    assert failed["request_id"] == "r-500" and "RuntimeError: boom" in failed["exception"]
    [request] = [x for x in lines if x["event"] == "http.request"]
    assert (request["status"], request["route"]) == (500, "/webhooks/events")


def test_an_event_run_logs_with_its_event_deal_and_account(client, capsys) -> None:
    from journey import db
    from journey.models import Deal, InboundEvent

    post_event(client, deal_signed())
    logs.configure("DEBUG", "json")
    capsys.readouterr()
    assert drain() == ["processed"]
    [done] = [x for x in _lines(capsys.readouterr().err) if x["event"] == "event.done"]
    with db.transaction(writer=False) as session:
        deal = session.scalars(select(Deal)).one()
        event_id = session.scalars(select(InboundEvent.id)).one()
    assert {k: done.get(k) for k in ("event_id", "deal_id", "account_id", "crm_deal", "outcome")} == {
        "event_id": event_id, "deal_id": deal.id, "account_id": deal.account_id, "crm_deal": "D-1001",
        "outcome": "processed"}
    assert "event_id" not in structlog.contextvars.get_contextvars()  # the run's context ended with it


# --------------------------------------------------------------------------------------------- no secret, ever
SECRET_KEY = "k3y-" + "Q" * 40
METRICS_TOKEN = "metrics-token-0123456789"
PIPEDRIVE_API_TOKEN = "pd-api-token-0123456789"
HUBSPOT_TOKEN = "pat-eu1-0123456789abcdef"
SLACK = "https://hooks.slack.test/services/T000/B000/slack-secret-0123"


@pytest.fixture
def secrets_set(monkeypatch):  # type: ignore[no-untyped-def]
    from journey.config import get_settings
    from journey.web import auth

    for key, value in {"HUBSPOT_CLIENT_SECRET": p.HUBSPOT_SECRET, "HUBSPOT_ACCESS_TOKEN": HUBSPOT_TOKEN,
                       "HUBSPOT_API_BASE": "http://127.0.0.1:9", "SALESFORCE_ORG_ID": p.SALESFORCE_ORG,
                       "SALESFORCE_PATH_TOKEN": p.SALESFORCE_TOKEN, "PIPEDRIVE_USER": p.PIPEDRIVE_USER,
                       "PIPEDRIVE_PASSWORD": p.PIPEDRIVE_PASSWORD, "PIPEDRIVE_API_TOKEN": PIPEDRIVE_API_TOKEN,
                       "PIPEDRIVE_API_BASE": "http://127.0.0.1:9", "SECRET_KEY": SECRET_KEY,
                       "METRICS_TOKEN": METRICS_TOKEN, "SLACK_WEBHOOK_URL": SLACK,
                       "PUBLIC_BASE_URL": "http://journey.example.com", "LOG_LEVEL": "DEBUG"}.items():
        monkeypatch.setenv(f"JOURNEY_{key}", value)
    get_settings.cache_clear()
    for limiter in (auth.FAILED_PASSWORDS, auth.ATTEMPTS_PER_IP, auth.LINK_REQUESTS):
        limiter._hits.clear()


@pytest.mark.clock("2026-11-23T09:00:00Z")
def test_a_full_run_logs_no_secret_and_no_token(client, secrets_set, capsys) -> None:
    """Deliveries from every source (signed, and some refused), a journey, a sign-in link used, a share link
    opened, API calls with a bearer token, a scrape of /metrics, notifications and a CRM down, all at DEBUG:
    not one secret value, signature or token appears in what was written."""
    from journey import db
    from journey.kit import utcnow
    from journey.models import OutboxMessage
    from journey.notify.outbox import drain_outbox

    logs.configure("DEBUG", "json")
    admin = member_with_token("admin@test.example", "admin")
    csm = member_with_token("csm@vendor.example", "csm")
    body = json.dumps(deal_signed()).encode()
    events_headers = signed_headers(body)
    assert client.post("/webhooks/events", content=body, headers=events_headers).status_code == 202
    forged = signed_headers(body, secret="whsec_" + "A" * 44)
    assert client.post("/webhooks/events", content=body, headers=forged).status_code == 401
    hubspot = p.dumps([p.hubspot_event(1001)])
    hubspot_headers = p.hubspot_signed(hubspot, uri="http://journey.example.com/webhooks/hubspot")
    assert client.post("/webhooks/hubspot", content=hubspot, headers=hubspot_headers).status_code in (200, 202)
    sf_url = f"/webhooks/salesforce/{p.SALESFORCE_TOKEN}"
    sf_headers = {"content-type": "text/xml; charset=utf-8", "soapaction": '""'}
    assert client.post(sf_url, content=p.salesforce_message(p.opportunity("0065g00000AAAAA1")),
                       headers=sf_headers).status_code == 200
    assert client.post("/webhooks/pipedrive", content=p.dumps(p.PIPEDRIVE_V1), headers=p.basic()).status_code == 202
    assert client.post("/webhooks/pipedrive", content=p.dumps(p.PIPEDRIVE_V1),
                       headers=p.basic(password="wrong-" + p.PIPEDRIVE_PASSWORD)).status_code == 401
    drain()  # the HubSpot and Pipedrive events read an API that is down: logged failures, retried later
    share = client.post("/api/accounts/crm:events:C-77/share-links", headers=csm,
                        json={"email": "chloe@acme.example", "name": "Chloé"})
    assert share.status_code == 201, share.text
    share_token = share.json()["url"].rsplit("/", 1)[1]
    assert client.get(f"/p/{share_token}").status_code == 200
    member_with_password("link@vendor.example", "am")
    assert client.post("/signin/link", data={"email": "link@vendor.example", "csrf_token": web_csrf(client)},
                       follow_redirects=False).status_code == 303
    with db.transaction(writer=False) as session:
        mail = session.scalars(select(OutboxMessage).where(OutboxMessage.recipient == "link@vendor.example")).one()
    link = re.search(r"/signin/link/(\S+)", mail.body_text)
    assert link is not None
    client.get(f"/signin/link/{link.group(1)}")
    client.post("/signin", data={"email": "link@vendor.example", "password": WEB_PASSWORD,
                                 "csrf_token": web_csrf(client)})
    assert client.get("/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"}).status_code == 200
    assert client.get("/api/accounts", headers=admin).status_code == 200
    drain_outbox(utcnow())  # Slack unreachable: logged
    out = capsys.readouterr()
    written = out.out + out.err
    assert "http.request" in written and "/webhooks/salesforce/***" in written and "/p/***" in written
    assert "/signin/link/***" in written
    secrets = {"webhook secret": WEBHOOK_SECRET,
               "event signature": events_headers["webhook-signature"].split(",", 1)[1],
               "forged signature": forged["webhook-signature"].split(",", 1)[1],
               "hubspot secret": p.HUBSPOT_SECRET, "hubspot signature": hubspot_headers["x-hubspot-signature-v3"],
               "hubspot token": HUBSPOT_TOKEN, "salesforce path token": p.SALESFORCE_TOKEN,
               "pipedrive password": p.PIPEDRIVE_PASSWORD, "pipedrive basic": p.basic()["authorization"][6:],
               "pipedrive api token": PIPEDRIVE_API_TOKEN, "secret key": SECRET_KEY, "metrics token": METRICS_TOKEN,
               "slack url": SLACK, "slack path": "slack-secret-0123", "api token": admin["Authorization"][7:],
               "csm api token": csm["Authorization"][7:], "share token": share_token, "sign-in token": link.group(1),
               "session cookie": client.cookies.get("journey_session") or "no-session-cookie-set",
               "password": WEB_PASSWORD}
    leaked = [name for name, value in secrets.items() if value in written]
    assert leaked == [], leaked
