"""The account page's forms of plans worked together: assign or re-date a task, comment on it or link its
document, invite a customer stakeholder to the shared plan (the link is shown once), revoke a link."""
from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from journey import db
from journey.accounts import access
from journey.audit import Actor
from journey.config import get_settings
from journey.deps import RowId
from journey.errors import NotFound
from journey.kit import utcnow
from journey.onboarding import service as onboarding_service
from journey.policy import Action
from journey.portal import links
from journey.web.account_pages import account_context
from journey.web.auth import FormViewer
from journey.web.render import page
from journey.worked import tasks

router = APIRouter(include_in_schema=False)


@router.post("/accounts/{ref}/tasks/{task_id}/work")
def work_task(ref: str, task_id: RowId, viewer: FormViewer, assignee: Annotated[str, Form(max_length=320)] = "",
              due_on: Annotated[date | None, Form()] = None,
              reason: Annotated[str, Form(max_length=2000)] = "") -> Response:
    """Assign a task (an email) and/or move its due date with a reason."""
    with db.transaction() as session:
        account = access.account_for(session, ref, viewer.member, Action.assign_task)
        onboarding_service.update_task(session, task_id=task_id, member=viewer.member, action=None,
                                       reason=reason.strip() or None, assignee=assignee.strip() or None,
                                       due_on=due_on, now=utcnow())
    return RedirectResponse(f"/accounts/{account.id}#task-{task_id}", status_code=303)


@router.post("/accounts/{ref}/tasks/{task_id}/comments")
def comment_task(ref: str, task_id: RowId, viewer: FormViewer, body: Annotated[str, Form(max_length=4000)] = "",
                 shared: Annotated[str, Form(max_length=8)] = "",
                 document_url: Annotated[str, Form(max_length=1000)] = "") -> Response:
    """Comment on a task (shown to the customer when `shared`), and/or link its document."""
    now, actor = utcnow(), Actor.user(viewer.member.email)
    with db.transaction() as session:
        task, account_id = tasks.task_of_member(session, task_id, viewer.member, Action.comment_task)
        access.account_for(session, ref, viewer.member, Action.comment_task)
        if document_url.strip():
            tasks.link_document(session, task=task, account_id=account_id, url=document_url, actor=actor)
        if body.strip() or not document_url.strip():
            tasks.add_comment(session, task=task, account_id=account_id, body=body, actor=actor, now=now,
                              shared=bool(shared))
    return RedirectResponse(f"/accounts/{account_id}#task-{task_id}", status_code=303)


@router.post("/accounts/{ref}/share-links")
def invite(request: Request, ref: str, viewer: FormViewer, email: Annotated[str, Form(max_length=320)] = "",
           name: Annotated[str, Form(max_length=200)] = "") -> Response:
    """Invite a stakeholder: the page shows the link once (to copy); it is emailed to them too."""
    with db.transaction() as session:
        account = access.account_for(session, ref, viewer.member, Action.manage_share_links)
        issued = links.invite(session, account=account, email=email, name=name, days=None,
                              base_url=get_settings().public_base_url, actor=Actor.user(viewer.member.email),
                              now=utcnow())
        url = issued.url
    with db.transaction(writer=False) as session:
        account = access.account_for(session, ref, viewer.member)
        return page(request, "account.html", viewer, new_link_url=url, **account_context(session, account, viewer))


@router.post("/accounts/{ref}/share-links/{link_id}/revoke")
def revoke(ref: str, link_id: RowId, viewer: FormViewer) -> Response:
    with db.transaction() as session:
        account = access.account_for(session, ref, viewer.member, Action.manage_share_links)
        link = links.link_by_id(session, link_id)
        if link.account_id != account.id:
            raise NotFound(f"no share link {link_id}")
        links.revoke(session, link=link, actor=Actor.user(viewer.member.email), now=utcnow())
    return RedirectResponse(f"/accounts/{account.id}#shared-plan", status_code=303)
