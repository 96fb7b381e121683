"""Use cases of reviews: schedule them from the playbook's cadence, move them with go-live, pause, resume."""
from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy.orm import Session

from journey import audit, db
from journey.audit import Actor
from journey.calendar import WorkCalendar, calendar_for
from journey.models import Account, Deal, Journey, Review
from journey.playbooks import playbook_named
from journey.reviews import domain, invitations, repository
from journey.writeback import service as writeback_service

PAUSABLE = {domain.ReviewStatus.PROPOSED.value, domain.ReviewStatus.SCHEDULED.value}


def _specs(journey: Journey) -> list[domain.ReviewSpec]:
    return domain.parse_review_specs(playbook_named(journey.playbook).reviews)


def _anchors(journey: Journey, deal: Deal) -> domain.Anchors:
    return domain.Anchors(signed_on=journey.signed_on, contract_start=deal.contract_start,
                          go_live=journey.go_live_on or deal.expected_go_live)


def schedule_reviews(session: Session, *, journey_id: int, actor: Actor) -> bool:
    """Create the journey's reviews (proposed, with a slot); False if it already has them."""
    if repository.has_reviews(session, journey_id):
        return False
    journey = session.get_one(Journey, journey_id)
    account = session.get_one(Account, journey.account_id)
    deal = session.get_one(Deal, journey.deal_id)
    drafts = domain.plan_reviews(_specs(journey), anchors=_anchors(journey, deal),
                                 calendar=calendar_for(account.region, account.timezone))
    calendar = calendar_for(account.region, account.timezone)
    review_ids = db.insert_rows_returning_ids(session, Review, [  # one INSERT for the reviews, one for reminders
        {"journey_id": journey_id, "account_id": account.id, "kind": d.kind, "title": d.title,
         "anchor": str(d.anchor), "due_on": d.due_on, "starts_at": d.starts_at, "ends_at": d.ends_at,
         "status": domain.ReviewStatus.PROPOSED.value, "attendees": list(d.attendees),
         "remind_days_before": list(d.remind_days_before), "sequence": 0} for d in drafts], key="kind")
    repository.add_reminders(session, [
        (review_ids[d.kind], 0, domain.reminder_times(calendar.local_date(d.starts_at) if d.starts_at else d.due_on,
                                                      tuple(d.remind_days_before), calendar))
        for d in drafts])
    writeback_service.mark_changed(session, account_ids=account.id)
    audit.record(session, actor=actor, action="reviews.scheduled", account_id=account.id,
                 subject=f"journey {journey_id}", reviews={d.kind: str(d.due_on) for d in drafts})
    session.flush()
    return True


def follow_go_live(session: Session, *, journey_id: int, new_go_live: date, actor: Actor) -> int:
    """Move reviews anchored at go-live (not held, cancelled or fixed by hand); bump their SEQUENCE."""
    journey = session.get_one(Journey, journey_id)
    account = session.get_one(Account, journey.account_id)
    calendar = calendar_for(account.region, account.timezone)
    specs = {s.kind: s for s in _specs(journey)}
    reviews = {r.kind: r for r in repository.of_journeys(session, [journey_id])}
    existing = [domain.ExistingReview(kind=r.kind, anchor=domain.ReviewAnchor(r.anchor), due_on=r.due_on,
                                      status=domain.ReviewStatus(r.status), fixed_by_hand=r.fixed_by_hand)
                for r in reviews.values()]
    moves = domain.move_for_go_live(existing, new_go_live=new_go_live, calendar=calendar,
                                    specs=list(specs.values()))
    for move in moves:
        review = reviews[move.kind]
        review.due_on = move.new_due_on
        review.starts_at, review.ends_at = domain.proposed_slot(specs[move.kind], move.new_due_on, calendar)
        review.sequence += 1
        plan_reminders(session, review=review, calendar=calendar)
    if moves:
        audit.record(session, actor=actor, action="reviews.moved", account_id=account.id,
                     subject=f"journey {journey_id}", moved={m.kind: str(m.new_due_on) for m in moves})
    session.flush()
    return len(moves)


