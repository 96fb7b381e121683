"""Calendar invitations (RFC 5545 / iTIP) for reviews, with the `icalendar` package.

One VEVENT per review: its UID never changes, its SEQUENCE is the review's `sequence` (bumped on every
move), so calendar clients update the event instead of adding a second one. `METHOD:CANCEL` withdraws
it. Times are written in the account's zone with its VTIMEZONE, so the invitation shows the local time.
Every request has its ORGANIZER (RFC 5546 3.2.2), so `Invitation.organizer` is required.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from zoneinfo import ZoneInfo

from icalendar import Calendar, Event, vCalAddress, vText

PRODID = "-//journey//customer reviews//EN"


@dataclass(frozen=True)
class Person:
    email: str
    name: str | None = None
    role: str | None = None  # csm, am, executive_sponsor, ... (shown as the attendee's label)


@dataclass(frozen=True)
class Invitation:
    uid: str
    sequence: int
    summary: str
    starts_at: datetime  # aware
    ends_at: datetime
    timezone: str
    organizer: Person
    attendees: tuple[Person, ...] = ()
    description: str = ""
    cancelled: bool = False
    tentative: bool = False
    url: str | None = None
    stamp: datetime | None = None
    categories: tuple[str, ...] = field(default=("Customer review",))


def _address(person: Person, *, attendee: bool) -> vCalAddress:
    address = vCalAddress(f"mailto:{person.email}")
    if person.name:
        address.params["CN"] = vText(person.name)
    if attendee:
        address.params["ROLE"] = vText("REQ-PARTICIPANT")
        address.params["PARTSTAT"] = vText("NEEDS-ACTION")
        address.params["RSVP"] = vText("TRUE")
    return address


def method_of(invitation: Invitation) -> str:
    return "CANCEL" if invitation.cancelled else "REQUEST"


def to_ics(invitation: Invitation) -> bytes:
    """The invitation as an iCalendar object (bytes, CRLF line endings, folded lines)."""
    zone = ZoneInfo(invitation.timezone)
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", method_of(invitation))
    event = Event()
    event.add("uid", invitation.uid)
    event.add("sequence", invitation.sequence)
    event.add("dtstamp", invitation.stamp or invitation.starts_at)
    event.add("dtstart", invitation.starts_at.astimezone(zone))
    event.add("dtend", invitation.ends_at.astimezone(zone))
    event.add("summary", invitation.summary)
    if invitation.description:
        event.add("description", invitation.description)
    status = "CANCELLED" if invitation.cancelled else "TENTATIVE" if invitation.tentative else "CONFIRMED"
    event.add("status", status)
    event.add("transp", "OPAQUE")
    event.add("categories", list(invitation.categories))
    if invitation.url:
        event.add("url", invitation.url)
    event.add("organizer", _address(invitation.organizer, attendee=False))
    for person in invitation.attendees:
        event.add("attendee", _address(person, attendee=True))
    cal.add_component(event)
    if invitation.timezone != "UTC":
        # transitions around the event only: a short VTIMEZONE that still covers a DST change before it
        start = invitation.starts_at.astimezone(zone).date()
        cal.add_missing_timezones(first_date=date(start.year - 1, 1, 1), last_date=date(start.year + 2, 1, 1))
    return cal.to_ical()
