"""Nothing internal reaches a customer: every internal field carries a marker, and no customer-bound artifact
(the .ics of the API and of the web page, the invitation e-mails the organizer forwards, their attachments)
contains one, while the team's agenda still shows them all. Also: every invitation has an ORGANIZER."""
from __future__ import annotations

import pytest
from icalendar import Calendar
from sqlalchemy import select

from journey import db
from journey.models import OutboxMessage
from tests.builders import deal_signed, drain, member_with_password, member_with_token, post_event, sign_in

pytestmark = [pytest.mark.usefixtures("db_url"), pytest.mark.clock("2026-11-21T10:00:00Z")]

NOTES = {"why_bought": "INTERNAL-WHY-BOUGHT", "alternatives": "INTERNAL-ALTERNATIVES",
         "promises": ["INTERNAL-PROMISE"], "risks": ["INTERNAL-RISK"], "technical_scope": "INTERNAL-SCOPE",
         "se_notes": "INTERNAL-SE-NOTES"}
OBJECTIVES = [
    {"title": "Cut onboarding time", "kpi": "days to first ticket", "baseline": 21, "target": 7, "unit": "days",
     "due": "2027-06-01", "source": "customer_validated"},
    {"title": "Adoption across support", "kpi": "INTERNAL-ASSUMED-KPI", "baseline": 3, "target": 4242,
     "unit": "INTERNAL-ASSUMED-UNIT", "source": "sales_assumed"},
]
OUTCOME = {"notes": "INTERNAL-OUTCOME-NOTES", "expansion_opportunities": ["INTERNAL-EXPANSION"],
           "next_steps": ["Share the Lyon rollout plan"],
           "progress": [{"objective": "Cut onboarding time", "value": 12, "comment": "INTERNAL-PROGRESS-COMMENT"}]}
MARKERS = ["INTERNAL-", "4242"]
# what the team's agenda says around them: health, risks, flags, gaps in the data
INTERNAL_WORDS = ["Health", "/100", "Open risks", "Promises", "not yet validated", "not measured yet",
                  "no data for", "Expansion", "raised before", "SE notes", "on track", "at risk"]


def _journey(client) -> tuple[dict[str, dict], dict[str, str]]:  # type: ignore[no-untyped-def]
    member_with_password("csm@vendor.example", "csm", name="Camille CSM")
    post_event(client, deal_signed(objectives=OBJECTIVES, notes=NOTES))
    assert drain() == ["processed"]
    csm = member_with_token("csm@vendor.example", "csm")
    reviews = client.get("/api/accounts/crm:events:C-77/reviews", headers=csm).json()["items"]
    return {r["kind"]: r for r in reviews}, csm


def _unfolded(ics: bytes | str) -> str:
    text = ics.decode() if isinstance(ics, bytes) else ics
    return text.replace("\r\n ", "").replace("\\n", "\n").replace("\\,", ",").replace("\\;", ";")


def _leaks(text: str) -> list[str]:
    return [word for word in MARKERS + INTERNAL_WORDS if word.casefold() in text.casefold()]


def test_invitations_carry_the_customers_agenda_only(client, clock) -> None:
    reviews, csm = _journey(client)
    clock.move_to("2027-02-18T11:00:00Z")  # the 90-day review took place this morning
    held = client.post(f"/api/reviews/{reviews['90_day']['id']}/outcome", headers=csm, json=OUTCOME)
    assert held.status_code == 200, held.text
    review_id = reviews["3_month"]["id"]
    booked = client.patch(f"/api/reviews/{review_id}", headers=csm, json={"starts_at": "2027-04-20T14:30:00+02:00"})
    assert booked.status_code == 200, booked.text
    client.patch(f"/api/reviews/{reviews['6_month']['id']}", headers=csm, json={"status": "cancelled"})

    # the team's agenda still has every internal field: the markers are there to be found
    team = client.get(f"/api/reviews/{review_id}/agenda", headers=csm).json()
    for marker in ("INTERNAL-RISK", "INTERNAL-PROMISE", "INTERNAL-SE-NOTES", "INTERNAL-EXPANSION",
                   "INTERNAL-PROGRESS-COMMENT", "INTERNAL-ASSUMED-KPI", "not yet validated", "Health"):
        assert marker in team["text"] and marker in team["html"], marker

    api_ics = client.get(f"/api/reviews/{review_id}.ics", headers=csm).content
    sign_in(client, "csm@vendor.example")
    web_ics = client.get(f"/reviews/{review_id}.ics").content
    with db.transaction(writer=False) as s:
        mails = s.scalars(select(OutboxMessage).where(OutboxMessage.dedupe_key.like("email:review:%:invitation:%"))
                          .order_by(OutboxMessage.id)).all()
    assert len(mails) == 2 and all("forward it to the attendees" in m.body_text for m in mails)
    artifacts = {"api .ics": _unfolded(api_ics), "web .ics": _unfolded(web_ics), "customer_text": team["customer_text"]}
    for mail in mails:
        artifacts[f"{mail.subject} (body)"] = f"{mail.subject}\n{mail.body_text}\n{mail.body_html or ''}"
        artifacts |= {f"{mail.subject} ({a['filename']})": _unfolded(a["content"]) for a in mail.attachments}
    assert {name: _leaks(text) for name, text in artifacts.items()} == {name: [] for name in artifacts}

    # what the customer does get: purpose, agreed objectives and targets, agenda items, last time's next steps
    [event] = Calendar.from_ical(api_ics).walk("VEVENT")
    description = str(event["description"])
    for expected in ("Purpose: Take stock of", "1. Objectives: where we stand against the targets",
                     "Cut onboarding time (days to first ticket: 21 -> 7 days, by 2027-06-01)",
                     "Adoption across support", "Share the Lyon rollout plan"):
        assert expected in description, expected
    assert description in mails[0].body_text  # the e-mail to forward shows the same agenda
    assert str(event["organizer"]) == "mailto:csm@vendor.example"


@pytest.mark.parametrize(("owners", "organizer"), [
    ({"csm": None}, "mailto:am@vendor.example"),
    ({"csm": None, "am": None}, "mailto:reviews@vendor.example"),
])
def test_every_invitation_has_an_organizer(client, monkeypatch, owners, organizer) -> None:
    from journey.config import get_settings

    monkeypatch.setenv("JOURNEY_SMTP_FROM", "reviews@vendor.example")
    get_settings.cache_clear()
    post_event(client, deal_signed(owners=owners))
    assert drain() == ["processed"]
    admin = member_with_token("admin@vendor.example", "admin")
    [review, *_] = client.get("/api/accounts/crm:events:C-77/reviews", headers=admin).json()["items"]
    cal = Calendar.from_ical(client.get(f"/api/reviews/{review['id']}.ics", headers=admin).content)
    [event] = cal.walk("VEVENT")
    assert str(event["organizer"]) == organizer
    assert organizer.removeprefix("mailto:") not in [str(a).removeprefix("mailto:") for a in
                                                     (event.get("attendee") or [])]

    booked = client.patch(f"/api/reviews/{review['id']}", headers=admin, json={"starts_at": "2027-04-20T10:00:00Z"})
    assert booked.status_code == 200, booked.text
    with db.transaction(writer=False) as s:
        recipients = s.scalars(select(OutboxMessage.recipient)
                               .where(OutboxMessage.dedupe_key.like("email:review:%:invitation:%"))).all()
    # the AM organizes and gets the .ics to send; with nobody on the account there is no one to send it
    assert recipients == (["am@vendor.example"] if "am@" in organizer else [])
