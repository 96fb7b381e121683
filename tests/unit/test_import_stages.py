"""Which rows of a CRM export are won deals, by the webhooks' templates/crm mapping; column labels; Salesforce ids."""
from __future__ import annotations

import pytest

from journey.adapters.crm.mapping import CrmMapping
from journey.imports.columns import column_for, salesforce_id18
from journey.imports.stages import Columns, judge

HUBSPOT = CrmMapping("hubspot", won_stages={"default": frozenset({"closedwon"}), "76543": frozenset({"98765"})})
SALESFORCE = CrmMapping("salesforce", won_stages={"*": frozenset({"Closed Won"})})
HS_COLUMNS = Columns(stage="Deal Stage", pipeline="Pipeline")
SF_COLUMNS = Columns(stage="Stage", won="Won")


@pytest.mark.parametrize(("pipeline", "stage", "rejected"), [
    ("Sales Pipeline", "Closed Won", None),  # labels of HubSpot's built-in pipeline and stage
    ("default", "closedwon", None),  # ids
    ("76543", "98765", None),
    ("", "98765", None),  # no pipeline: a stage id is unique across pipelines
    ("", "Closed Won", "cannot be placed"),  # ... a label is not
    ("Sales Pipeline", "Closed Lost", "'Closed Lost' is not a won stage of pipeline 'Sales Pipeline'"),
    ("Renewals", "Closed Won", "pipeline 'Renewals' has no won stages"),
    ("Sales Pipeline", "", "empty Deal Stage"),
])
def test_hubspot_rows(pipeline: str, stage: str, rejected: str | None) -> None:
    verdict = judge("hubspot", HUBSPOT, HS_COLUMNS, {"Deal Stage": stage, "Pipeline": pipeline})
    assert (verdict.rejected is None) if rejected is None else (rejected in (verdict.rejected or ""))


@pytest.mark.parametrize(("won", "stage", "rejected"), [
    ("1", "Closed Won", None),
    ("TRUE", "Anything", None),  # the checkbox decides, as IsWon does for Outbound Messages
    ("0", "Closed Lost", "Won is '0' (stage 'Closed Lost'), not won"),
    ("maybe", "Closed Won", "expected 1 or 0"),
    ("", "Closed Won", None),  # no checkbox value: the stage against won_stages["*"]
    ("", "Negotiation/Review", "'Negotiation/Review' is not a won stage in templates/crm/salesforce.yaml"),
])
def test_salesforce_rows(won: str, stage: str, rejected: str | None) -> None:
    verdict = judge("salesforce", SALESFORCE, SF_COLUMNS, {"Stage": stage, "Won": won})
    assert verdict.rejected == rejected or (rejected is not None and rejected in (verdict.rejected or ""))


@pytest.mark.parametrize(("status", "won"), [("Won", True), ("won", True), ("Lost", False), ("Open", False),
                                             ("", False)])
def test_pipedrive_rows(status: str, won: bool) -> None:
    verdict = judge("pipedrive", CrmMapping("pipedrive"), Columns(stage="Deal - Status"), {"Deal - Status": status})
    assert (verdict.rejected is None) is won


def test_a_mapping_files_own_won_stages() -> None:
    columns = Columns(stage="Status", won_values=frozenset({"Signed"}))
    assert judge("import", CrmMapping("import"), columns, {"Status": "signed"}).rejected is None
    assert "not one of the mapping's won_stages" in judge("import", CrmMapping("import"), columns,
                                                           {"Status": "Draft"}).rejected


@pytest.mark.parametrize(("field", "headers", "found"), [
    ("go_live_date", ["Record ID", "Go-live date"], "Go-live date"),
    ("Go_Live_Date__c", ["Go Live Date"], "Go Live Date"),
    ("company.customer_segment", ["Customer Segment"], "Customer Segment"),
    ("seats", ["Deal - Seats"], "Deal - Seats"),
    ("seats", ["Seats", "SEATS"], None),  # ambiguous: left out rather than guessed
    ("5b1e2c3d4e5f60718293a4b5c6d7e8f901234567", ["Deal - Go-live"], None),
])
def test_mapping_fields_are_found_by_their_label(field: str, headers: list[str], found: str | None) -> None:
    assert column_for(field, headers) == found


def test_salesforce_15_character_ids_get_their_case_safe_suffix() -> None:
    assert salesforce_id18("001A0000006Vm9r", "salesforce") == "001A0000006Vm9rIAC"  # the commonly quoted example
    assert salesforce_id18("001A0000006Vm9rIAC", "salesforce") == "001A0000006Vm9rIAC"
    assert salesforce_id18("001A0000006Vm9r", "hubspot") == "001A0000006Vm9r"
