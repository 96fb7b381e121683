"""The shared success plan in the browser: `/p/<token>` opens without an account. Its forms carry a CSRF token
derived from the link (only who holds the link can compute it) and are refused from another origin."""
from __future__ import annotations

import hmac
from typing import Annotated
from urllib.parse import urlsplit

from fastapi import APIRouter, Form, Request, Response
from fastapi.responses import RedirectResponse

from journey import db
from journey.deps import ReadSession, RowId
from journey.errors import NotFound
from journey.kit import utcnow
from journey.portal import access, domain, reads, service
from journey.web.auth import CsrfRefused, csrf_for
from journey.web.render import page

router = APIRouter(include_in_schema=False)
NOTICES = {"done": "Thank you: the task is marked done.", "commented": "Your comment is posted.",
           "validated": "Thank you: the objective is validated.", "objective_commented": "Your comment is sent."}


def portal_csrf(token: str) -> str:
    return csrf_for("portal|" + domain.digest_of(token))


def _check(request: Request, token: str, csrf_token: str) -> None:
    origin = request.headers.get("origin")
    if origin and origin != "null" and urlsplit(origin).netloc != request.headers.get("host", ""):
        raise CsrfRefused("this form was sent from another site")
    if not csrf_token or not hmac.compare_digest(csrf_token, portal_csrf(token)):
        raise CsrfRefused("the form has expired: reload the page and try again")


@router.get("/p/{token}")
def shared_plan(token: str, request: Request, session: ReadSession) -> Response:
    now = utcnow()
    link = access.link_for(session, token, now=now)
    plan = reads.portal_of(session, link, today=now.date(), token=token)
    response = page(request, "portal.html", None, plan=plan, token=token, portal_csrf=portal_csrf(token),
                    portal_notice=NOTICES.get(request.query_params.get("done", "")))
    response.headers["Referrer-Policy"] = "no-referrer"  # the token is in the address: never send it on
    return response


@router.get("/p/{token}/reviews/{review_id}.ics")
def review_ics(token: str, review_id: RowId, session: ReadSession) -> Response:
    now = utcnow()
    link = access.link_for(session, token, now=now)
    ics = reads.review_ics(session, link, review_id, now=now)
    if ics is None:
        raise NotFound(f"no review {review_id} on this plan")
    return Response(ics, media_type="text/calendar; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="review-{review_id}.ics"'})


def _write(request: Request, token: str, csrf_token: str, act, anchor: str, notice: str) -> Response:  # type: ignore[no-untyped-def]
    _check(request, token, csrf_token)
    now = utcnow()
    with db.transaction() as session:
        link = access.link_for(session, token, now=now)
        act(session, link, now)
        link.last_used_at = now
    return RedirectResponse(f"/p/{token}?done={notice}#{anchor}", status_code=303)


@router.post("/p/{token}/tasks/{task_id}")
def finish_task(token: str, task_id: RowId, request: Request,
                csrf_token: Annotated[str, Form()] = "") -> Response:
    return _write(request, token, csrf_token, lambda s, link, now: service.finish_task(
        s, link=link, task_id=task_id, status="done", now=now), f"task-{task_id}", "done")


@router.post("/p/{token}/tasks/{task_id}/comments")
def comment_task(token: str, task_id: RowId, request: Request, body: Annotated[str, Form(max_length=4000)] = "",
                 csrf_token: Annotated[str, Form()] = "") -> Response:
    return _write(request, token, csrf_token, lambda s, link, now: service.comment_task(
        s, link=link, task_id=task_id, body=body, now=now), f"task-{task_id}", "commented")


@router.post("/p/{token}/objectives/{objective_id}/validation")
def decide_objective(token: str, objective_id: RowId, request: Request,
                     decision: Annotated[str, Form(max_length=16)] = "validate",
                     comment: Annotated[str, Form(max_length=4000)] = "",
                     csrf_token: Annotated[str, Form()] = "") -> Response:
    notice = "validated" if decision == "validate" else "objective_commented"
    return _write(request, token, csrf_token, lambda s, link, now: service.decide_objective(
        s, link=link, objective_id=objective_id, decision=decision, comment=comment, now=now),
        f"objective-{objective_id}", notice)
