"""`GET /api/accounts/{id}/plan`: the onboarding plan of the account's current journey."""
from __future__ import annotations

from fastapi import APIRouter

from journey.accounts.endpoints import visible_account
from journey.deals import repository as deals_repository
from journey.deps import CurrentMember, ReadSession
from journey.errors import NotFound
from journey.kit import utcnow
from journey.onboarding import domain, repository
from journey.onboarding.schemas import MilestoneRead, PlanRead, Raci, TaskRead

router = APIRouter(prefix="/api", tags=["onboarding"])


@router.get("/accounts/{ref}/plan", response_model=PlanRead)
def get_plan(ref: str, session: ReadSession, member: CurrentMember) -> PlanRead:
    account = visible_account(session, ref, member)
    journeys = deals_repository.journeys_page(session, member, after_id=0, limit=1000, account_id=account.id)
    if not journeys:
        raise NotFound(f"account {ref} has no journey yet")
    journey = journeys[-1][0]
    milestones = repository.milestones_of(session, [journey.id])
    if not milestones:
        raise NotFound(f"the plan of account {ref} is not built yet")
    tasks = repository.tasks_of(session, [journey.id])
    key_of = {m.id: m.key for m in milestones}
    states = [domain.TaskState(milestone_key=key_of[t.milestone_id], status=t.status, due_on=t.due_on)
              for t in tasks]
    out = []
    for m in milestones:
        mine = [t for t in tasks if t.milestone_id == m.id]
        out.append(MilestoneRead(
            key=m.key, name=m.name, due_on=m.due_on, value_milestone=m.value_milestone,
            status=domain.milestone_status(s for s in states if s.milestone_key == m.key),
            tasks=[TaskRead(id=t.id, key=t.key, title=t.title, due_on=t.due_on, status=str(t.status),
                            raci=Raci(**t.raci), depends_on=list(t.depends_on), waits_for_packet=t.needs_packet_ack,
                            assignee_id=t.assignee_id, skip_reason=t.skip_reason) for t in mine]))
    today = utcnow().date()
    return PlanRead(journey_id=journey.id, kickoff_on=journey.kickoff_on, go_live_on=journey.go_live_on,
                    status=domain.plan_status(
                        [domain.MilestoneState(key=m.key, due_on=m.due_on) for m in milestones], states, today),
                    milestones=out)
