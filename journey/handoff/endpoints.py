"""`GET /api/accounts/{id}/handoff`: the current version of the handoff packet."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel

from journey.accounts.endpoints import visible_account
from journey.deps import CurrentMember, ReadSession
from journey.errors import NotFound
from journey.handoff import repository

router = APIRouter(prefix="/api", tags=["handoff"])


class AckRead(BaseModel):
    role: str
    member: int
    decision: str
    comment: str | None
    version: int
    at: datetime


class HandoffRead(BaseModel):
    version: int
    state: str
    completeness: int
    missing: list[str]
    objectives: list[dict[str, Any]]
    stakeholders: list[dict[str, Any]]
    content: dict[str, Any]
    acknowledgements: list[AckRead]
    author: str
    updated_at: datetime


@router.get("/accounts/{ref}/handoff", response_model=HandoffRead)
def get_handoff(ref: str, session: ReadSession, member: CurrentMember) -> HandoffRead:
    account = visible_account(session, ref, member)
    packet = repository.latest_packet_for_account(session, account.id)
    if packet is None:
        raise NotFound(f"account {ref} has no handoff packet yet")
    current = repository.version(session, packet.id, packet.version)
    assert current is not None
    acks = repository.acknowledgements(session, packet.id)
    return HandoffRead(
        version=packet.version, state=packet.state, completeness=packet.completeness, missing=packet.missing,
        objectives=current.content.get("objectives", []), stakeholders=current.content.get("stakeholders", []),
        content=current.content, author=current.author, updated_at=current.created_at,
        acknowledgements=[AckRead(role=a.role, member=a.member_id, decision=a.decision, comment=a.comment,
                                  version=a.version, at=a.at) for a in acks])
