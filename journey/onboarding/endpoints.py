"""Plans: `GET /api/accounts/{id}/plan`, `PUT /api/accounts/{id}/go-live`, `PATCH /api/tasks/{id}`,
`GET /api/kpis/onboarding`."""
from __future__ import annotations

from fastapi import APIRouter

from journey import db
from journey.accounts.endpoints import visible_account
from journey.deps import CurrentMember, ReadSession, RowId
from journey.errors import NotFound
from journey.kit import utcnow
from journey.onboarding import golive, reads, repository, service
from journey.onboarding.schemas import GoLiveUpdate, OnboardingKpis, PlanRead, TaskRead, TaskUpdate

router = APIRouter(prefix="/api", tags=["onboarding"])


@router.get("/accounts/{ref}/plan", response_model=PlanRead)
def get_plan(ref: str, session: ReadSession, member: CurrentMember) -> PlanRead:
    """The onboarding plan of the account's current journey, with status, on-time % and time-to-value."""
    account = visible_account(session, ref, member)
    journeys = repository.current_journeys(session, member, account_id=account.id)
    if not journeys:
        raise NotFound(f"account {ref} has no journey yet")
    plan = reads.plan_of(session, journeys[0][0], account, today=utcnow().date())
    if plan is None:
        raise NotFound(f"the plan of account {ref} is not built yet")
    return plan


@router.put("/accounts/{ref}/go-live", response_model=PlanRead)
def put_go_live(ref: str, body: GoLiveUpdate, member: CurrentMember) -> PlanRead:
    """Move the expected go-live with a reason, as a CRM update would: open go-live tasks and reviews
    move, done tasks stay, and the slip is recorded with its reason and actor (see `slips`).

    The account's CSM or AM, managers and admins (403 otherwise); 422 for a date before the signature or
    more than five years after it; 409 while the journey is paused or its plan not built.
    """
    now = utcnow()
    with db.transaction() as session:
        account = visible_account(session, ref, member)
        moved = golive.set_go_live(session, account=account, member=member, new_go_live=body.date,
                                   reason=body.reason, now=now)
        plan = reads.plan_of(session, moved.journey, account, today=now.date())
        assert plan is not None  # set_go_live refuses a journey without a plan
        return plan


@router.patch("/tasks/{task_id}", response_model=TaskRead)
def update_task(task_id: RowId, body: TaskUpdate, member: CurrentMember) -> TaskRead:
    """Start, finish, skip (with a reason), reopen, reassign, re-date (with a reason, kept as a slip) or link a
    document to a task of an account the member can see (`complete_task`, `assign_task`, `comment_task`).

    409 `conflict` when the task waits for the packet to be accepted or the move is not allowed
    (a done task must be reopened first); 422 when skipping without a reason or the assignee is unknown.
    """
    with db.transaction() as session:
        task = service.update_task(session, task_id=task_id, member=member, action=body.action,
                                   reason=body.reason, assignee=body.assignee, now=utcnow(),
                                   due_on=body.due_on, document_url=body.document_url)
        return reads.task_read(session, task)


@router.get("/kpis/onboarding", response_model=OnboardingKpis)
def onboarding_kpis(session: ReadSession, member: CurrentMember) -> OnboardingKpis:
    """Plan status, on-time % and time-to-value per account, per CSM and overall, over the member's book.

    on-time %: tasks done by their due date over tasks done plus open tasks past due (skipped ones and
    open ones not yet due do not count). Time-to-value: calendar days from signature to the completion
    of the first value milestone.
    """
    return reads.onboarding_kpis(session, member, today=utcnow().date())
