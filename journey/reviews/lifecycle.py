"""The review's life after it is proposed: booked at a time, held (with its outcome), or cancelled."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from journey import audit
from journey.audit import Actor
from journey.calendar import calendar_for
from journey.errors import Conflict, InvalidInput
from journey.evaluation import repository as evaluation_repository
from journey.models import Account, Review, TeamMember
from journey.notify import service as notify
from journey.objectives import repository as objectives_repository
from journey.objectives import service as objectives_service
from journey.reviews import domain, invitations
from journey.reviews.service import plan_reminders


def _transition(review: Review, new: domain.ReviewStatus) -> None:
    try:
        domain.check_transition(review.status, new)
    except ValueError as exc:
        raise Conflict(f"review {review.id} is {review.status}: {exc}") from None


BOOKING_HORIZON = timedelta(days=5 * 365)  # further out is a typo (2207 for 2027), and past holiday tables


class OutsideWorkingHours(InvalidInput):
    code = "outside_working_hours"


class ReviewNotStarted(InvalidInput):
    code = "review_not_started"


def schedule_review(session: Session, *, review: Review, starts_at: datetime, duration_minutes: int | None,
                    actor: Actor, now: datetime, outside_working_hours: bool = False) -> bool:
    """Book the review at `starts_at` (fixed by hand: go-live slips no longer move it); True if it changed.

    The time must fall in the account's working hours (08:00-18:00 local on a business day of its
    region) unless `outside_working_hours` says the customer asked for it. A new time bumps the
    SEQUENCE, re-plans the reminders and sends the organizer a fresh invitation.
    """
    if starts_at.tzinfo is None:
        raise InvalidInput("starts_at: give a time zone offset, e.g. 2027-03-02T10:00:00+01:00")
    if starts_at <= now:
        raise InvalidInput("starts_at: a review can only be booked in the future")
    if starts_at > now + BOOKING_HORIZON:
        raise InvalidInput(f"starts_at: a review can be booked at most {BOOKING_HORIZON.days // 365} years ahead")
    _transition(review, domain.ReviewStatus.SCHEDULED)
    starts_at = starts_at.astimezone(UTC)
    length = timedelta(minutes=duration_minutes) if duration_minutes else (
        (review.ends_at - review.starts_at) if review.starts_at and review.ends_at else timedelta(hours=1))
    ends_at = starts_at + length
    if review.status == domain.ReviewStatus.SCHEDULED.value and (review.starts_at, review.ends_at) == (
            starts_at, ends_at):
        return False
    account = session.get_one(Account, review.account_id)
    calendar = calendar_for(account.region, account.timezone)
    reasons = calendar.outside_working_hours(starts_at, ends_at)
    if reasons and not outside_working_hours:
        raise OutsideWorkingHours(
            f"starts_at: {starts_at.astimezone(calendar.zone):%A %d %B %Y %H:%M} in {account.name}'s time zone "
            f"({calendar.timezone}) is not in working hours: {'; '.join(reasons)}. If the customer asked for "
            f"this time, book it anyway with outside_working_hours: true")
    review.starts_at, review.ends_at, review.scheduled_at = starts_at, ends_at, starts_at
    review.due_on = calendar.local_date(starts_at)
    review.status, review.fixed_by_hand, review.missed_at = domain.ReviewStatus.SCHEDULED.value, True, None
    review.sequence += 1
    session.flush()
    plan_reminders(session, review=review, calendar=calendar)
    audit.record(session, actor=actor, action="review.scheduled", account_id=account.id,
                 subject=f"review {review.id}", starts_at=starts_at.isoformat(), sequence=review.sequence)
    invitations.send_invitation(session, review=review, account=account, now=now)
    evaluation_repository.mark(session, [account.id], now=now)  # the review-upcoming rule reads its date
    session.flush()
    return True


def cancel_review(session: Session, *, review: Review, actor: Actor, now: datetime) -> bool:
    if review.status == domain.ReviewStatus.CANCELLED.value:
        return False
    _transition(review, domain.ReviewStatus.CANCELLED)
    account = session.get_one(Account, review.account_id)
    review.status, review.status_before_pause = domain.ReviewStatus.CANCELLED.value, None
    review.sequence += 1
    session.flush()
    plan_reminders(session, review=review, calendar=calendar_for(account.region, account.timezone))
    audit.record(session, actor=actor, action="review.cancelled", account_id=account.id,
                 subject=f"review {review.id}", sequence=review.sequence)
    invitations.send_invitation(session, review=review, account=account, now=now)
    session.flush()
    return True


def record_outcome(session: Session, *, review: Review, notes: str, progress: list[dict[str, Any]],
                   expansion_opportunities: list[str], next_steps: list[str], actor: Actor,
                   now: datetime) -> None:
    """The review was held: keep what was said; expansion opportunities become a reminder for the AM.

    Not before it started (422 `review_not_started`): its progress would feed the objectives, the AM's
    reminders and the KPIs with a meeting that has not happened."""
    _transition(review, domain.ReviewStatus.HELD)
    if review.status == domain.ReviewStatus.HELD.value:
        raise Conflict(f"review {review.id} is already held; its outcome is on record")
    account = session.get_one(Account, review.account_id)
    calendar = calendar_for(account.region, account.timezone)
    too_early = domain.outcome_too_early(starts_at=review.starts_at, booked=review.scheduled_at is not None,
                                         due_on=review.due_on, calendar=calendar, now=now)
    if too_early:
        raise ReviewNotStarted(too_early)
    review.status, review.held_at, review.outcome = domain.ReviewStatus.HELD.value, now, notes
    review.outcome_details = {"progress": progress, "expansion_opportunities": expansion_opportunities,
                              "next_steps": next_steps}
    session.flush()
    plan_reminders(session, review=review, calendar=calendar)
    audit.record(session, actor=actor, action="review.held", account_id=account.id, subject=f"review {review.id}",
                 objectives=len(progress), expansion=len(expansion_opportunities), next_steps=len(next_steps))
    _record_measurements(session, review=review, progress=progress, actor=actor, now=now)
    evaluation_repository.mark(session, [account.id], now=now)  # reviews held, objectives measured
    am = session.get(TeamMember, account.am_id) if account.am_id else None
    if expansion_opportunities and am is not None:
        count = len(expansion_opportunities)
        notify.remind(session, kind="expansion_opportunity", assignee=am, account_id=account.id, due_at=now,
                      now=now, dedupe_key=f"review:{review.id}:expansion",
                      subject=f"{count} expansion opportunit{'y' if count == 1 else 'ies'} at {account.name}",
                      reason=f"The {review.title} with {account.name} raised {count} expansion "
                             f"opportunit{'y' if count == 1 else 'ies'}: " + "; ".join(expansion_opportunities),
                      details={"review_id": review.id, "opportunities": expansion_opportunities})


def _record_measurements(session: Session, *, review: Review, progress: list[dict[str, Any]], actor: Actor,
                         now: datetime) -> None:
    """Values said at the review become measurements of the journey's objectives (matched by title)."""
    by_title = {o.title.strip().casefold(): o for o in objectives_repository.of_journey(session, review.journey_id)}
    for entry in progress:
        objective = by_title.get(str(entry.get("objective", "")).strip().casefold())
        if objective is not None and entry.get("value") is not None:
            objectives_service.record_progress(session, objective_id=objective.id, account_id=review.account_id,
                                               value=float(entry["value"]), at=now, source="review",
                                               note=entry.get("comment"), actor=actor, now=now)
