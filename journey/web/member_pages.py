"""Admin: who may sign in. Members a CRM names start without the right and wait here for an admin."""
from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response

from journey import db
from journey.audit import Actor
from journey.deps import ReadSession, RowId
from journey.errors import Conflict, NotFound
from journey.policy import Action, require
from journey.team import repository as team_repository
from journey.team import service as team_service
from journey.web.auth import FormViewer, PageViewer, Viewer
from journey.web.render import page

router = APIRouter(include_in_schema=False)


def _admin(viewer: Viewer) -> Viewer:
    require(viewer.member, Action.manage_sign_in)
    return viewer


def _admin_page(viewer: PageViewer) -> Viewer:
    return _admin(viewer)


@router.get("/admin/members")
def members(request: Request, viewer: Annotated[Viewer, Depends(_admin_page)], session: ReadSession) -> Response:
    return page(request, "members.html", viewer, members=team_repository.everyone(session))


@router.post("/admin/members/{member_id}/sign-in")
def set_sign_in(member_id: RowId, viewer: FormViewer, allow: Annotated[bool, Form()] = True) -> Response:
    """Allow a member to sign in, or take the right away (their sessions and API tokens stop at once)."""
    _admin(viewer)
    with db.transaction() as session:
        target = team_repository.by_id(session, member_id)
        if target is None:
            raise NotFound(f"no team member {member_id}")
        if target.id == viewer.member.id and not allow:
            raise Conflict("you cannot take away your own sign-in: ask another admin")
        team_service.set_sign_in(session, email=target.email, allowed=allow, actor=Actor.user(viewer.member.email))
    notice = "sign_in_enabled" if allow else "sign_in_disabled"
    return RedirectResponse(f"/admin/members?notice={notice}", status_code=303)
