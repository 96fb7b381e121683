"""Read use cases of the handoff packet: the packet as the API shows it, and the context its templates
render (`/handoff.html`, `/handoff.md`, `journey packets show`)."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from journey.accounts.repository import members_by_id
from journey.errors import NotFound
from journey.handoff import domain, repository, service
from journey.models import Account, HandoffPacket, Journey


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


def packet_read(session: Session, packet: HandoffPacket) -> HandoffRead:
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


def latest_packet(session: Session, account: Account, ref: str) -> HandoffPacket:
    """The account's latest packet; 404 while it has none."""
    packet = repository.latest_packet_for_account(session, account.id)
    if packet is None:
        raise NotFound(f"account {ref} has no handoff packet yet")
    return packet


def render_context(session: Session, account: Account, packet: HandoffPacket) -> dict[str, Any]:
    read = packet_read(session, packet)
    return {"account": account, "packet": read, "content": domain.PacketContent.model_validate(read.content),
            "missing": [(name, read.missing_reasons.get(name, "missing")) for name in read.missing],
            "acknowledgements": read.acknowledgements, "versions": read.versions}
