"""`POST /api/signals`, `GET /api/accounts/{id}/health`, health in the account shape, `GET /api/reminders`."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.builders import deal_signed, drain, member_with_token, post_event

pytestmark = pytest.mark.usefixtures("db_url")


def _iso(days_ago: float = 0) -> str:
    return (datetime.now(UTC) - timedelta(days=days_ago)).isoformat()


@pytest.fixture
def account_id(client) -> int:
    post_event(client, deal_signed())
    assert drain() == ["processed"]
    return 0


@pytest.mark.clock("2026-11-23T09:00:00Z")  # three days after signing: no plan task is due yet
def test_signals_then_health_with_explanation_and_history(client, admin, account_id) -> None:
    items = [{"id": "sig-1", "account": "crm:events:C-77", "metric": "active_users", "value": 96, "at": _iso(1)},
             {"id": "sig-2", "account": "crm:events:C-77", "metric": "seats", "value": 120, "at": _iso(1)},
             {"id": "sig-3", "account": "crm:events:C-77", "metric": "escalation_open", "value": 1, "at": _iso(1)}]
    r = client.post("/api/signals", json={"items": items}, headers=admin)
    assert r.status_code == 200, r.text
    assert r.json() == {"accepted": 3, "duplicates": 0, "accounts": 1, "recomputed": 1, "queued": 0,
                        "objective_measurements": 0}
    again = client.post("/api/signals", json={"items": items}, headers=admin).json()
    assert (again["accepted"], again["duplicates"]) == (0, 3)

    health = client.get("/api/accounts/crm:events:C-77/health", headers=admin).json()
    assert health["scorecard"] == "default_onboarding" and health["scorecard_version"] == 2
    # activation, escalation and the packet carry 12 + 15 + 20 % of the card's weight: the score is provisional
    assert 0 <= health["score"] <= 100 and health["band"] == "unknown" and health["provisional"] is True
    by_factor = {c["factor"]: c for c in health["contributions"]}
    assert by_factor["escalation"]["points"] == 0 and by_factor["escalation"]["value"] == 1
    assert by_factor["activation"]["value"] == pytest.approx(0.8)  # 96 of 120 seats
    assert sum(c["weight"] for c in health["contributions"]) == pytest.approx(100, abs=0.05)
    assert health["top_cost_factor"] == "escalation"
    assert "Open escalation: yes — " in health["explanation"] and "points lost" in health["explanation"]
    assert by_factor["escalation"]["label"] == "Open escalation" and by_factor["activation"]["unit"] == "ratio"
    assert [h["score"] for h in health["history"]] == [health["score"]]
    assert set(health["trend"]) == {"7d", "30d"}

    account = client.get("/api/accounts/crm:events:C-77", headers=admin).json()
    assert account["health"] == {"score": health["score"], "band": health["band"]}
    listed = client.get("/api/accounts", headers=admin).json()["items"]
    assert listed[0]["health"]["band"] == health["band"]


@pytest.mark.parametrize(("item", "fragment"), [
    ({"metric": "nps", "value": 300}, "nps must be between -100 and 100"),
    ({"metric": "Bad Metric"}, "metric"),
    ({"value": "NaN"}, "finite"),
    ({"account": "crm:events:unknown"}, "unknown account"),
])
def test_bad_signals_are_refused_with_the_item(client, admin, account_id, item, fragment) -> None:
    body = {"id": "x", "account": "crm:events:C-77", "metric": "nps", "value": 10, "at": _iso()} | item
    r = client.post("/api/signals", json={"items": [body]}, headers=admin)
    assert r.status_code == 422
    assert fragment in r.text


def test_signals_outside_the_members_book_are_refused(client, admin, account_id) -> None:
    other = member_with_token("other-csm@vendor.example", "csm")
    item = {"id": "y", "account": "crm:events:C-77", "metric": "nps", "value": 10, "at": _iso()}
    assert client.post("/api/signals", json={"items": [item]}, headers=other).status_code == 422
    assert client.get("/api/accounts/crm:events:C-77/health", headers=other).status_code == 404
    assert client.post("/api/signals", json={"items": [item]}).status_code == 401


def test_health_of_an_account_never_scored_is_computed_on_the_spot(client, admin, account_id) -> None:
    health = client.get("/api/accounts/crm:events:C-77/health", headers=admin).json()
    assert health["stored"] is False and health["history"] == []
    assert "packet_completeness" not in health["missing"]  # internal signals need no sending


def test_reminders_are_the_signed_in_members_own(client, admin, account_id) -> None:
    from journey import db
    from journey.notify.service import remind
    from journey.team.repository import by_email

    csm = member_with_token("csm@vendor.example", "csm")
    now = datetime.now(UTC)
    with db.transaction() as session:
        remind(session, kind="risk.turned_red", assignee=by_email(session, "csm@vendor.example"), account_id=None,
               due_at=now, reason="Acme turned red: health 41/100 (was yellow).", dedupe_key="t-1", now=now)
    mine = client.get("/api/reminders", headers=csm).json()
    assert [(r["kind"], r["reason"]) for r in mine["items"]] == [
        ("risk.turned_red", "Acme turned red: health 41/100 (was yellow).")]
    assert mine["items"][0]["assignee"]["email"] == "csm@vendor.example"
    assert client.get("/api/reminders?status=done", headers=csm).json()["items"] == []
    assert client.get("/api/reminders", headers=admin).json()["items"] == []
    assert client.get("/api/reminders").status_code == 401
