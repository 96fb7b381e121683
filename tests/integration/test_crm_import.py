"""`journey import deals`: CRM exports and generic CSVs become journeys, once, with rejected rows explained."""
from __future__ import annotations

import csv

import pytest
from typer.testing import CliRunner

pytestmark = pytest.mark.usefixtures("db_url")

GENERIC = (
    "deal_id,deal_name,amount,currency,signed_at,contract_start,contract_end,expected_go_live,seats,account_id,"
    "account_name,segment,region,timezone,ae_email,csm_email,am_email\n"
    "D-1,Acme - Platform,48000.00,EUR,2026-11-20T13:55:00Z,2026-12-01,2027-11-30,2027-01-15,120,C-1,"
    "\"<b>Acme</b>; DROP TABLE deal;--\",mid_market,FR,Europe/Paris,ae@vendor.example,csm@vendor.example,\n"
    "D-2,Globex,-10,EUR,2026-11-20T13:55:00Z,,,,,C-2,Globex,smb,US,America/New_York,,,\n"
    "D-3,Initech,9000,USD,2026-11-21T10:00:00Z,,,,,C-3,Initech 🚀 שלום,smb,US,Mars/Olympus,,,\n"
    ",No id,1,EUR,,,,,,C-4,X,,,,,,\n"
)
# Headers as each CRM exports them. HubSpot "Export" of the deals view: property labels, "Record ID", stage and
# pipeline as labels, "Associated Company IDs" (knowledge.hubspot.com, "Export your records"). Salesforce: a
# tabular Opportunities report exported as CSV ("Details only"): field labels, 15-character ids, the "Won"
# checkbox as 1/0 (help.salesforce.com, "Export a Report"). Pipedrive "Export data" of deals: field labels
# prefixed with the entity, "Deal - Status" Won/Lost/Open, related organisation fields as "Organization - ..."
# (support.pipedrive.com, "Exporting data"). Dates are ISO here; other formats are rejected, naming the field.
HUBSPOT = (
    "Record ID,Deal Name,Deal Stage,Close Date,Deal owner,Amount,Pipeline,Associated Company IDs,"
    "Associated Company,Go-live date,Seats\n"
    "4711,Acme - Platform,Closed Won,2026-11-20 13:55,Alice AE,48000,Sales Pipeline,9001,Acme SAS,2027-01-15,120\n"
    "4712,Acme - Pilot,Closed Lost,2026-11-19 10:00,Alice AE,1000,Sales Pipeline,9001,Acme SAS,,\n"
    "4713,Acme - Renewal,Closed won,2026-11-18 09:00,Alice AE,9000,Renewals,9001,Acme SAS,,\n"
    "4714,Acme - Add-on,Contract Sent,,Alice AE,500,Sales Pipeline,9001,Acme SAS,,\n"
)
SALESFORCE = (
    "Opportunity Owner,Account Name,Opportunity Name,Stage,Amount,Close Date,Won,Closed,Opportunity ID,Account ID,"
    "Segment,Go Live Date,CSM Email,Customer Time Zone\n"
    "Alice AE,Acme SAS,Acme - Platform,Closed Won,48000,2026-11-20,1,1,0065g00000AbCdE,0015g00000XyZaB,Mid-Market,"
    "2027-01-15,csm@vendor.example,Europe/Paris\n"
    "Alice AE,Globex,Globex - Pilot,Closed Lost,1000,2026-11-19,0,1,0065g00000AbCdF,0015g00000XyZaC,SMB,,,\n"
)
SF_DEAL, SF_ACCOUNT = "0065g00000AbCdEAAV", "0015g00000XyZaBAAV"  # the 18-character ids Outbound Messages carry
PIPEDRIVE = (
    "Deal - ID,Deal - Title,Deal - Owner,Deal - Value,Deal - Currency of Value,Deal - Organization,"
    "Organization - ID,Deal - Pipeline,Deal - Stage,Deal - Status,Deal - Won time,Deal - Lost time,"
    "Deal - Lost reason\n"
    "812,Acme - Platform,Alice AE,48000,EUR,Acme SAS,77,Pipeline,Negotiations Started,Won,2026-11-20 14:25:00,,\n"
    "813,Globex - Pilot,Alice AE,1000,EUR,Globex,88,Pipeline,Proposal Made,Lost,,2026-11-19 10:00:00,Price\n"
    "814,Initech,Alice AE,500,EUR,Initech,89,Pipeline,Qualified,Open,,,\n"
)


