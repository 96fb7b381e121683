"""Use cases of reviews: schedule them from the playbook's cadence, move them with go-live, pause."""
from __future__ import annotations

from datetime import date

from sqlalchemy.orm import Session

from journey import audit
from journey.audit import Actor
from journey.calendar import calendar_for
from journey.models import Account, Deal, Journey, Review
from journey.playbooks import playbook_named
from journey.reviews import domain, repository

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
    session.add_all(Review(journey_id=journey_id, account_id=account.id, kind=d.kind, title=d.title,
                           anchor=str(d.anchor), due_on=d.due_on, starts_at=d.starts_at, ends_at=d.ends_at,
                           status=domain.ReviewStatus.PROPOSED.value, attendees=list(d.attendees),
                           remind_days_before=list(d.remind_days_before), sequence=0)
                    for d in drafts)
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
    if moves:
        audit.record(session, actor=actor, action="reviews.moved", account_id=account.id,
                     subject=f"journey {journey_id}", moved={m.kind: str(m.new_due_on) for m in moves})
    session.flush()
    return len(moves)


def cancel_future_reviews(session: Session, *, journey_id: int, actor: Actor) -> int:
    """A paused journey: proposed and scheduled reviews are cancelled, remembering their state."""
    count = 0
    for review in repository.of_journeys(session, [journey_id]):
        if review.status in PAUSABLE:
            review.status_before_pause, review.status = review.status, domain.ReviewStatus.CANCELLED.value
            review.sequence += 1
            count += 1
    if count:
        journey = session.get_one(Journey, journey_id)
        audit.record(session, actor=actor, action="reviews.cancelled", account_id=journey.account_id,
                     subject=f"journey {journey_id}", count=count)
    session.flush()
    return count
