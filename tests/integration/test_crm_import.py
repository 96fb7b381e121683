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
HUBSPOT = (
    "Record ID,Deal Name,Deal Stage,Amount,Currency,Close Date,Associated Company,Associated Company IDs\n"
    "4711,Acme - Platform,Closed Won,48000,EUR,2026-11-20 13:55,Acme SAS,9001\n"
    "4712,Acme - Pilot,Closed Lost,1000,EUR,2026-11-19 10:00,Acme SAS,9001\n"
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


def test_hubspot_export_is_addressed_as_hubspot_and_skips_lost_deals(tmp_path) -> None:
    path = tmp_path / "hubspot.csv"
    path.write_text(HUBSPOT, encoding="utf-8")
    result = _run(path)
    assert "1 created, 0 already known, 1 rejected" in result.output
    assert "crm:hubspot:<id>" in result.output
    assert _journey_count("hubspot") == 1


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