def _run(path, *args):
    from journey.cli import app

    return CliRunner().invoke(app, ["import", "deals", str(path), *args])


def _journey_count(deal_source: str) -> int:
    from sqlalchemy import func, select

    from journey import db
    from journey.models import Deal, Journey

    with db.transaction(writer=False) as session:
        return session.scalar(select(func.count()).select_from(Journey).join(Deal, Deal.id == Journey.deal_id)
                              .where(Deal.crm_source == deal_source))


def test_generic_csv_imports_once_and_explains_rejected_rows(tmp_path) -> None:
    path = tmp_path / "deals.csv"
    path.write_text(GENERIC, encoding="utf-8")
    first = _run(path)
    assert first.exit_code == 0, first.output
    assert "1 created, 0 already known, 3 rejected" in first.output
    assert _journey_count("import") == 1
    with open(tmp_path / "deals.rejected.csv", encoding="utf-8") as handle:
        rejected = {row["deal_id"] or "(empty)": row["reason"] for row in csv.DictReader(handle)}
    assert "Mars/Olympus" in rejected["D-3"] and "deal_id" in rejected["(empty)"]
    second = _run(path)
    assert "0 created, 1 already known, 3 rejected" in second.output
    assert _journey_count("import") == 1


def test_negative_amount_is_rejected_with_the_field_named(tmp_path) -> None:
    path = tmp_path / "deals.csv"
    path.write_text(GENERIC, encoding="utf-8")
    _run(path)
    text = (tmp_path / "deals.rejected.csv").read_text(encoding="utf-8")
    line = next(row for row in text.splitlines() if ",D-2," in row)
    assert "deal.amount" in line and "greater than or equal to 0" in line


