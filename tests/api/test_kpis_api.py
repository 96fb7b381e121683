"""GET /api/kpis/weekly reads the week's snapshot beside last week's (week over week), per CSM and AM, with
the money; the AM sets an opportunity's amount and stage, the CSM may not."""
from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from tests.builders import deal_signed, drain, member_with_token, post_event

pytestmark = [pytest.mark.usefixtures("db_url"), pytest.mark.clock("2026-11-25T09:00:00Z")]
SIGNED = deal_signed(deal={"signed_at": "2026-11-02T10:00:00Z"})


def _world(client) -> tuple[int, dict[str, str], dict[str, str]]:  # type: ignore[no-untyped-def]
    from journey import db
    from journey.models import Account, HealthHistory

    post_event(client, SIGNED)
    assert drain() == ["processed"]
    with db.transaction() as session:
        account_id = session.scalars(select(Account.id)).one()
        for day, band in ((date(2026, 11, 10), "red"), (date(2026, 11, 24), "green")):
            session.add(HealthHistory(account_id=account_id, day=day, score=50, band=band, scorecard_version=1))
    return account_id, member_with_token("am@vendor.example", "am"), member_with_token("csm@vendor.example", "csm")


def test_the_weekly_review_shows_last_week_and_the_change(client, admin) -> None:
    from journey.cli import app

    account_id, am, _ = _world(client)
    made = client.post(f"/api/accounts/{account_id}/opportunities", headers=am,
                       json={"title": "Second team", "amount": "12000"})
    assert made.status_code == 201 and made.json()["stage"] == "open"
    assert CliRunner().invoke(app, ["kpis", "backfill", "--weeks", "2"]).exit_code == 0
    body = client.get("/api/kpis/weekly?week=2026-W48", headers=admin).json()
    money = {m["key"]: m for m in body["money"]}
    assert (money["arr_at_risk"]["value"], money["arr_at_risk"]["last_week"], money["arr_at_risk"]["change"]) == (
        0.0, 48000.0, -48000.0)  # red last week, green since Tuesday
    assert (money["pipeline_amount"]["last_week"], money["pipeline_amount"]["change"]) == (0.0, 12000.0)
    assert body["health_mix"] == {"this_week": {"green": 1}, "last_week": {"red": 1}}
    assert {p["role"] for p in body["people"]} == {"csm", "am"} and body["live"] is False
    assert [k["key"] for k in body["kpis"]] == ["ttv_median_days", "on_time_pct", "packet_completeness",
                                                "accounts_at_risk", "pipeline_amount"]
    assert len(body["history"]["arr_at_risk"]) == 12 and body["history"]["arr_at_risk"][-2][1] == 48000.0
    csm_id = next(p["member_id"] for p in body["people"] if p["role"] == "csm")
    mine = client.get(f"/api/kpis/weekly?week=2026-W48&owner={csm_id}", headers=admin).json()
    assert mine["scope"] == f"member:{csm_id}"
    assert client.get("/api/kpis/weekly?week=2026-48", headers=admin).status_code == 422
    assert client.get("/api/kpis/weekly?owner=999999", headers=admin).status_code == 404
    assert client.get("/api/kpis/weekly?segment=smb&region=FR", headers=admin).status_code == 422


def test_the_am_moves_an_opportunity_and_a_csm_may_not(client) -> None:
    account_id, am, csm = _world(client)
    made = client.post(f"/api/accounts/{account_id}/opportunities", headers=am, json={"title": "Analytics add-on"})
    again = client.post(f"/api/accounts/{account_id}/opportunities", headers=am, json={"title": "Analytics add-on"})
    assert again.status_code == 409
    oid = made.json()["id"]
    refused = client.patch(f"/api/opportunities/{oid}", headers=csm, json={"stage": "won"})
    assert refused.status_code == 403 and "opportunit" in refused.json()["detail"]
    won = client.patch(f"/api/opportunities/{oid}", headers=am, json={"amount": "9000.50", "stage": "won"})
    assert won.status_code == 200 and won.json()["closed_at"] is not None and won.json()["amount"] == "9000.50"
    assert client.patch(f"/api/opportunities/{oid}", headers=am, json={"stage": "maybe"}).status_code == 422
    assert client.patch(f"/api/opportunities/{oid}", headers=am, json={"amount": -1}).status_code == 422
    listed = client.get(f"/api/accounts/{account_id}/opportunities", headers=csm).json()["items"]
    assert [(o["title"], o["stage"]) for o in listed] == [("Analytics add-on", "won")]


def test_the_accounts_needing_attention_are_those_the_reader_may_see(client, admin) -> None:
    from datetime import UTC, datetime

    from journey import db
    from journey.models import HealthScore

    account_id, _, csm = _world(client)
    with db.transaction() as session:
        session.add(HealthScore(account_id=account_id, score=35, band="red", scorecard="default", scorecard_version=1,
                                stage="adoption", computed_at=datetime(2026, 11, 25, 8, tzinfo=UTC)))
    stranger = member_with_token("other.csm@vendor.example", "csm")
    reasons = {who: [a["reason"] for a in client.get("/api/kpis/weekly", headers=h).json()["attention"]]
               for who, h in (("admin", admin), ("csm", csm), ("stranger", stranger))}
    assert reasons == {"admin": ["health red, score 35"], "csm": ["health red, score 35"], "stranger": []}


def test_a_past_week_under_a_filter_lists_each_book_as_it_was_that_week(client, admin) -> None:
    """The per-person rows of an ended week follow the segment filter from that week's snapshot: the account
    moved to another segment since, and last week still shows its CSM and AM under the segment it had."""
    from journey import db
    from journey.kit import utcnow
    from journey.kpis import service
    from journey.models import Account, KpiSnapshot

    account_id, _, _ = _world(client)
    with db.transaction() as session:
        service.snapshot_week(session, week="2026-W47", now=utcnow())
        session.get(Account, account_id).segment = "smb"

    def people(week: str, segment: str) -> set[str]:
        body = client.get(f"/api/kpis/weekly?week={week}&segment={segment}", headers=admin).json()
        return {p["role"] for p in body["people"] if p["accounts"]}

    assert people("2026-W47", "mid_market") == {"csm", "am"} and people("2026-W47", "smb") == set()
    assert people("2026-W48", "smb") == {"csm", "am"}  # this week is read as it stands
    with db.transaction() as session:  # a week snapshotted before books were kept within each filter...
        for row in session.scalars(select(KpiSnapshot).where(KpiSnapshot.scope.contains("|"))):
            session.delete(row)
        session.flush()
        kept = {s.scope: s.taken_at for s in session.scalars(select(KpiSnapshot))}
        assert service.snapshot_week(session, week="2026-W47", now=utcnow()) == 4  # ...gains them once
        assert service.snapshot_week(session, week="2026-W47", now=utcnow()) == 0
        assert {s.scope: s.taken_at for s in session.scalars(select(KpiSnapshot)) if s.scope in kept} == kept
    assert people("2026-W47", "smb") == {"csm", "am"}  # backfilled from today's rows: the segment it has now
