"""`POST /webhooks/events`: every status code of the contract, and nothing stored for hostile input."""
from __future__ import annotations

import json
import time

import pytest

from tests.builders import deal_signed, drain, event, post_event, signed_headers

pytestmark = pytest.mark.usefixtures("db_url")


def _events(client, admin) -> list[dict]:
    return client.get("/api/events?limit=1000", headers=admin).json()["items"]


def test_signed_deal_is_accepted_then_processed(client, admin) -> None:
    r = post_event(client, deal_signed())
    assert r.status_code == 202
    assert r.json()["duplicate"] is False
    assert drain() == ["processed"]
    assert _events(client, admin)[0]["status"] == "processed"


def test_the_same_delivery_twice_gets_the_same_answer(client, admin) -> None:
    first = post_event(client, deal_signed(), msg_id="msg_same")
    second = post_event(client, deal_signed(), msg_id="msg_same")
    assert (first.status_code, second.status_code) == (202, 202)
    assert second.json() == {"event_id": first.json()["event_id"], "duplicate": True}
    assert len(_events(client, admin)) == 1


@pytest.mark.parametrize(("case", "body", "headers", "status", "code"), [
    ("bad signature", b"{}", {"webhook-signature": "v1,AAAA"}, 401, "unauthorized"),
    ("no signature headers", b"{}", {"webhook-signature": None, "webhook-id": None}, 401, "unauthorized"),
    ("stale timestamp", b"{}", {"stale": True}, 401, "unauthorized"),
    ("malformed json", b'{"type": "deal.signed", "data": {', {}, 400, "malformed_body"),
    ("json but not an object", b"[1, 2]", {}, 400, "malformed_body"),
    ("no type", b'{"data": {}}', {}, 400, "malformed_body"),
    ("deeply nested", b'{"type": "x", "data": ' + b'{"a": ' * 5000 + b"1" + b"}" * 5001, {}, 400,
     "malformed_body"),
    ("wrong content type", b"{}", {"content-type": "text/plain"}, 415, "unsupported_media_type"),
    ("2 MiB body", b'{"x": "' + b"a" * (2 * 1024 * 1024) + b'"}', {}, 413, "payload_too_large"),
])
def test_hostile_deliveries_get_their_code_and_store_nothing(client, admin, case, body, headers, status, code):
    headers = dict(headers)
    sent = signed_headers(body, ts=int(time.time()) - 600 if headers.pop("stale", False) else None)
    for key, value in headers.items():
        if value is None:
            sent.pop(key, None)
        else:
            sent[key] = value
    r = client.post("/webhooks/events", content=body, headers=sent)
    assert r.status_code == status, r.text
    assert r.json()["code"] == code
    assert _events(client, admin) == []


@pytest.mark.parametrize(("case", "data", "field"), [
    ("negative amount", {"deal": {"amount": "-5"}}, "amount"),
    ("negative seats", {"deal": {"seats": -1}}, "seats"),
    ("unknown time zone", {"account": {"timezone": "Mars/Olympus"}}, "timezone"),
    ("objective without title", {"objectives": [{"kpi": "x"}]}, "title"),
])
def test_invalid_signed_deal_gets_a_clear_422(client, admin, case, data, field) -> None:
    r = post_event(client, deal_signed(**data))
    assert r.status_code == 422
    assert field in r.json()["detail"]
    assert _events(client, admin) == []


def test_unknown_types_are_stored_and_start_nothing(client, admin) -> None:
    r = post_event(client, event("invoice.paid", {"invoice": {"id": "I-1"}}))
    assert r.status_code == 202
    assert drain() == ["ignored"]
    assert client.get("/api/journeys", headers=admin).json()["items"] == []


def test_the_route_is_off_without_a_secret(client, monkeypatch) -> None:
    from journey.config import get_settings

    monkeypatch.delenv("JOURNEY_WEBHOOK_SECRET")
    get_settings.cache_clear()
    body = json.dumps(deal_signed()).encode()
    assert client.post("/webhooks/events", content=body, headers=signed_headers(body)).status_code == 404


def test_database_down_answers_503_with_retry_after(client, monkeypatch) -> None:
    """A real connection failure (nothing listens on port 1), not a mock."""
    from journey.config import get_settings

    monkeypatch.setenv("JOURNEY_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:1/none")
    get_settings.cache_clear()
    r = post_event(client, deal_signed())
    assert r.status_code == 503
    assert r.headers["retry-after"].isdigit()
    assert r.json()["code"] == "database_unavailable"
