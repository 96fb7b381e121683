"""Share links (`POST|GET /api/accounts/{id}/share-links`, `PATCH|DELETE /api/share-links/{id}`), for the
account's CSM and AM, managers and admins; and the shared plan as JSON for the customer's own tools
(`/api/portal/*`, authenticated by the link's token as a bearer token, not by a member)."""
from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Header, Response
from pydantic import BaseModel, Field

from journey import db
from journey.accounts.access import account_for
from journey.audit import Actor
from journey.config import get_settings
from journey.deps import CurrentMember, ReadSession, RowId
from journey.kit import utcnow
from journey.models import ShareLink
from journey.onboarding.schemas import CommentCreate
from journey.policy import Action
from journey.portal import access, domain, links, reads, service
from journey.worked import repository

router = APIRouter(prefix="/api", tags=["shared plan"])
Authorization = Annotated[str | None, Header()]


class ShareLinkCreate(BaseModel):
    email: str = Field(min_length=3, max_length=320)
    name: str = Field(min_length=1, max_length=200)
    days: int | None = Field(default=None, ge=1, le=365, description="lifetime, 60 days by default")


class ShareLinkRenew(BaseModel):
    days: int | None = Field(default=None, ge=1, le=365)


class ShareLinkCreated(BaseModel):
    id: int
    url: str = Field(description="shown once: only the token's digest is stored")
    expires_at: datetime


class ShareLinkRead(BaseModel):
    id: int
    email: str
    name: str
    created_by: str
    created_at: datetime
    expires_at: datetime
    revoked_at: datetime | None
    last_used_at: datetime | None = Field(description="the stakeholder's last change through the link")
    state: str


class ShareLinkPage(BaseModel):
    items: list[ShareLinkRead]


def _read(link: ShareLink, now: datetime) -> ShareLinkRead:
    return ShareLinkRead(id=link.id, email=link.email, name=link.name, created_by=link.created_by,
                         created_at=link.created_at, expires_at=link.expires_at, revoked_at=link.revoked_at,
                         last_used_at=link.last_used_at,
                         state=domain.state_of(expires_at=link.expires_at, revoked_at=link.revoked_at, now=now))


@router.post("/accounts/{ref}/share-links", response_model=ShareLinkCreated, status_code=201)
def create_share_link(ref: str, body: ShareLinkCreate, member: CurrentMember) -> ShareLinkCreated:
    """Invite a customer stakeholder to the shared success plan: the link is emailed to them and returned
    here once (to copy). 409 when the server has no JOURNEY_PUBLIC_BASE_URL."""
    now = utcnow()
    with db.transaction() as session:
        account = account_for(session, ref, member, Action.manage_share_links)
        issued = links.invite(session, account=account, email=body.email, name=body.name, days=body.days,
                              base_url=get_settings().public_base_url, actor=Actor.user(member.email), now=now)
        return ShareLinkCreated(id=issued.link.id, url=issued.url, expires_at=issued.link.expires_at)


@router.get("/accounts/{ref}/share-links", response_model=ShareLinkPage)
def list_share_links(ref: str, session: ReadSession, member: CurrentMember) -> ShareLinkPage:
    """The account's share links, newest first, with their state (active, revoked, expired); never a token."""
    account = account_for(session, ref, member, Action.manage_share_links)
    now = utcnow()
    return ShareLinkPage(items=[_read(link, now) for link in repository.share_links_of(session, account.id)])


def _link_to_manage(session, link_id: int, member) -> ShareLink:  # type: ignore[no-untyped-def]
    link = links.link_by_id(session, link_id)
    account_for(session, str(link.account_id), member, Action.manage_share_links, missing=f"no share link {link_id}")
    return link


@router.delete("/share-links/{link_id}", status_code=204)
def revoke_share_link(link_id: RowId, member: CurrentMember) -> Response:
    """Revoke at once: the next request through the link answers 410."""
    with db.transaction() as session:
        links.revoke(session, link=_link_to_manage(session, link_id, member), actor=Actor.user(member.email),
                     now=utcnow())
    return Response(status_code=204)


@router.patch("/share-links/{link_id}", response_model=ShareLinkRead)
def renew_share_link(link_id: RowId, body: ShareLinkRenew, member: CurrentMember) -> ShareLinkRead:
    """Renew: the link is valid `days` (60 by default) from now; 409 for a revoked link."""
    now = utcnow()
    with db.transaction() as session:
        link = _link_to_manage(session, link_id, member)
        links.renew(session, link=link, days=body.days, actor=Actor.user(member.email), now=now)
        return _read(link, now)


# ------------------------------------------------------------------------------- the customer's API
class PortalTaskUpdate(BaseModel):
    status: Literal["done"]


class ValidationCreate(BaseModel):
    decision: Literal["validate", "comment"]
    comment: str | None = Field(default=None, max_length=4000)


@router.get("/portal", response_model=reads.PortalRead)
def get_portal(session: ReadSession, authorization: Authorization = None) -> reads.PortalRead:
    """The shared plan of the link's account (Authorization: Bearer <the token in the link>)."""
    token = access.bearer_token(authorization)
    link = access.link_for(session, token, now=utcnow())
    return reads.portal_of(session, link, today=utcnow().date(), token=token)


@router.patch("/portal/tasks/{task_id}", response_model=reads.PortalRead)
def portal_finish_task(task_id: RowId, body: PortalTaskUpdate, authorization: Authorization = None
                       ) -> reads.PortalRead:
    """Mark a task of the customer's side done; 403 on a vendor-side task, 404 on another plan's."""
    return _portal_write(authorization, lambda s, link, now: service.finish_task(
        s, link=link, task_id=task_id, status=body.status, now=now))


@router.post("/portal/tasks/{task_id}/comments", response_model=reads.PortalRead, status_code=201)
def portal_comment(task_id: RowId, body: CommentCreate, authorization: Authorization = None) -> reads.PortalRead:
    return _portal_write(authorization, lambda s, link, now: service.comment_task(
        s, link=link, task_id=task_id, body=body.body, now=now))


@router.post("/portal/objectives/{objective_id}/validation", response_model=reads.PortalRead, status_code=201)
def portal_validate(objective_id: RowId, body: ValidationCreate, authorization: Authorization = None
                    ) -> reads.PortalRead:
    """`validate` the objective (it becomes customer_validated) or `comment` on it."""
    return _portal_write(authorization, lambda s, link, now: service.decide_objective(
        s, link=link, objective_id=objective_id, decision=body.decision, comment=body.comment, now=now))


def _portal_write(authorization: str | None, act) -> reads.PortalRead:  # type: ignore[no-untyped-def]
    token, now = access.bearer_token(authorization), utcnow()
    with db.transaction() as session:
        link = access.link_for(session, token, now=now)
        act(session, link, now)
        link.last_used_at = now
        return reads.portal_of(session, link, today=now.date(), token=token)



