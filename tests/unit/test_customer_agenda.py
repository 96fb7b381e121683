"""The customer's agenda is built from customer-facing fields only: its type has no place for the rest."""
from dataclasses import fields

from journey.reviews.agenda_domain import CustomerAgenda, CustomerObjective, customer_agenda

VALIDATED = {"title": "Cut onboarding time", "kpi": "days to first ticket", "baseline": 21, "target": 7,
             "unit": "days", "due": "2027-06-01", "source": "customer_validated", "metric": "INTERNAL-METRIC",
             "latest": {"value": 12, "comment": "INTERNAL-COMMENT"}, "status": {"status": "at_risk"}}
ASSUMED = {"title": "Adoption", "kpi": "INTERNAL-KPI", "baseline": 1, "target": 4242, "unit": "INTERNAL-UNIT",
           "source": "sales_assumed"}


def agenda(**over) -> CustomerAgenda:  # type: ignore[no-untyped-def]
    values = dict(review_id=7, title="Strategic review", account="Acme", when="Tuesday 20 April 2027, 14:30",
                  attendees=["Chloé Martin (executive_sponsor)"], objectives=[VALIDATED, ASSUMED],
                  previous_next_steps=["Roll out to Lyon"])
    return customer_agenda(**(values | over))


def test_agreed_objectives_carry_their_targets_and_assumptions_only_their_title() -> None:
    a = agenda()
    assert a.objectives == (
        CustomerObjective("Cut onboarding time", "days to first ticket", 21.0, 7.0, "days", "2027-06-01"),
        CustomerObjective("Adoption"))
    assert "INTERNAL" not in repr(a) and "4242" not in repr(a) and "at_risk" not in repr(a)


def test_the_customer_agenda_has_no_internal_field() -> None:
    internal = {"health", "risks", "promises", "se_notes", "previous_expansion", "notes", "latest", "status",
                "source"}
    assert not internal & {f.name for f in fields(CustomerAgenda)}
    assert not internal & {f.name for f in fields(CustomerObjective)}


def test_agenda_items_follow_what_there_is_to_discuss() -> None:
    assert agenda().items == ("Objectives: where we stand against the targets",
                              "Follow-up on the next steps agreed last time", "Questions and feedback",
                              "Next steps: who does what, by when")
    first = agenda(objectives=[], previous_next_steps=[])
    assert first.items[0] == "Objectives: agree what success looks like" and len(first.items) == 3
    assert first.purpose == "Take stock of Acme's objectives together and agree the next steps."
