"""The read API: tokens, roles, books, addressing by CRM id, pagination."""
from __future__ import annotations

import pytest

from tests.builders import deal_signed, drain, member_with_token, post_event

pytestmark = pytest.mark.usefixtures("db_url")


def _two_books(client) -> None:  # type: ignore[no-untyped-def]
    post_event(client, deal_signed("D-1", "C-1"))
    other = deal_signed("D-2", "C-2", owners={"csm": {"email": "other.csm@vendor.example"},
                                               "am": {"email": "other.am@vendor.example"}})
    post_event(client, other)
    drain()


@pytest.mark.parametrize("path", ["/api/accounts", "/api/journeys", "/api/events", "/api/accounts/1",
                                  "/api/accounts/1/plan", "/api/accounts/1/handoff", "/api/accounts/1/reviews"])
def test_every_api_route_needs_a_token(client, path) -> None:
    assert client.get(path).status_code == 401
    assert client.get(path, headers={"Authorization": "Bearer jt_forged"}).status_code == 401


def test_a_csm_sees_only_their_book(client) -> None:
    _two_books(client)
    csm = member_with_token("csm@vendor.example", "csm")
    names = [a["crm"]["external_id"] for a in client.get("/api/accounts", headers=csm).json()["items"]]
    assert names == ["C-1"]
    assert client.get("/api/accounts/crm:events:C-2", headers=csm).status_code == 404
    assert client.get("/api/accounts/crm:events:C-2/plan", headers=csm).status_code == 404
    assert len(client.get("/api/journeys", headers=csm).json()["items"]) == 1


def test_an_ae_sees_the_deals_they_sold_and_not_the_inbox(client) -> None:
    _two_books(client)
    ae = member_with_token("ae@vendor.example", "ae")
    assert len(client.get("/api/accounts", headers=ae).json()["items"]) == 2
    assert client.get("/api/events", headers=ae).status_code == 403
    journeys = client.get("/api/journeys", headers=ae)  # was a 500: the scope's subquery lost its FROM
    assert journeys.status_code == 200 and len(journeys.json()["items"]) == 2


def test_manager_sees_all_and_pages_with_cursors(client) -> None:
    _two_books(client)
    manager = member_with_token("boss@vendor.example", "manager")
    first = client.get("/api/accounts?limit=1", headers=manager).json()
    second = client.get(f"/api/accounts?limit=1&cursor={first['next']}", headers=manager).json()
    assert [a["crm"]["external_id"] for a in first["items"] + second["items"]] == ["C-1", "C-2"]
    assert client.get("/api/accounts?cursor=%%%", headers=manager).status_code == 422
    assert client.get("/api/accounts?limit=5000", headers=manager).status_code == 422


def test_journeys_filter_by_deal(client, admin) -> None:
    _two_books(client)
    got = client.get("/api/journeys?deal=crm:events:D-2", headers=admin).json()["items"]
    assert [j["deal"]["external_id"] for j in got] == ["D-2"]
    assert client.get("/api/journeys?deal=D-2", headers=admin).status_code == 422


@pytest.mark.parametrize(("method", "path", "body"), [
    ("GET", "/api/accounts/{big}", None), ("GET", "/api/accounts/{big}/plan", None),
    ("GET", "/api/reviews/{big}", None), ("GET", "/api/reviews/{big}.ics", None),
    ("PATCH", "/api/tasks/{big}", {"action": "done"}), ("POST", "/api/events/{big}/replay", None),
    ("PATCH", "/api/team/{big}", {"capacity_accounts": 3}),
    ("POST", "/api/signals", {"items": [{"id": "s1", "account": "{big}", "metric": "nps", "value": 1,
                                         "at": "2026-11-20T10:00:00Z"}]}),
    ("PUT", "/api/accounts/crm:events:C-1/owners", {"csm": "{big}", "reason": "x"}),
    ("GET", "/api/accounts?cursor=OTk5OTk5OTk5OTk5", None),
])
def test_ids_no_row_can_have_are_a_clear_4xx_never_a_database_error(client, admin, method, path, body) -> None:
    """PostgreSQL's integer keys stop at 2^31-1: a larger id is not found or invalid, never a 500."""
    import json

    _two_books(client)
    big = str(2**31 + 12345)
    sent = json.loads(json.dumps(body).replace("{big}", big)) if body else None
    response = client.request(method, path.replace("{big}", big), json=sent, headers=admin)
    assert 400 <= response.status_code < 500, response.text
    assert response.json()["code"]


def test_readyz_says_the_database_is_at_head_and_where_flows_run(client) -> None:
    from journey.migrations import head_revision

    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json() == {"status": "ready", "revision": head_revision(), "flow_engine": "off",  # runner not started
                            "runner_process": None}
