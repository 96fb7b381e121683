"""The /team page's weekly review: week over week from the snapshots, per-person tables, filters, and a CSV
export of every table that a spreadsheet opens without running formulas."""
from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from tests.builders import deal_signed, drain, member_with_password, post_event, sign_in

pytestmark = [pytest.mark.usefixtures("db_url"), pytest.mark.clock("2026-11-25T09:00:00Z")]


def _world(client) -> None:  # type: ignore[no-untyped-def]
    from journey import db
    from journey.cli import app
    from journey.models import Account, HealthHistory, HealthScore

    post_event(client, deal_signed(deal={"signed_at": "2026-11-02T10:00:00Z"},
                                   account={"name": "=HYPERLINK(\"http://evil\")"}))
    assert drain() == ["processed"]
    with db.transaction() as session:
        account_id = session.scalars(select(Account.id)).one()
        for day, band in ((date(2026, 11, 10), "red"), (date(2026, 11, 24), "green")):
            session.add(HealthHistory(account_id=account_id, day=day, score=40, band=band, scorecard_version=1))
        session.add(HealthScore(account_id=account_id, score=35, band="red", scorecard="default", scorecard_version=1,
                                stage="adoption", computed_at=datetime(2026, 11, 25, 8, tzinfo=UTC)))
    assert CliRunner().invoke(app, ["kpis", "backfill", "--weeks", "3"]).exit_code == 0
    member_with_password("boss@vendor.example", "manager")
    sign_in(client, "boss@vendor.example")


def _csv(client, table: str, **more: str) -> list[list[str]]:  # type: ignore[no-untyped-def]
    response = client.get("/team/export.csv", params={"table": table, **more})
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    return list(csv.reader(io.StringIO(response.text)))


def test_a_manager_reads_the_week_over_week_review(client) -> None:
    _world(client)
    page = client.get("/team?week=2026-W48").text
    assert "Weekly review · week 2026-W48" in page and "From the snapshot taken for that week" in page
    assert "Per CSM and AM" in page and "gross revenue retention" in page
    assert page.count('<svg class="chart"') == 5  # a 12-week line per KPI and ARR at risk...
    assert page.count("No value in these weeks") == 1  # ...but time to value: no account reached value
    bad = client.get("/team?week=last")
    assert bad.status_code == 200 and "must look like 2027-W05" in bad.text


def test_every_table_exports_as_csv(client) -> None:
    _world(client)
    kpis = _csv(client, "kpis", week="2026-W48")
    assert kpis[0] == ["KPI", "Unit", "This week", "Last week", "Change"] and len(kpis) == 6
    money = {row[0]: row[1:] for row in _csv(client, "money", week="2026-W48")}
    assert money["ARR at risk"] == ["EUR", "0", "48000", "-48000"]  # red last week, green on Tuesday: bare numbers
    assert money["Contract value (ARR)"] == ["EUR", "48000", "48000", "0"]
    people = _csv(client, "people", week="2026-W48")
    assert people[0][-2:] == ["ARR at risk (EUR)", "ARR at risk change (EUR)"]  # money columns name the currency
    assert [r[1] for r in people[1:]] == ["AM", "CSM"] or [r[1] for r in people[1:]] == ["CSM", "AM"]
    attention = _csv(client, "attention")
    assert attention[1][0].startswith("'=HYPERLINK")  # a name starting with = is text, not a formula
    assert attention[1][1:3] == ["Red", "35"]
    history = _csv(client, "history", week="2026-W48")
    assert len(history) == 13 and history[0][0] == "Week starting" and history[0][-1] == "ARR at risk (EUR)"
    assert client.get("/team/export.csv", params={"table": "secrets"}).status_code == 422


def test_the_am_sets_an_opportunity_from_the_account_page(client) -> None:
    from journey import db
    from journey.models import Account, Opportunity, TeamMember
    from journey.team.service import _hasher
    from tests.builders import WEB_PASSWORD, web_csrf

    _world(client)
    client.cookies.clear()
    with db.transaction() as session:  # the AM the CRM named, given a password and the right to sign in
        am = session.scalars(select(TeamMember).where(TeamMember.email == "am@vendor.example")).one()
        am.password_hash, am.can_sign_in = _hasher.hash(WEB_PASSWORD), True
        account_id = session.scalars(select(Account.id)).one()
    sign_in(client, "am@vendor.example")
    page = f"/accounts/{account_id}"
    added = client.post(f"{page}/opportunities", data={"title": "Second team", "amount": "12,000",
                                                       "csrf_token": web_csrf(client, page)}, follow_redirects=False)
    assert added.status_code == 303
    with db.transaction(writer=False) as session:
        row = session.scalars(select(Opportunity)).one()
    assert (row.title, row.amount, row.stage, row.source) == ("Second team", 12000, "open", "manual")
    shown = client.get(page).text
    assert "Second team" in shown and "12,000" in shown and f'action="{page}/opportunities/{row.id}"' in shown
    bad = client.post(f"{page}/opportunities/{row.id}", data={"amount": "twelve", "stage": "won",
                                                              "csrf_token": web_csrf(client, page)})
    assert bad.status_code == 422 and "not a number" in bad.text
    assert 'value="twelve"' in bad.text and '<option value="won" selected>' in bad.text  # what was typed stays
    assert "type it in the contract&#39;s currency, e.g. 12000" in bad.text and 'id="opportunity-error"' in bad.text
    again = client.post(f"{page}/opportunities", data={"title": "Second team", "amount": "1O00",
                                                       "csrf_token": web_csrf(client, page)})
    assert again.status_code == 422 and 'value="Second team"' in again.text and 'value="1O00"' in again.text
    assert "<details open>" in again.text
    won = client.post(f"{page}/opportunities/{row.id}", data={"amount": "15000", "stage": "won",
                                                              "csrf_token": web_csrf(client, page)},
                      follow_redirects=False)
    assert won.status_code == 303
    with db.transaction(writer=False) as session:
        row = session.scalars(select(Opportunity)).one()
    assert (row.amount, row.stage) == (15000, "won") and row.closed_at is not None


