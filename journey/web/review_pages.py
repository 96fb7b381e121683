"""Reviews: upcoming and past across the book, one review with its agenda, booking, the outcome, the .ics."""
from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from journey import db
from journey.accounts import access
from journey.audit import Actor
from journey.deps import ReadSession, RowId
from journey.errors import InvalidInput
from journey.kit import utcnow
from journey.models import Account, Review
from journey.policy import Action
from journey.reviews import agenda as agenda_service
from journey.reviews import invitations, lifecycle
from journey.reviews import read_repository as reviews_read
from journey.reviews import repository as reviews_repository
from journey.reviews.endpoints import review_for
from journey.web.auth import FormViewer, PageViewer, Viewer
from journey.web.render import page

router = APIRouter(include_in_schema=False)
Lines = Annotated[str, Form(max_length=20_000)]


REVIEW_ACTIONS = (Action.book_review, Action.cancel_review, Action.record_review_outcome)


def _review(session: Session, review_id: int, viewer: Viewer,
            action: Action = Action.view_account) -> tuple[Review, Account]:
    review = review_for(session, review_id, viewer.member, action)
    return review, reviews_repository.account_of(session, review)


@router.get("/reviews")
def reviews(request: Request, viewer: PageViewer, session: ReadSession, show: str = "upcoming") -> Response:
    upcoming = show != "past"
    rows = reviews_read.reviews_in_book(session, viewer.member, upcoming=upcoming)
    return page(request, "reviews.html", viewer, rows=rows, show="upcoming" if upcoming else "past")


@router.get("/reviews/{review_id}.ics")
def review_ics(review_id: RowId, viewer: PageViewer, session: ReadSession) -> Response:
    review, _ = _review(session, review_id, viewer)
    ics, method = invitations.ics_for(session, review=review, now=utcnow())
    return Response(ics, media_type=f"text/calendar; charset=utf-8; method={method}",
                    headers={"Content-Disposition": f'attachment; filename="review-{review.id}.ics"'})


@router.get("/reviews/{review_id}")
def review_page(request: Request, review_id: RowId, viewer: PageViewer, session: ReadSession) -> Response:
    return _review_page(request, session, review_id, viewer)


def _review_page(request: Request, session: Session, review_id: int, viewer: Viewer, *, status: int = 200,
                 error: str | None = None, typed: dict[str, Any] | None = None) -> Response:
    """The review with its agenda; after a refused outcome, the reason and what the user typed."""

    review, account = _review(session, review_id, viewer)
    agenda = agenda_service.build_agenda(session, review=review)
    customer = agenda_service.render_customer_agenda(agenda_service.build_customer_agenda(session, review=review))
    local_start = review.starts_at.astimezone(viewer.tz) if review.starts_at else None
    return page(request, "review.html", viewer, status=status, review=review, account=account, agenda=agenda,
                customer_agenda=customer, may=access.may(session, account, viewer.member, *REVIEW_ACTIONS),
                local_start=local_start.strftime("%Y-%m-%dT%H:%M") if local_start else "",
                outcome_error=error, typed=typed or {})


@router.post("/reviews/{review_id}/schedule")
def schedule(review_id: RowId, viewer: FormViewer, starts_at: Annotated[str, Form(max_length=32)] = "",
             outside_working_hours: Annotated[bool, Form()] = False) -> Response:
    """Book the review; the time is read in the viewer's time zone, as the form shows it. A time outside
    the account's working hours needs the form's "the customer asked for this time" box ticked."""

    with db.transaction() as session:
        review, _ = _review(session, review_id, viewer, Action.book_review)
        try:
            local = datetime.fromisoformat(starts_at)
        except ValueError as exc:
            raise InvalidInput("pick a date and a time for the review") from exc
        when = local.replace(tzinfo=viewer.tz) if local.tzinfo is None else local
        lifecycle.schedule_review(session, review=review, starts_at=when, duration_minutes=None,
                                  actor=Actor.user(viewer.member.email), now=utcnow(),
                                  outside_working_hours=outside_working_hours)
    return RedirectResponse(f"/reviews/{review_id}?notice=review_saved", status_code=303)


@router.post("/reviews/{review_id}/outcome")
def record_outcome(request: Request, review_id: RowId, viewer: FormViewer, notes: Lines = "",
                   next_steps: Lines = "", expansion: Lines = "",
                   objective: Annotated[list[str], Form()] = [],  # noqa: B006
                   value: Annotated[list[str], Form()] = [], comment: Annotated[list[str], Form()] = [],  # noqa: B006
                   ) -> Response:
    """Hold the review. A refusal (no notes, a value that is not a number, a review that has not started)
    shows the page again with the reason and everything typed, so nothing has to be written twice."""

    try:
        with db.transaction() as session:
            review, _ = _review(session, review_id, viewer, Action.record_review_outcome)
            if not notes.strip():
                raise InvalidInput("write what was said at the review before recording it as held")
            progress = _progress(objective, value, comment)
            lifecycle.record_outcome(session, review=review, notes=notes.strip(), progress=progress,
                                     expansion_opportunities=_lines(expansion), next_steps=_lines(next_steps),
                                     actor=Actor.user(viewer.member.email), now=utcnow())
    except InvalidInput as exc:
        typed = {"notes": notes, "next_steps": next_steps, "expansion": expansion,
                 "values": dict(zip(objective, value, strict=False)),
                 "comments": dict(zip(objective, comment, strict=False))}
        with db.transaction(writer=False) as session:
            return _review_page(request, session, review_id, viewer, status=exc.status_code, error=exc.detail,
                                typed=typed)
    return RedirectResponse(f"/reviews/{review_id}?notice=review_saved", status_code=303)


def _progress(objective: list[str], value: list[str], comment: list[str]) -> list[dict[str, Any]]:
    """The form's rows with a value, as the outcome's progress per objective."""
    progress = []
    for i, title in enumerate(objective):
        raw = value[i].strip() if i < len(value) else ""
        if not raw:
            continue
        try:
            number = float(raw.replace(",", "."))
        except ValueError as exc:
            raise InvalidInput(f"progress of {title!r}: {raw!r} is not a number") from exc
        note = comment[i].strip() if i < len(comment) else ""
        progress.append({"objective": title, "value": number, "comment": note})
    return progress


@router.post("/reviews/{review_id}/cancel")
def cancel(review_id: RowId, viewer: FormViewer) -> Response:
    with db.transaction() as session:
        review, _ = _review(session, review_id, viewer, Action.cancel_review)
        lifecycle.cancel_review(session, review=review, actor=Actor.user(viewer.member.email), now=utcnow())
    return RedirectResponse(f"/reviews/{review_id}?notice=review_saved", status_code=303)


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]
