"""A review as a calendar invitation (`GET /api/reviews/{id}.ics`), and its sending to the organizer.

Used by the review's lifecycle (book, move, cancel) and by pausing and resuming its journey. An invitation
goes to customers: its DESCRIPTION is the customer's agenda (`agenda.build_customer_agenda`), never the
team's, and so is the e-mail that asks the organizer to forward it.
"""
from __future__ import annotations

from datetime import datetime, timedelta
from urllib.parse import urlsplit

from sqlalchemy.orm import Session

from journey.adapters.calendar import Invitation, Person, method_of, to_ics
from journey.calendar import calendar_for
from journey.config import get_settings
from journey.models import Account, Review, TeamMember
from journey.notify import service as notify
from journey.reviews import agenda as agenda_service
from journey.reviews import domain


def uid_for(review_id: int) -> str:
    """Stable for the life of the review: calendars update the event on every new SEQUENCE."""
    base = get_settings().public_base_url
    host = (urlsplit(base).hostname if base else None) or "journey.local"
    return f"review-{review_id}@{host}"


def organizer_of(session: Session, account: Account) -> tuple[Person, TeamMember | None]:
    """Every invitation has an ORGANIZER (RFC 5546): the account's CSM, else its AM, else our own sender
    address (`JOURNEY_SMTP_FROM`); with the team member who sends it, if any."""
    for member_id, role in ((account.csm_id, "csm"), (account.am_id, "am")):
        member = session.get(TeamMember, member_id) if member_id else None
        if member is not None:
            return Person(member.email, member.name, role), member
    return Person(get_settings().smtp_from, "journey"), None


def invitation_for(session: Session, *, review: Review, now: datetime) -> Invitation:
    account = session.get_one(Account, review.account_id)
    calendar = calendar_for(account.region, account.timezone)
    starts_at = review.starts_at or calendar.at_local_time(review.due_on, domain.DEFAULT_LOCAL_TIME.hour)
    ends_at = review.ends_at or starts_at + timedelta(hours=1)
    organizer, _ = organizer_of(session, account)
    guests = tuple(Person(a.email, a.name, a.role) for a in agenda_service.attendees_of(session, review)
                   if a.email and a.email != organizer.email)
    agenda = agenda_service.build_customer_agenda(session, review=review)
    base = get_settings().public_base_url
    return Invitation(
        uid=uid_for(review.id), sequence=review.sequence, summary=f"{review.title} - {account.name}",
        starts_at=starts_at, ends_at=ends_at, timezone=calendar.timezone, organizer=organizer, attendees=guests,
        description=agenda_service.render_customer_agenda(agenda), stamp=now,
        cancelled=review.status == domain.ReviewStatus.CANCELLED.value,
        tentative=review.status == domain.ReviewStatus.PROPOSED.value,
        url=f"{base.rstrip('/')}/accounts/{account.id}#review-{review.id}" if base else None,
    )


def ics_for(session: Session, *, review: Review, now: datetime) -> tuple[bytes, str]:
    """The .ics bytes and its METHOD (REQUEST, or CANCEL for a cancelled review)."""
    invitation = invitation_for(session, review=review, now=now)
    return to_ics(invitation), method_of(invitation)


def send_invitation(session: Session, *, review: Review, account: Account, now: datetime) -> None:
    """The organizer (CSM, else AM) gets the .ics (REQUEST or CANCEL) to send from their own calendar,
    through the outbox. The e-mail is forwarded to customers, so it carries the customer's agenda only."""
    _, sender = organizer_of(session, account)
    if sender is None:
        return
    invitation = invitation_for(session, review=review, now=now)
    method = method_of(invitation)
    verb = "Cancelled" if method == "CANCEL" else "Invitation"
    subject = f"{verb}: {review.title} - {account.name}"
    body = (f"{subject}. The attached invitation (sequence {review.sequence}) updates the event in your "
            f"calendar; forward it to the attendees.")
    message = notify.Message(subject=subject, body_text=f"{body}\n\n{invitation.description}", attachments=[{
        "filename": f"review-{review.id}.ics", "content_type": f"text/calendar; method={method}",
        "content": to_ics(invitation).decode()}])
    notify.remind(session, kind="review_invitation", assignee=sender, account_id=account.id, due_at=now, now=now,
                  reason=body, subject=subject, dedupe_key=f"review:{review.id}:invitation:{review.sequence}",
                  details={"review_id": review.id, "sequence": review.sequence, "method": method},
                  message=message)