def _two_segments(client) -> None:  # type: ignore[no-untyped-def]
    """A mid-market account in France (Camille, Morgan) and an SMB one in the US (Chris, Morgan), each with an
    opportunity; a manager signed in."""
    from journey import db
    from journey.kpis import opportunities
    from journey.models import Account

    post_event(client, deal_signed(deal={"signed_at": "2026-11-02T10:00:00Z"}))
    post_event(client, deal_signed(
        deal_id="D-2002", account_id="C-88", deal={"signed_at": "2026-11-03T10:00:00Z", "amount": "9000.00"},
        account={"name": "Tiny Co", "domain": "tiny.example", "segment": "smb", "region": "US",
                 "timezone": "America/New_York"},
        owners={"csm": {"email": "chris@vendor.example", "name": "Chris CSM"}}))
    assert drain() == ["processed", "processed"]
    with db.transaction() as session:
        ids = dict(session.execute(select(Account.segment, Account.id)).tuples().all())
        now = datetime(2026, 11, 25, 8, tzinfo=UTC)
        for segment, title, amount in (("mid_market", "Second team", 12000), ("smb", "Premium SLA", 3000)):
            opportunities.raise_opportunity(session, account_id=ids[segment], title=title, source="manual",
                                            amount=Decimal(amount), stage="proposed", now=now)
    member_with_password("boss@vendor.example", "manager")
    sign_in(client, "boss@vendor.example")


def test_every_table_card_and_export_follows_the_segment_and_region_filter(client) -> None:
    _two_segments(client)
    everyone = {r[0]: r for r in _csv(client, "people")[1:]}
    assert set(everyone) == {"Camille CSM", "Chris CSM", "Morgan AM"} and everyone["Morgan AM"][2] == "2"
    smb = {r[0]: r for r in _csv(client, "people", segment="smb")[1:]}
    assert set(smb) == {"Chris CSM", "Morgan AM"} and smb["Morgan AM"][2] == "1"  # his SMB account only
    france = {r[0]: r for r in _csv(client, "people", region="FR")[1:]}
    assert set(france) == {"Camille CSM", "Morgan AM"} and france["Morgan AM"][2] == "1"
    assert [r[:4] for r in _csv(client, "pipeline", segment="smb")[1:]] == [["Tiny Co", "Premium SLA", "Proposed",
                                                                             "3000"]]
    money = {row[0]: row[2] for row in _csv(client, "money", region="US")}
    assert money["Contract value (ARR)"] == "9000" and money["Expansion pipeline"] == "3000"
    page = client.get("/team", params={"segment": "smb"}).text
    assert "smb segment" in page.lower() or "SMB segment" in page
    assert "Expansion pipeline: €3,000 in 1 opportunity" in page and "Second team" not in page
    assert "Camille CSM" not in page  # the per-person table too
    whole = client.get("/team").text
    assert "Expansion pipeline: €15,000 in 2 opportunities" in whole  # one figure: money, with the count


def test_a_filter_error_keeps_what_was_typed_and_says_what_to_change(client) -> None:
    _two_segments(client)
    both = client.get("/team", params={"segment": "smb", "region": "FR", "week": "2026-W48"})
    assert both.status_code == 200
    assert "Pick a segment or a region, not both: set one of them back to All" in both.text
    assert '<option value="smb" selected>' in both.text and '<option value="FR" selected>' in both.text
    assert 'aria-invalid="true" aria-describedby="region-error"' in both.text
    week = client.get("/team", params={"week": "last Monday", "segment": "smb"})
    assert week.status_code == 200 and 'value="last Monday"' in week.text
    assert "week must look like 2027-W05" in week.text and "Showing this week instead" in week.text
    assert '<option value="smb" selected>' in week.text
