"""The packet's version history in words: a sentence per change, labels as words, numbers formatted."""
from __future__ import annotations

import pytest

from journey.handoff import wording


@pytest.mark.parametrize(("path", "old", "new", "said"), [
    ("objectives[Halve onboarding time].target", 7, 5, "Objective 'Halve onboarding time': target 7 → 5 days"),
    ("deal_terms.amount", "48000.00", "52000.50", "Deal terms: amount 48,000 → 52,000.5"),
    ("deal_terms.contract_end", None, "2027-11-30", "Deal terms: contract end set to 30 Nov 2027"),
    ("stakeholders[chloe@acme.example].role", "champion", "executive_sponsor",
     "Stakeholder 'chloe@acme.example': role Champion → Executive sponsor"),
    ("stakeholders[chloe@acme.example]", None, {"name": "Chloé Martin", "role": "executive_sponsor"},
     "Stakeholder 'Chloé Martin' added"),
    ("risks", ["IT capacity"], ["IT capacity", "Data migration"], "Risks: added 'Data migration'"),
    ("se_notes", "SSO", None, "SE notes: cleared (was 'SSO')"),
    ("objectives[Halve onboarding time].source", "sales_assumed", "customer_validated",
     "Objective 'Halve onboarding time': source assumed by sales → validated by the customer"),
])
def test_each_change_is_a_sentence(path, old, new, said) -> None:
    assert wording.sentence(path, old, new, {"Halve onboarding time": "days"}) == said


def test_no_json_reaches_the_reader() -> None:
    lines = wording.sentences([{"path": "objectives[X]", "old": {"title": "X", "target": 3}, "new": None},
                               {"path": "why_bought", "old": "a" * 200, "new": "short"}])
    assert lines[0] == "Objective 'X' removed"
    assert lines[1].startswith("Why they bought: '" + "a" * 80 + "…' → 'short'")
    assert not any("{" in line or "[" in line for line in lines)