def _rejected(path, key: str | None = None) -> dict[str, str]:
    """The rejected rows file: deal id (the column of the export that names it) -> reason."""
    with open(path.with_name(path.stem + ".rejected.csv"), encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    key = key or next(k for k in ("Record ID", "Opportunity ID", "Deal - ID", "deal_id") if k in rows[0])
    return {row[key]: row["reason"] for row in rows}


def _deal(source: str, external_id: str):
    from sqlalchemy import select

    from journey import db
    from journey.models import Deal

    with db.transaction(writer=False) as session:
        deal = session.scalars(select(Deal).where(Deal.crm_source == source,
                                                  Deal.crm_external_id == external_id)).one_or_none()
        session.expunge_all()
        return deal


def test_hubspot_export_signs_won_stages_of_the_mapping_and_explains_the_others(tmp_path) -> None:
    path = tmp_path / "hubspot.csv"
    path.write_text(HUBSPOT, encoding="utf-8")
    result = _run(path)
    assert result.exit_code == 0, result.output
    assert "1 created, 0 already known, 3 rejected" in result.output
    assert "crm:hubspot:<id>" in result.output
    assert _journey_count("hubspot") == 1
    reasons = _rejected(path)
    assert "'Closed Lost' is not a won stage of pipeline 'Sales Pipeline'" in reasons["4712"]
    assert "pipeline 'Renewals' has no won stages in templates/crm/hubspot.yaml" in reasons["4713"]
    assert "'Contract Sent' is not a won stage" in reasons["4714"]
    deal = _deal("hubspot", "4711")  # hubspot.yaml's fields go_live_date and seats, read from their labels
    assert (str(deal.expected_go_live), deal.seats) == ("2027-01-15", 120)
    assert "0 created, 1 already known, 3 rejected" in _run(path).output


def test_hubspot_won_stages_come_from_the_templates_mapping(tmp_path, monkeypatch) -> None:
    import shutil

    from journey.config import PROJECT_ROOT, get_settings

    templates = tmp_path / "templates"
    shutil.copytree(PROJECT_ROOT / "templates", templates)
    mapping = templates / "crm" / "hubspot.yaml"
    mapping.write_text(mapping.read_text(encoding="utf-8").replace(
        "  default: [closedwon]", "  default: [closedwon]\n  Renewals: [Closed won]"), encoding="utf-8")
    monkeypatch.setenv("JOURNEY_TEMPLATES_DIR", str(templates))
    get_settings.cache_clear()
    path = tmp_path / "hubspot.csv"
    path.write_text(HUBSPOT, encoding="utf-8")
    assert "2 created, 0 already known, 2 rejected" in _run(path).output
    assert _deal("hubspot", "4713") is not None


def test_hubspot_export_without_a_stage_column_is_refused(tmp_path) -> None:
    path = tmp_path / "hubspot.csv"
    path.write_text("Record ID,Deal Name,Close Date\n4711,Acme,2026-11-20\n", encoding="utf-8")
    result = _run(path)
    assert result.exit_code == 2 and "Deal Stage" in result.output and _journey_count("hubspot") == 0


def test_salesforce_report_export_uses_won_and_the_mapping_fields_under_18_character_ids(
        tmp_path, client, admin) -> None:
    path = tmp_path / "opportunities.csv"
    path.write_text(SALESFORCE, encoding="utf-8")
    result = _run(path)
    assert "1 created, 0 already known, 1 rejected" in result.output, result.output
    assert _rejected(path)["0065g00000AbCdF"] == "Won is '0' (stage 'Closed Lost'), not won"
    journeys = client.get(f"/api/journeys?deal=crm:salesforce:{SF_DEAL}", headers=admin).json()["items"]
    assert [j["status"] for j in journeys] == ["active"]
    account = client.get(f"/api/accounts/crm:salesforce:{SF_ACCOUNT}", headers=admin).json()
    assert (account["name"], account["segment"], account["timezone"]) == ("Acme SAS", "mid_market", "Europe/Paris")
    assert account["csm"]["email"] == "csm@vendor.example"  # salesforce.yaml: owners.csm: CSM_Email__c
    assert "0 created, 1 already known, 1 rejected" in _run(path).output


def test_pipedrive_export_signs_won_status_only_and_addresses_the_organisation_as_webhooks_do(
        tmp_path, client, admin) -> None:
    path = tmp_path / "deals.csv"
    path.write_text(PIPEDRIVE, encoding="utf-8")
    result = _run(path)
    assert "1 created, 0 already known, 2 rejected" in result.output, result.output
    assert _rejected(path) == {"813": "Deal - Status is 'Lost', not won", "814": "Deal - Status is 'Open', not won"}
    account = client.get("/api/accounts/crm:pipedrive:77", headers=admin).json()
    assert account["name"] == "Acme SAS"
    assert "0 created, 1 already known, 2 rejected" in _run(path).output


@pytest.fixture
def crm_webhooks(monkeypatch):
    from journey.config import get_settings
    from tests.fixtures.crm import payloads as p

    monkeypatch.setenv("JOURNEY_HUBSPOT_CLIENT_SECRET", p.HUBSPOT_SECRET)
    monkeypatch.setenv("JOURNEY_HUBSPOT_ACCESS_TOKEN", "pat-eu1-test")
    monkeypatch.setenv("JOURNEY_SALESFORCE_ORG_ID", p.SALESFORCE_ORG)
    monkeypatch.setenv("JOURNEY_SALESFORCE_PATH_TOKEN", p.SALESFORCE_TOKEN)
    get_settings.cache_clear()
    return p


def _statuses(client, admin, deal: str) -> list[str]:
    return [j["status"] for j in client.get(f"/api/journeys?deal={deal}", headers=admin).json()["items"]]


def test_a_lost_webhook_older_than_the_imported_close_date_does_not_pause_a_newer_one_does(
        tmp_path, client, admin, crm_webhooks) -> None:
    from tests.builders import drain

    p = crm_webhooks
    path = tmp_path / "hubspot.csv"
    path.write_text(HUBSPOT, encoding="utf-8")
    _run(path)  # deal 4711 closed won 2026-11-20 13:55 UTC
    day = 86_400_000
    for at, expected in ((p.T0 - day, "active"), (p.T0 + day, "paused")):  # T0 = 2026-11-20 14:00 UTC
        body = p.dumps([p.hubspot_event(4711, value="closedlost", at=at)])
        assert client.post("/webhooks/hubspot", content=body, headers=p.hubspot_signed(body)).status_code == 202
        assert drain() == ["processed"]
        assert _statuses(client, admin, "crm:hubspot:4711") == [expected]


def test_a_stale_salesforce_loss_after_the_import_is_ignored(tmp_path, client, admin, crm_webhooks) -> None:
    from tests.builders import drain

    p = crm_webhooks
    path = tmp_path / "opportunities.csv"
    path.write_text(SALESFORCE, encoding="utf-8")
    _run(path)  # closed 2026-11-20
    lost = p.opportunity(SF_DEAL, won=False, stage="Closed Lost", modified="2026-11-19T09:00:00.000Z")
    r = client.post(f"/webhooks/salesforce/{p.SALESFORCE_TOKEN}", content=p.salesforce_message(lost),
                    headers={"content-type": "text/xml; charset=utf-8", "soapaction": '""'})
    assert r.status_code == 200
    assert drain() == ["processed"]
    assert _statuses(client, admin, f"crm:salesforce:{SF_DEAL}") == ["active"]
    events = client.get("/api/events?limit=10", headers=admin).json()["items"]
    assert any("older than the stage change applied" in (e.get("error") or "") for e in events)


def test_an_import_older_than_a_recorded_webhook_stage_is_rejected(tmp_path, client, admin, crm_webhooks) -> None:
    from tests.builders import drain

    p = crm_webhooks
    body = p.dumps([p.hubspot_event(4711, value="closedlost", at=p.T0 + 86_400_000)])  # lost after the close date
    client.post("/webhooks/hubspot", content=body, headers=p.hubspot_signed(body))
    drain()
    path = tmp_path / "hubspot.csv"
    path.write_text(HUBSPOT, encoding="utf-8")
    assert "0 created, 0 already known, 4 rejected" in _run(path).output
    assert "already applied a newer stage" in _rejected(path)["4711"]
    assert _journey_count("hubspot") == 0


def test_unknown_columns_without_mapping_is_a_clear_error(tmp_path) -> None:
    path = tmp_path / "other.csv"
    path.write_text("Ref,Customer\n1,Acme\n", encoding="utf-8")
    result = _run(path)
    assert result.exit_code == 2 and "--mapping" in result.output


def test_mapping_file_names_the_columns(tmp_path) -> None:
    path = tmp_path / "other.csv"
    path.write_text("Ref,Customer,Signed\nR-9,Acme,2026-11-20T10:00:00Z\n", encoding="utf-8")
    mapping = tmp_path / "map.yaml"
    mapping.write_text("source: import\ncolumns:\n  deal.id: Ref\n  account.id: Customer\n"
                       "  deal.signed_at: Signed\n", encoding="utf-8")
    result = _run(path, "--mapping", str(mapping))
    assert "1 created" in result.output, result.output


def test_mapping_file_with_a_stage_column_rejects_rows_not_won(tmp_path) -> None:
    path = tmp_path / "other.csv"
    path.write_text("Ref,Customer,Signed,Status,Pipe\nR-1,Acme,2026-11-20T10:00:00Z,Closed Won,Sales Pipeline\n"
                    "R-2,Globex,2026-11-20T10:00:00Z,Closed Lost,Sales Pipeline\n", encoding="utf-8")
    mapping = tmp_path / "map.yaml"
    mapping.write_text("source: hubspot\nstage_column: Status\npipeline_column: Pipe\ncolumns:\n  deal.id: Ref\n"
                       "  account.id: Customer\n  deal.signed_at: Signed\n", encoding="utf-8")
    result = _run(path, "--mapping", str(mapping))
    assert "1 created, 0 already known, 1 rejected" in result.output, result.output
    assert "'Closed Lost' is not a won stage" in _rejected(path, key="Ref")["R-2"]
    bad = tmp_path / "bad.yaml"
    bad.write_text("stage_column: Status\ncolumns:\n  deal.id: Ref\n  account.id: Customer\n", encoding="utf-8")
    refused = _run(path, "--mapping", str(bad))
    assert refused.exit_code == 2 and "won_stages" in refused.output
