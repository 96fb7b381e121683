"""The handoff packet: read it (JSON, HTML, Markdown), edit it (a new version), acknowledge it."""
from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from fastapi import APIRouter, Body
from fastapi.responses import HTMLResponse, PlainTextResponse
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from journey import db
from journey.accounts.endpoints import visible_account
from journey.accounts.repository import members_by_id
from journey.deps import CurrentMember, ReadSession
from journey.errors import InvalidInput, NotFound
from journey.handoff import domain, repository, service
from journey.handoff.rendering import render_packet
from journey.kit import utcnow
from journey.models import Account, HandoffPacket, Journey

router = APIRouter(prefix="/api", tags=["handoff"])


class AckRead(BaseModel):
    role: str
    member: int
    member_email: str | None
    decision: str
    comment: str | None
    version: int
    at: datetime


class VersionRead(BaseModel):
    version: int
    author: str
    at: datetime
    changes: list[dict[str, Any]]


class HandoffRead(BaseModel):
    version: int
    state: str = Field(description="draft (incomplete), awaiting_ack, returned, accepted")
    completeness: int
    missing: list[str]
    missing_reasons: dict[str, str]
    required: list[str]
    objectives: list[dict[str, Any]]
    stakeholders: list[dict[str, Any]]
    content: dict[str, Any]
    acknowledgements: list[AckRead]
    versions: list[VersionRead]
    author: str
    updated_at: datetime


class AckCreate(BaseModel):
    decision: Literal["accept", "return"]
    comment: str | None = Field(default=None, max_length=5000)


def _read(session: Session, account: Account, packet: HandoffPacket) -> HandoffRead:
    versions = repository.versions(session, packet.id)
    current = versions[-1]
    acks = repository.acknowledgements(session, packet.id)
    emails = {m.id: m.email for m in members_by_id(session, {a.member_id for a in acks}).values()}
    required = service.required_sections(session.get_one(Journey, packet.journey_id).playbook)
    score = domain.completeness(domain.PacketContent.model_validate(current.content), required)
    return HandoffRead(
        version=packet.version, state=packet.state, completeness=packet.completeness, missing=packet.missing,
        missing_reasons=score.reasons, required=required,
        objectives=current.content.get("objectives", []), stakeholders=current.content.get("stakeholders", []),
        content=current.content, author=current.author, updated_at=current.created_at,
        acknowledgements=[AckRead(role=a.role, member=a.member_id, member_email=emails.get(a.member_id),
                                  decision=a.decision, comment=a.comment, version=a.version, at=a.at) for a in acks],
        versions=[VersionRead(version=v.version, author=v.author, at=v.created_at, changes=v.changes)
                  for v in versions])


def _packet(session: Session, account: Account, ref: str) -> HandoffPacket:
    packet = repository.latest_packet_for_account(session, account.id)
    if packet is None:
        raise NotFound(f"account {ref} has no handoff packet yet")
    return packet


@router.get("/accounts/{ref}/handoff", response_model=HandoffRead)
def get_handoff(ref: str, session: ReadSession, member: CurrentMember) -> HandoffRead:
    """The current version, what is missing and why, acknowledgements and every version's diff."""
    account = visible_account(session, ref, member)
    return _read(session, account, _packet(session, account, ref))


@router.patch("/accounts/{ref}/handoff", response_model=HandoffRead)
def edit_handoff(ref: str, member: CurrentMember,
                 body: dict[str, Any] = Body(..., examples=[{"base_version": 1, "objectives": [
                     {"title": "Cut onboarding time", "kpi": "days", "baseline": 21, "target": 7}]}])
                 ) -> HandoffRead:
    """Replace whole sections (`deal_terms`, `why_bought`, `alternatives`, `stakeholders`, `objectives`,
    `promises`, `risks`, `technical_scope`, `se_notes`): a new version with author and diff. Optional
    `base_version` refuses the edit (409) if someone saved a newer version meanwhile. The deal's AE,
    managers and admins; the SE for `se_notes` and `technical_scope`."""
    patch = dict(body)
    base_version = patch.pop("base_version", None)
    if base_version is not None and not isinstance(base_version, int):
        raise InvalidInput("base_version must be an integer")
    if not patch:
        raise InvalidInput(f"send at least one section: {', '.join(domain.SECTIONS)}")
    with db.transaction() as session:
        account = visible_account(session, ref, member)
        packet = service.edit_packet(session, account_id=account.id, member=member, patch=patch,
                                     base_version=base_version, now=utcnow())
        return _read(session, account, packet)


@router.post("/accounts/{ref}/handoff/acknowledgements", response_model=HandoffRead, status_code=201)
def acknowledge_handoff(ref: str, body: AckCreate, member: CurrentMember) -> HandoffRead:
    """As the account's CSM or AM: accept the current version, or return it with a comment.
    409 `packet_incomplete` while required sections are missing. Tasks waiting for the packet open
    once both the CSM and the AM accepted the same version."""
    with db.transaction() as session:
        account = visible_account(session, ref, member)
        outcome = service.acknowledge_packet(session, account_id=account.id, member=member,
                                             decision=body.decision, comment=body.comment, now=utcnow())
        return _read(session, account, outcome.packet)


def _render_context(session: Session, account: Account, packet: HandoffPacket) -> dict[str, Any]:
    read = _read(session, account, packet)
    return {"account": account, "packet": read, "content": domain.PacketContent.model_validate(read.content),
            "missing": [(name, read.missing_reasons.get(name, "missing")) for name in read.missing],
            "acknowledgements": read.acknowledgements, "versions": read.versions}


@router.get("/accounts/{ref}/handoff.html", response_class=HTMLResponse)
def handoff_html(ref: str, session: ReadSession, member: CurrentMember) -> HTMLResponse:
    """The current version as an HTML page (every value escaped)."""
    account = visible_account(session, ref, member)
    return HTMLResponse(render_packet(_render_context(session, account, _packet(session, account, ref)), fmt="html"))


@router.get("/accounts/{ref}/handoff.md", response_class=PlainTextResponse)
def handoff_markdown(ref: str, session: ReadSession, member: CurrentMember) -> PlainTextResponse:
    """The current version as Markdown (every value escaped), to paste into a doc or a ticket."""
    account = visible_account(session, ref, member)
    text = render_packet(_render_context(session, account, _packet(session, account, ref)), fmt="md")
    return PlainTextResponse(text, media_type="text/markdown; charset=utf-8")
