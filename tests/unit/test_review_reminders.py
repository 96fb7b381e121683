"""Which due reminder is sent, the reminder sentence, objective progress, and the ICS invitation."""
from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from icalendar import Calendar

from journey.adapters.calendar import Invitation, Person, to_ics
from journey.calendar import calendar_for
from journey.reviews.agenda_domain import latest_progress
from journey.reviews.domain import (
    ReminderVerdict,
    ReviewClock,
    ReviewStatus,
    reminder_reason,
    reminder_verdict,
    should_escalate,
)

NOW = datetime(2027, 3, 1, 8, tzinfo=UTC)
LATER = NOW + timedelta(days=20)
PARIS = calendar_for("FR", "Europe/Paris")


def clock(status: str = "proposed", sequence: int = 1, starts_at: datetime | None = LATER) -> ReviewClock:
    return ReviewClock(ReviewStatus(status), sequence, starts_at)


@pytest.mark.parametrize(
    ("lead", "sequence", "review", "nearest", "verdict"),
    [
        (14, 1, clock(), 14, ReminderVerdict.SEND),
        (14, 1, clock("scheduled"), None, ReminderVerdict.SEND),
        (30, 1, clock(), 14, ReminderVerdict.SUPERSEDE),  # the 14-day one is due too: send only it
        (14, 0, clock(), 14, ReminderVerdict.SKIP),  # the review moved since (sequence 1)
        (14, 1, clock("held"), 14, ReminderVerdict.SKIP),
        (14, 1, clock("cancelled"), 14, ReminderVerdict.SKIP),
        (14, 1, clock("missed"), 14, ReminderVerdict.SKIP),
        (0, 1, clock(starts_at=NOW), 0, ReminderVerdict.SKIP),  # it has started
        (14, 1, None, None, ReminderVerdict.SKIP),  # the review is gone
    ],
)
def test_reminder_verdict(lead, sequence, review, nearest, verdict) -> None:
    assert reminder_verdict(lead_days=lead, sequence=sequence, review=review, nearest_due_lead=nearest,
                            now=NOW) is verdict


@settings(max_examples=200, deadline=None)
@given(leads=st.sets(st.integers(0, 60), min_size=1, max_size=6), status=st.sampled_from(list(ReviewStatus)))
def test_at_most_one_reminder_per_review_is_sent_per_sweep(leads, status) -> None:
    nearest = min(leads)
    sent = [lead for lead in leads if reminder_verdict(lead_days=lead, sequence=1, review=clock(status.value),
                                                      nearest_due_lead=nearest, now=NOW) is ReminderVerdict.SEND]
    assert sent == ([nearest] if status in {ReviewStatus.PROPOSED, ReviewStatus.SCHEDULED} else [])


@pytest.mark.parametrize(
    ("starts_at", "expected"),
    [
        (datetime(2027, 3, 15, 9, tzinfo=UTC), "Strategic review with Acme is in 14 days: Mon 15 Mar 2027 10:00 "
                                               "Europe/Paris. 2 objectives to review."),
        (datetime(2027, 3, 2, 9, tzinfo=UTC), "Strategic review with Acme is tomorrow: Tue 02 Mar 2027 10:00 "
                                              "Europe/Paris. 2 objectives to review."),
        # after the clock change the same 10:00 local is 08:00 UTC
        (datetime(2027, 3, 30, 8, tzinfo=UTC), "Strategic review with Acme is in 29 days: Tue 30 Mar 2027 10:00 "
                                               "Europe/Paris. 2 objectives to review."),
    ],
)
def test_reminder_reason(starts_at: datetime, expected: str) -> None:
    assert reminder_reason(title="Strategic review", account="Acme", starts_at=starts_at, now=NOW, calendar=PARIS,
                           objectives=2) == expected


def test_escalation_window() -> None:
    assert should_escalate(NOW - timedelta(days=3), NOW)
    assert not should_escalate(NOW - timedelta(days=90), NOW)  # a back-filled deal: marked, not escalated


def test_latest_progress_takes_the_most_recent_review() -> None:
    outcomes = [
        (date(2027, 6, 1), {"progress": [{"objective": "Cut onboarding time", "value": 10}]}),
        (date(2027, 3, 1), {"progress": [{"objective": "cut onboarding time ", "value": 15},
                                         {"objective": "Adoption", "value": 0.4}]}),
        (date(2027, 4, 1), {}),
    ]
    latest = latest_progress(outcomes)
    assert latest["cut onboarding time"] == {"objective": "Cut onboarding time", "value": 10, "on": date(2027, 6, 1)}
    assert latest["adoption"]["on"] == date(2027, 3, 1)


def invitation(**over) -> Invitation:
    values = dict(uid="review-7@journey.example", sequence=3, summary="Strategic review (3 months) - Acme",
                  starts_at=datetime(2027, 3, 30, 8, tzinfo=UTC), ends_at=datetime(2027, 3, 30, 9, tzinfo=UTC),
                  timezone="Europe/Paris", organizer=Person("csm@vendor.example", "Camille CSM"),
                  attendees=(Person("am@vendor.example", "Morgan AM", "am"),
                             Person("chloe@acme.example", "Chloé Martin", "executive_sponsor")),
                  description="1. Objectives\n   - Réduire le temps d'intégration", stamp=NOW)
    return Invitation(**(values | over))


def test_ics_opens_in_a_standard_parser_with_the_local_time() -> None:
    cal = Calendar.from_ical(to_ics(invitation()))
    assert str(cal["method"]) == "REQUEST"
    [event] = cal.walk("VEVENT")
    start = event.decoded("dtstart")
    assert (start.hour, start.minute, str(start.tzinfo)) == (10, 0, "Europe/Paris")  # 08:00 UTC is 10:00 CEST
    assert start == datetime(2027, 3, 30, 8, tzinfo=UTC)
    assert event.decoded("dtend") - start == timedelta(hours=1)
    assert str(event["uid"]) == "review-7@journey.example" and int(event["sequence"]) == 3
    assert str(event["organizer"]) == "mailto:csm@vendor.example"
    assert [str(a) for a in event["attendee"]] == ["mailto:am@vendor.example", "mailto:chloe@acme.example"]
    assert event["attendee"][1].params["CN"] == "Chloé Martin"
    assert "Réduire" in str(event["description"])
    [tz] = cal.walk("VTIMEZONE")
    assert str(tz["tzid"]) == "Europe/Paris"
    assert str(event["status"]) == "CONFIRMED"


def test_cancel_and_tentative() -> None:
    cancelled = Calendar.from_ical(to_ics(invitation(cancelled=True, sequence=4)))
    assert str(cancelled["method"]) == "CANCEL"
    assert str(cancelled.walk("VEVENT")[0]["status"]) == "CANCELLED"
    proposed = Calendar.from_ical(to_ics(invitation(tentative=True)))
    assert str(proposed.walk("VEVENT")[0]["status"]) == "TENTATIVE"


def test_utc_accounts_need_no_vtimezone() -> None:
    cal = Calendar.from_ical(to_ics(invitation(timezone="UTC")))
    assert cal.walk("VTIMEZONE") == []
    assert cal.walk("VEVENT")[0].decoded("dtstart") == datetime(2027, 3, 30, 8, tzinfo=UTC)
