"""The handoff packet: read it (JSON, HTML, Markdown), edit it (a new version), acknowledge it."""
from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Body
from fastapi.responses import HTMLResponse, PlainTextResponse
from pydantic import BaseModel, Field

from journey import db
from journey.accounts.endpoints import visible_account
from journey.deps import CurrentMember, ReadSession
from journey.errors import InvalidInput
from journey.handoff import domain, reads, service
from journey.handoff.rendering import render_packet
from journey.kit import utcnow

router = APIRouter(prefix="/api", tags=["handoff"])


class AckCreate(BaseModel):
    decision: Literal["accept", "return"]
    comment: str | None = Field(default=None, max_length=5000)


@router.get("/accounts/{ref}/handoff", response_model=reads.HandoffRead)
def get_handoff(ref: str, session: ReadSession, member: CurrentMember) -> reads.HandoffRead:
    """The current version, what is missing and why, acknowledgements and every version's diff."""
    account = visible_account(session, ref, member)
    return reads.packet_read(session, reads.latest_packet(session, account, ref))


@router.patch("/accounts/{ref}/handoff", response_model=reads.HandoffRead)
def edit_handoff(ref: str, member: CurrentMember,
                 body: dict[str, Any] = Body(..., examples=[{"base_version": 1, "objectives": [
                     {"title": "Cut onboarding time", "kpi": "days", "baseline": 21, "target": 7}]}])
                 ) -> reads.HandoffRead:
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
        return reads.packet_read(session, packet)


@router.post("/accounts/{ref}/handoff/acknowledgements", response_model=reads.HandoffRead, status_code=201)
def acknowledge_handoff(ref: str, body: AckCreate, member: CurrentMember) -> reads.HandoffRead:
    """As the account's CSM or AM: accept the current version, or return it with a comment.
    409 `packet_incomplete` while required sections are missing. Tasks waiting for the packet open
    once both the CSM and the AM accepted the same version."""
    with db.transaction() as session:
        account = visible_account(session, ref, member)
        outcome = service.acknowledge_packet(session, account_id=account.id, member=member,
                                             decision=body.decision, comment=body.comment, now=utcnow())
        return reads.packet_read(session, outcome.packet)


@router.get("/accounts/{ref}/handoff.html", response_class=HTMLResponse)
def handoff_html(ref: str, session: ReadSession, member: CurrentMember) -> HTMLResponse:
    """The current version as an HTML page (every value escaped)."""
    account = visible_account(session, ref, member)
    packet = reads.latest_packet(session, account, ref)
    return HTMLResponse(render_packet(reads.render_context(session, account, packet), fmt="html"))


@router.get("/accounts/{ref}/handoff.md", response_class=PlainTextResponse)
def handoff_markdown(ref: str, session: ReadSession, member: CurrentMember) -> PlainTextResponse:
    """The current version as Markdown (every value escaped), to paste into a doc or a ticket."""
    account = visible_account(session, ref, member)
    packet = reads.latest_packet(session, account, ref)
    text = render_packet(reads.render_context(session, account, packet), fmt="md")
    return PlainTextResponse(text, media_type="text/markdown; charset=utf-8")
