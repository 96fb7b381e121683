"""Reviews through the API: book, move (same UID, higher SEQUENCE), cancel, hold with an outcome, agenda."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from icalendar import Calendar
from sqlalchemy import select

from journey import db
from journey.models import ObjectiveProgress, OutboxMessage, Reminder, ReviewReminder
from tests.builders import deal_signed, drain, event, member_with_token, post_event

# Three days after the builders' deal was signed: the reviews and the bookings below are in the future.
pytestmark = [pytest.mark.usefixtures("db_url"), pytest.mark.clock("2026-11-23T09:00:00Z")]


def _journey(client) -> dict[str, dict]:  # type: ignore[no-untyped-def]
    post_event(client, deal_signed())
    assert drain() == ["processed"]
    csm = member_with_token("csm@vendor.example", "csm")
    reviews = client.get("/api/accounts/crm:events:C-77/reviews", headers=csm).json()["items"]
    return {"csm": csm, **{r["kind"]: r for r in reviews}}


def _ics(client, review_id: int, headers) -> Calendar:  # type: ignore[no-untyped-def]
    response = client.get(f"/api/reviews/{review_id}.ics", headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/calendar")
    return Calendar.from_ical(response.content)


def _pending_reminders(review_id: int) -> list[tuple[int, int]]:
    with db.transaction(writer=False) as s:
        rows = s.scalars(select(ReviewReminder).where(ReviewReminder.review_id == review_id,
                                                      ReviewReminder.status == "pending"))
        return sorted((r.sequence, r.lead_days) for r in rows)


def _invitation_messages() -> list[OutboxMessage]:
    with db.transaction(writer=False) as s:
        return list(s.scalars(select(OutboxMessage).where(OutboxMessage.dedupe_key.like("email:review:%:invitation:%"))
                              .order_by(OutboxMessage.id)))


def _invitations() -> list[tuple[int, int, str]]:
    """(review id, sequence, METHOD) of each invitation e-mail in the outbox, oldest first."""
    found = []
    for message in _invitation_messages():
        [attachment] = message.attachments
        cal = Calendar.from_ical(attachment["content"])
        review_id = int(str(cal.walk("VEVENT")[0]["uid"]).split("@")[0].removeprefix("review-"))
        found.append((review_id, int(cal.walk("VEVENT")[0]["sequence"]), str(cal["method"])))
        assert attachment["content_type"] == f"text/calendar; method={cal['method']}"
    return found


def _invitation_ics(index: int) -> Calendar:
    return Calendar.from_ical(_invitation_messages()[index].attachments[0]["content"])


def test_a_signed_deal_plans_each_reviews_reminders(client) -> None:
    j = _journey(client)
    assert _pending_reminders(j["90_day"]["id"]) == [(0, 2), (0, 14), (0, 30)]


def test_booking_and_moving_a_review_keeps_its_uid_and_raises_its_sequence(client) -> None:
    j = _journey(client)
    review, csm = j["3_month"], j["csm"]
    first = _ics(client, review["id"], csm)
    [proposed] = first.walk("VEVENT")
    assert str(first["method"]) == "REQUEST" and str(proposed["status"]) == "TENTATIVE"
    start = proposed.decoded("dtstart")
    assert (start.hour, str(start.tzinfo)) == (10, "Europe/Paris")  # the playbook's 10:00 local time

    booked = client.patch(f"/api/reviews/{review['id']}", headers=csm,
                          json={"starts_at": "2027-04-20T14:30:00+02:00", "duration_minutes": 45})
    assert booked.status_code == 200, booked.text
    body = booked.json()
    assert body["status"] == "scheduled" and body["fixed_by_hand"] and body["sequence"] == review["sequence"] + 1
    assert body["scheduled_at"].startswith("2027-04-20T12:30:00")
    [event_1] = _ics(client, review["id"], csm).walk("VEVENT")
    local = event_1.decoded("dtstart")
    assert (local.date().isoformat(), local.hour, local.minute) == ("2027-04-20", 14, 30)
    assert event_1.decoded("dtend") - local == timedelta(minutes=45)
    assert str(event_1["status"]) == "CONFIRMED"

    moved = client.patch(f"/api/reviews/{review['id']}", headers=csm, json={"starts_at": "2027-04-22T09:00:00Z"})
    [event_2] = _ics(client, review["id"], csm).walk("VEVENT")
    assert str(event_2["uid"]) == str(proposed["uid"]) == str(event_1["uid"])
    assert int(event_2["sequence"]) > int(event_1["sequence"]) > int(proposed["sequence"])
    assert moved.json()["sequence"] == int(event_2["sequence"])
    # reminders are re-planned for the new date and sequence: 30, 14 and 2 days before 22 April
    assert _pending_reminders(review["id"]) == [(moved.json()["sequence"], lead) for lead in (2, 14, 30)]
    with db.transaction(writer=False) as s:
        invites = s.scalars(select(OutboxMessage).where(OutboxMessage.dedupe_key.like("email:review:%:invitation:%"))
                            .order_by(OutboxMessage.id)).all()
    assert [m.recipient for m in invites] == ["csm@vendor.example"] * 2
    assert "SEQUENCE:" + str(moved.json()["sequence"]) in invites[-1].attachments[0]["content"]


def test_cancelling_sends_a_cancel_with_a_higher_sequence(client) -> None:
    j = _journey(client)
    review, csm = j["6_month"], j["csm"]
    response = client.patch(f"/api/reviews/{review['id']}", headers=csm, json={"status": "cancelled"})
    assert response.json()["status"] == "cancelled"
    cal = _ics(client, review["id"], csm)
    assert str(cal["method"]) == "CANCEL" and int(cal.walk("VEVENT")[0]["sequence"]) == review["sequence"] + 1
    assert _pending_reminders(review["id"]) == []
    again = client.patch(f"/api/reviews/{review['id']}", headers=csm, json={"starts_at": "2027-09-01T10:00:00Z"})
    assert again.status_code == 409 and again.json()["code"] == "conflict"


@pytest.mark.parametrize(("body", "status"), [
    ({"starts_at": "2027-04-20T14:30:00"}, 422),  # no offset: which 14:30?
    ({"starts_at": "2020-01-01T10:00:00Z"}, 422),  # the past
    ({"starts_at": "9999-12-31T10:00:00Z", "outside_working_hours": True}, 422),  # a typo, not a booking
    ({"starts_at": "2207-04-20T10:00:00Z"}, 422),
    ({}, 422),
    ({"starts_at": "2027-04-20T14:30:00Z", "status": "cancelled"}, 422),
    ({"starts_at": "2027-04-20T14:30:00Z", "colour": "red"}, 422),
])
def test_bad_patches(client, body, status) -> None:
    j = _journey(client)
    assert client.patch(f"/api/reviews/{j['3_month']['id']}", headers=j["csm"], json=body).status_code == status


@pytest.mark.parametrize(("starts_at", "duration", "why"), [
    ("2027-04-20T03:00:00+02:00", None, "03:00-"),  # a Tuesday, at night in Paris
    ("2027-04-20T05:30:00Z", None, "07:30-08:30 Europe/Paris is outside working hours 08:00-18:00"),
    ("2027-04-20T17:30:00+02:00", 60, "17:30-18:30 Europe/Paris is outside working hours"),  # ends at 18:30
    ("2027-04-18T10:00:00+02:00", None, "Sunday 18 April 2027 is a weekend day"),
    ("2027-07-14T10:00:00+02:00", None, "Wednesday 14 July 2027 is a public holiday in FR"),
])
def test_a_time_outside_the_accounts_working_hours_needs_an_explicit_override(client, starts_at, duration,
                                                                              why) -> None:
    j = _journey(client)
    review, csm = j["3_month"], j["csm"]
    url = f"/api/reviews/{review['id']}"
    refused = client.patch(url, headers=csm, json={"starts_at": starts_at, "duration_minutes": duration})
    assert refused.status_code == 422, refused.text
    problem = refused.json()
    assert problem["code"] == "outside_working_hours"
    assert why in problem["detail"] and "(Europe/Paris)" in problem["detail"]
    assert "outside_working_hours: true" in problem["detail"]
    assert client.get(url, headers=csm).json()["status"] == "proposed"  # nothing booked, nothing sent
    assert _invitations() == []

    booked = client.patch(url, headers=csm, json={"starts_at": starts_at, "duration_minutes": duration,
                                                  "outside_working_hours": True})
    assert booked.status_code == 200, booked.text
    assert booked.json()["status"] == "scheduled"
    assert _invitations() == [(review["id"], booked.json()["sequence"], "REQUEST")]


def test_a_time_within_working_hours_books_without_override(client) -> None:
    j = _journey(client)
    # 08:00-18:00 in Paris, on a Monday that is a business day; the boundaries are inside
    booked = client.patch(f"/api/reviews/{j['3_month']['id']}", headers=j["csm"],
                          json={"starts_at": "2027-04-19T08:00:00+02:00", "duration_minutes": 480})
    assert booked.status_code == 200, booked.text
    assert booked.json()["ends_at"].startswith("2027-04-19T14:00:00")  # 16:00 Paris


def test_who_may_see_and_change_a_review(client) -> None:
    j = _journey(client)
    review_id = j["90_day"]["id"]
    ae = member_with_token("ae@vendor.example", "ae")
    stranger = member_with_token("other.csm@vendor.example", "csm")
    assert client.get(f"/api/reviews/{review_id}.ics").status_code == 401
    assert client.get(f"/api/reviews/{review_id}.ics", headers=ae).status_code == 200  # the AE sold it
    assert client.patch(f"/api/reviews/{review_id}", headers=ae, json={"status": "cancelled"}).status_code == 403
    assert client.get(f"/api/reviews/{review_id}", headers=stranger).status_code == 404
    assert client.get(f"/api/reviews/{review_id}.ics", headers=stranger).status_code == 404
    assert client.get("/api/reviews/999999.ics", headers=j["csm"]).status_code == 404


def test_a_held_review_feeds_the_next_agenda_and_the_am(client, clock) -> None:
    j = _journey(client)
    csm = j["csm"]
    clock.move_to("2027-02-18T11:00:00Z")  # the 90-day review was due this morning, 10:00 in Paris
    outcome = {"notes": "Good momentum", "next_steps": ["Roll out to the Lyon team"],
               "expansion_opportunities": ["Lyon team (40 seats)"],
               "progress": [{"objective": "Réduire le temps d'intégration des agents", "value": 12,
                             "comment": "down from 21"}]}
    held = client.post(f"/api/reviews/{j['90_day']['id']}/outcome", headers=csm, json=outcome)
    assert held.status_code == 200, held.text
    assert held.json()["status"] == "held" and held.json()["outcome"]["next_steps"] == ["Roll out to the Lyon team"]
    assert _pending_reminders(j["90_day"]["id"]) == []
    assert client.post(f"/api/reviews/{j['90_day']['id']}/outcome", headers=csm, json=outcome).status_code == 409

    agenda = client.get(f"/api/reviews/{j['3_month']['id']}/agenda", headers=csm).json()
    [objective] = agenda["objectives"]
    assert objective["latest"]["value"] == 12 and objective["baseline"] == 21 and objective["target"] == 7
    assert objective["latest"]["source"] == "review"  # recorded as a measurement of the objective
    assert objective["status"]["status"] in {"on_track", "at_risk", "achieved"}
    assert agenda["risks"] == ["IT capacity"] and agenda["promises"] == ["SSO in Q1"]
    assert agenda["health"]["band"] in {"green", "yellow", "red"}  # from the plan and the packet alone
    assert agenda["health"]["explanation"][0].startswith(f"{agenda['health']['score']}/100")
    assert f"Health: {agenda['health']['score']} ({agenda['health']['band']})" in agenda["text"]
    assert "latest: 12.0 days on" in agenda["text"] and "Roll out to the Lyon team" in agenda["text"]
    assert "Chloé Martin (executive_sponsor)" in agenda["attendees"]
    assert "&lt;" not in agenda["html"] and "<section" in agenda["html"]
    [description] = [str(e["description"]) for e in _ics(client, j["3_month"]["id"], csm).walk("VEVENT")]
    assert "Roll out to the Lyon team" in description  # the customer's agenda: what was agreed last time
    assert "IT capacity" not in description and "Lyon team (40 seats)" not in description  # risks, expansion
    assert "Roll out to the Lyon team" in agenda["customer_text"] and "IT capacity" not in agenda["customer_text"]
    with db.transaction(writer=False) as s:
        [reminder] = s.scalars(select(Reminder).where(Reminder.kind == "expansion_opportunity")).all()
    assert "Lyon team (40 seats)" in reminder.reason


def _recorded() -> tuple[int, int]:
    """(objective measurements, expansion reminders) on record."""
    with db.transaction(writer=False) as s:
        return (len(s.scalars(select(ObjectiveProgress.id)).all()),
                len(s.scalars(select(Reminder.id).where(Reminder.kind == "expansion_opportunity")).all()))


def test_an_outcome_before_the_review_started_is_refused(client, clock) -> None:
    j = _journey(client)
    csm = j["csm"]
    outcome = {"notes": "Went well", "expansion_opportunities": ["Lyon team"],
               "progress": [{"objective": "Réduire le temps d'intégration des agents", "value": 12}]}
    never_booked = f"/api/reviews/{j['90_day']['id']}"  # due Thursday 18 February 2027, proposed at 10:00 Paris
    refused = client.post(f"{never_booked}/outcome", headers=csm, json=outcome)  # three months ahead
    assert refused.status_code == 422 and refused.json()["code"] == "review_not_started"
    assert "due on Thursday 18 February 2027 (Europe/Paris)" in refused.json()["detail"]
    clock.move_to("2027-02-17T22:59:00Z")  # 23:59 in Paris the day before
    assert client.post(f"{never_booked}/outcome", headers=csm, json=outcome).status_code == 422
    assert client.get(never_booked, headers=csm).json()["status"] == "proposed" and _recorded() == (0, 0)
    clock.move_to("2027-02-17T23:00:30Z")  # its due day has begun in Paris: it can be held from now on
    assert client.post(f"{never_booked}/outcome", headers=csm, json=outcome).status_code == 200
    assert _recorded() == (1, 1)

    booked = f"/api/reviews/{j['3_month']['id']}"
    assert client.patch(booked, headers=csm, json={"starts_at": "2027-04-20T14:30:00+02:00"}).status_code == 200
    clock.move_to("2027-04-20T12:29:00Z")  # a minute before the meeting, on its day
    refused = client.post(f"{booked}/outcome", headers=csm, json=outcome)
    assert refused.status_code == 422 and refused.json()["code"] == "review_not_started"
    assert "starts on Tuesday 20 April 2027 at 14:30 (Europe/Paris)" in refused.json()["detail"]
    assert client.get(booked, headers=csm).json()["status"] == "scheduled" and _recorded() == (1, 1)
    clock.move_to("2027-04-20T12:30:00Z")
    held = client.post(f"{booked}/outcome", headers=csm, json=outcome)
    assert held.status_code == 200 and held.json()["status"] == "held"


def test_a_lost_deal_cancels_reviews_and_signing_again_restores_them(client) -> None:
    j = _journey(client)
    csm = j["csm"]
    client.patch(f"/api/reviews/{j['3_month']['id']}", headers=csm, json={"starts_at": "2027-04-20T10:00:00Z"})
    post_event(client, event("deal.lost", {"deal": {"id": "D-1001", "reason": "budget"}}))
    assert drain() == ["processed"]
    reviews = {r["kind"]: r for r in client.get("/api/accounts/crm:events:C-77/reviews", headers=csm).json()["items"]}
    assert {r["status"] for r in reviews.values()} == {"cancelled"}
    assert _pending_reminders(j["90_day"]["id"]) == []
    booked = j["3_month"]["id"]
    # the booked review had been sent as a REQUEST: its organizer gets the CANCEL; proposed ones were never sent
    assert _invitations() == [(booked, 1, "REQUEST"), (booked, reviews["3_month"]["sequence"], "CANCEL")]
    cancel = _invitation_ics(-1)
    assert str(cancel["method"]) == "CANCEL" and str(cancel.walk("VEVENT")[0]["status"]) == "CANCELLED"
    assert int(cancel.walk("VEVENT")[0]["sequence"]) == reviews["3_month"]["sequence"]

    signed_again = deal_signed()
    signed_again["timestamp"] = "2026-11-22T09:00:00Z"  # won again after the loss (a replay of the old one would not)
    post_event(client, signed_again, msg_id="msg_signed_again")
    assert drain() == ["processed"]
    after = {r["kind"]: r for r in client.get("/api/accounts/crm:events:C-77/reviews", headers=csm).json()["items"]}
    assert after["3_month"]["status"] == "scheduled" and after["90_day"]["status"] == "proposed"
    assert all(after[k]["sequence"] > reviews[k]["sequence"] for k in after)
    # the booking stands again: a new REQUEST, same UID, a SEQUENCE above the CANCEL's
    assert _invitations()[2:] == [(booked, after["3_month"]["sequence"], "REQUEST")]
    [request] = _invitation_ics(-1).walk("VEVENT")
    assert str(request["uid"]) == str(cancel.walk("VEVENT")[0]["uid"]) and str(request["status"]) == "CONFIRMED"
    assert int(request["sequence"]) == after["3_month"]["sequence"] > reviews["3_month"]["sequence"]
    assert _pending_reminders(j["90_day"]["id"])[0][0] == after["90_day"]["sequence"]
    journeys = client.get("/api/journeys?deal=crm:events:D-1001", headers=member_with_token(
        "admin@test.example", "admin")).json()["items"]
    assert journeys[0]["status"] == "active"


def test_a_go_live_slip_re_plans_reminders(client) -> None:
    j = _journey(client)
    post_event(client, event("deal.updated", {"deal": {"id": "D-1001", "expected_go_live": "2027-03-01"}}))
    assert drain() == ["processed"]
    review = client.get(f"/api/reviews/{j['6_month']['id']}", headers=j["csm"]).json()
    assert review["due_on"] == "2027-09-01" and review["sequence"] == 1
    assert _pending_reminders(review["id"]) == [(1, 2), (1, 14), (1, 30)]
    assert datetime.fromisoformat(review["starts_at"]) > datetime.now(UTC)