def cancel_future_reviews(session: Session, *, journey_id: int, actor: Actor, now: datetime) -> int:
    """A paused journey: proposed and scheduled reviews are cancelled, remembering their state.

    A booked review's organizer had a REQUEST: they get a CANCEL (higher SEQUENCE) so the meeting leaves
    the attendees' calendars. A proposed review was never sent, so there is nothing to withdraw.
    """
    journey = session.get_one(Journey, journey_id)
    account = session.get_one(Account, journey.account_id)
    cancelled = []
    for review in repository.of_journeys(session, [journey_id]):
        if review.status in PAUSABLE:
            review.status_before_pause, review.status = review.status, domain.ReviewStatus.CANCELLED.value
            review.sequence += 1
            repository.replace_pending_reminders(session, review_id=review.id, sequence=review.sequence, moments=[])
            cancelled.append(review)
    if cancelled:
        audit.record(session, actor=actor, action="reviews.cancelled", account_id=account.id,
                     subject=f"journey {journey_id}", count=len(cancelled))
    session.flush()
    for review in cancelled:
        if review.status_before_pause == domain.ReviewStatus.SCHEDULED.value:
            invitations.send_invitation(session, review=review, account=account, now=now)
    session.flush()
    if cancelled:
        writeback_service.mark_changed(session, account_ids=account.id, now=now)
    return len(cancelled)


def plan_reminders(session: Session, *, review: Review, calendar: WorkCalendar) -> None:
    """The review's pending reminders, re-planned for its current date and sequence (none if inactive)."""
    active = review.status in PAUSABLE
    day = calendar.local_date(review.starts_at) if review.starts_at else review.due_on
    moments = domain.reminder_times(day, tuple(review.remind_days_before or ()), calendar) if active else []
    repository.replace_pending_reminders(session, review_id=review.id, sequence=review.sequence, moments=moments)
    writeback_service.mark_changed(session, account_ids=review.account_id)  # every change of a review passes here


def restore_reviews(session: Session, *, journey_id: int, actor: Actor, now: datetime) -> int:
    """A resumed journey: reviews cancelled by its pause come back, with a date still ahead of us."""
    journey = session.get_one(Journey, journey_id)
    account = session.get_one(Account, journey.account_id)
    calendar = calendar_for(account.region, account.timezone)
    specs = {s.kind: s for s in _specs(journey)}
    restored: dict[str, Review] = {}
    for review in repository.of_journeys(session, [journey_id]):
        if review.status != domain.ReviewStatus.CANCELLED.value or review.status_before_pause is None:
            continue
        new_due = domain.restored_due_on(review.due_on, today=calendar.local_date(now), calendar=calendar)
        if new_due != review.due_on or review.starts_at is None or review.starts_at <= now:
            spec = specs.get(review.kind)
            review.due_on = new_due
            review.starts_at, review.ends_at = _slot(spec, review, new_due, calendar)
            review.scheduled_at, review.fixed_by_hand = None, False
            review.status = domain.ReviewStatus.PROPOSED.value  # the old booking is gone: propose again
        else:
            review.status = review.status_before_pause
        review.status_before_pause = None
        review.sequence += 1
        plan_reminders(session, review=review, calendar=calendar)
        restored[review.kind] = review
    if restored:
        audit.record(session, actor=actor, action="reviews.restored", account_id=account.id,
                     subject=f"journey {journey_id}", restored={k: str(r.due_on) for k, r in restored.items()})
    session.flush()
    for review in restored.values():  # the booking stands again: its organizer gets a fresh REQUEST
        if review.status == domain.ReviewStatus.SCHEDULED.value:
            invitations.send_invitation(session, review=review, account=account, now=now)
    session.flush()
    return len(restored)


def _slot(spec: domain.ReviewSpec | None, review: Review, due_on: date,
          calendar: WorkCalendar) -> tuple[datetime, datetime]:
    if spec is not None:
        return domain.proposed_slot(spec, due_on, calendar)
    length = (review.ends_at - review.starts_at) if review.starts_at and review.ends_at else None
    start = calendar.at_local_time(due_on, domain.DEFAULT_LOCAL_TIME.hour, domain.DEFAULT_LOCAL_TIME.minute)
    return start, start + (length or timedelta(minutes=60))
