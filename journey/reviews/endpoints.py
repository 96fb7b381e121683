"""Reviews: list, read, book or cancel (`PATCH`), record the outcome, the agenda and the `.ics` invitation."""
from __future__ import annotations

from fastapi import APIRouter, Response
from sqlalchemy.orm import Session

from journey import db
from journey.accounts.access import account_for
from journey.accounts.endpoints import visible_account
from journey.accounts.schemas import Page
from journey.audit import Actor
from journey.deps import CurrentMember, ReadSession, RowId
from journey.errors import InvalidInput, NotFound
from journey.kit import utcnow
from journey.models import Review, TeamMember
from journey.policy import Action
from journey.reviews import agenda as agenda_service
from journey.reviews import invitations, lifecycle, repository
from journey.reviews.schemas import AgendaRead, ReviewOutcome, ReviewPatch, ReviewRead

router = APIRouter(prefix="/api", tags=["reviews"])


@router.get("/accounts/{ref}/reviews", response_model=Page[ReviewRead])
def list_reviews(ref: str, session: ReadSession, member: CurrentMember) -> Page[ReviewRead]:
    account = visible_account(session, ref, member)
    return Page(items=[ReviewRead.of(r) for r in repository.of_account(session, account.id)], next=None)


def review_for(session: Session, review_id: int, member: TeamMember,
               action: Action = Action.view_account) -> Review:
    """The review, if the member sees its account (404 otherwise) and may take `action` on it (403)."""
    review = session.get(Review, review_id)
    if review is None:
        raise NotFound(f"no review {review_id}")
    account_for(session, str(review.account_id), member, action, missing=f"no review {review_id}")
    return review


@router.get("/reviews/{review_id}.ics", response_class=Response,
            responses={200: {"content": {"text/calendar": {}}, "description": "iCalendar invitation"}})
def review_ics(review_id: RowId, session: ReadSession, member: CurrentMember) -> Response:
    review = review_for(session, review_id, member)
    content, method = invitations.ics_for(session, review=review, now=utcnow())
    return Response(content, media_type=f"text/calendar; charset=utf-8; method={method}",
                    headers={"Content-Disposition": f'attachment; filename="review-{review_id}.ics"'})


@router.get("/reviews/{review_id}/agenda", response_model=AgendaRead)
def review_agenda(review_id: RowId, session: ReadSession, member: CurrentMember) -> AgendaRead:
    review = review_for(session, review_id, member)
    agenda = agenda_service.build_agenda(session, review=review)
    customer = agenda_service.build_customer_agenda(session, review=review)
    return AgendaRead(**agenda.as_dict(), text=agenda_service.render_agenda(agenda),
                      html=agenda_service.render_agenda(agenda, html=True),
                      customer_text=agenda_service.render_customer_agenda(customer))


@router.get("/reviews/{review_id}", response_model=ReviewRead)
def read_review(review_id: RowId, session: ReadSession, member: CurrentMember) -> ReviewRead:
    return ReviewRead.of(review_for(session, review_id, member))


@router.patch("/reviews/{review_id}", response_model=ReviewRead)
def patch_review(review_id: RowId, patch: ReviewPatch, member: CurrentMember) -> ReviewRead:
    """`{"starts_at": "2027-03-02T10:00:00+01:00"}` books it (SEQUENCE +1); `{"status": "cancelled"}` cancels.

    A time outside the account's working hours is a 422 unless `"outside_working_hours": true`."""
    actor, now = Actor.user(member.email), utcnow()
    action = Action.cancel_review if patch.status == "cancelled" else Action.book_review
    with db.transaction() as session:
        review = review_for(session, review_id, member, action)
        if patch.status == "cancelled":
            if patch.starts_at is not None:
                raise InvalidInput("status: give either starts_at or status cancelled, not both")
            lifecycle.cancel_review(session, review=review, actor=actor, now=now)
        elif patch.starts_at is not None:
            lifecycle.schedule_review(session, review=review, starts_at=patch.starts_at, actor=actor, now=now,
                                      duration_minutes=patch.duration_minutes,
                                      outside_working_hours=patch.outside_working_hours)
        else:
            raise InvalidInput("starts_at: give the time to book the review at (or status: cancelled)")
        return ReviewRead.of(review)


@router.post("/reviews/{review_id}/outcome", response_model=ReviewRead)
def record_outcome(review_id: RowId, body: ReviewOutcome, member: CurrentMember) -> ReviewRead:
    """The review was held: notes, progress per objective, expansion opportunities, next steps."""
    with db.transaction() as session:
        review = review_for(session, review_id, member, Action.record_review_outcome)
        lifecycle.record_outcome(session, review=review, notes=body.notes,
                                 progress=[p.model_dump() for p in body.progress],
                                 expansion_opportunities=body.expansion_opportunities, next_steps=body.next_steps,
                                 actor=Actor.user(member.email), now=utcnow())
        return ReviewRead.of(review)
