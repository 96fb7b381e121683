"""A review as a calendar invitation (`GET /api/reviews/{id}.ics`, attachments of invitation e-mails)."""
from __future__ import annotations

from datetime import datetime, timedelta
from urllib.parse import urlsplit

from sqlalchemy.orm import Session

from journey.adapters.calendar import Invitation, Person, to_ics
from journey.calendar import calendar_for
from journey.config import get_settings
from journey.models import Account, Review, TeamMember
from journey.reviews import agenda as agenda_service
from journey.reviews import domain


def uid_for(review_id: int) -> str:
    """Stable for the life of the review: calendars update the event on every new SEQUENCE."""
    base = get_settings().public_base_url
    host = (urlsplit(base).hostname if base else None) or "journey.local"
    return f"review-{review_id}@{host}"


def invitation_for(session: Session, *, review: Review, now: datetime) -> Invitation:
    account = session.get_one(Account, review.account_id)
    calendar = calendar_for(account.region, account.timezone)
    starts_at = review.starts_at or calendar.at_local_time(review.due_on, domain.DEFAULT_LOCAL_TIME.hour)
    ends_at = review.ends_at or starts_at + timedelta(hours=1)
    csm = session.get(TeamMember, account.csm_id) if account.csm_id else None
    attendees = agenda_service.attendees_of(session, review)
    organizer = Person(csm.email, csm.name, "csm") if csm else None
    guests = tuple(Person(a.email, a.name, a.role) for a in attendees
                   if a.email and (organizer is None or a.email != organizer.email))
    agenda = agenda_service.build_agenda(session, review=review)
    base = get_settings().public_base_url
    return Invitation(
        uid=uid_for(review.id), sequence=review.sequence, summary=f"{review.title} - {account.name}",
        starts_at=starts_at, ends_at=ends_at, timezone=calendar.timezone, organizer=organizer, attendees=guests,
        description=agenda_service.render_agenda(agenda), stamp=now,
        cancelled=review.status == domain.ReviewStatus.CANCELLED.value,
        tentative=review.status == domain.ReviewStatus.PROPOSED.value,
        url=f"{base.rstrip('/')}/accounts/{account.id}#review-{review.id}" if base else None,
    )


def ics_for(session: Session, *, review: Review, now: datetime) -> tuple[bytes, str]:
    """The .ics bytes and its METHOD (REQUEST, or CANCEL for a cancelled review)."""
    invitation = invitation_for(session, review=review, now=now)
    return to_ics(invitation), "CANCEL" if invitation.cancelled else "REQUEST"
