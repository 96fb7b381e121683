"""Move an account's expected go-live by hand (a CSM, the AM or a manager, with a reason).

The same moves as a CRM `deal.updated` (:mod:`flows.deal_updated`): the deal's expected go-live is set
(newest wins per field, so an older CRM update does not take it back), open go-live-anchored tasks move,
done ones stay, the slip is recorded with its reason and actor, and go-live-anchored reviews follow.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy.orm import Session

from journey import audit, policy
from journey.accounts.access import facts
from journey.audit import Actor
from journey.deals.service import apply_newer
from journey.errors import Conflict, InvalidInput, NotFound
from journey.models import Account, Deal, Journey, JourneyStatus, TeamMember
from journey.onboarding import domain, repository
from journey.onboarding import service as onboarding_service
from journey.policy import Action
from journey.reviews import service as reviews_service


@dataclass(frozen=True)
class GoLiveMoved:
    journey: Journey
    old_go_live: date | None
    tasks_moved: int
    reviews_moved: int


def set_go_live(session: Session, *, account: Account, member: TeamMember, new_go_live: date, reason: str,
                now: datetime) -> GoLiveMoved:
    """Move the expected go-live of the account's current journey; what moved.

    403 for a member who is not the account's CSM, AM, a manager or an admin; 422 without a reason or
    for a date before the signature; 409 when the journey is paused. The same date again changes nothing.
    """
    policy.require(member, Action.move_go_live, facts(session, account))
    reason = reason.strip()
    if not reason:
        raise InvalidInput("say why the go-live moves (reason)")
    rows = repository.current_journeys(session, member, account_id=account.id)
    if not rows:
        raise NotFound(f"account {account.id} has no journey yet")
    journey = rows[0][0]
    if journey.status != JourneyStatus.active:
        raise Conflict(f"the journey is {journey.status}: its plan is frozen")
    if (refusal := domain.go_live_refusal(new_go_live, signed_on=journey.signed_on)) is not None:
        raise InvalidInput(refusal)
    if not repository.has_plan(session, journey.id):
        raise Conflict("the plan is not built yet: try again in a minute")
    old_go_live = journey.go_live_on
    if old_go_live == new_go_live:
        return GoLiveMoved(journey, old_go_live, 0, 0)
    actor = Actor.user(member.email)
    deal = session.get_one(Deal, journey.deal_id)
    if apply_newer(deal, {"expected_go_live": new_go_live}, occurred_at=now):
        audit.record(session, actor=actor, action="deal.go_live_set", account_id=account.id,
                     subject=f"deal {deal.crm_external_id}", expected_go_live=str(new_go_live), reason=reason)
    tasks = onboarding_service.move_go_live(session, journey_id=journey.id, new_go_live=new_go_live,
                                            reason=reason, actor=actor, now=now)
    reviews = reviews_service.follow_go_live(session, journey_id=journey.id, new_go_live=new_go_live, actor=actor)
    return GoLiveMoved(journey, old_go_live, len(tasks), reviews)
