"""Use cases of handoff packets: open the first version from the signed deal."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from journey import audit
from journey.audit import Actor
from journey.handoff import domain, repository
from journey.models import HandoffPacket, Journey, PacketVersion
from journey.playbooks import playbook_named


def required_sections(playbook_name: str) -> list[str]:
    packet = playbook_named(playbook_name).packet or {}
    return list(packet.get("required", ["deal_terms", "stakeholders", "objectives"]))


def open_packet(session: Session, *, journey_id: int, deal_data: dict[str, Any], actor: Actor,
                now: datetime) -> bool:
    """Version 1 of the packet from what the deal carried; False if the journey already has a packet."""
    if repository.packet_for_journey(session, journey_id) is not None:
        return False
    journey = session.get_one(Journey, journey_id)
    content = domain.packet_from_deal_event(deal_data)
    score = domain.completeness(content, required_sections(journey.playbook))
    packet = HandoffPacket(journey_id=journey_id, account_id=journey.account_id, version=1,
                           completeness=score.score, missing=list(score.missing),
                           state="awaiting_ack" if not score.missing else "draft")
    packet.state = "draft" if score.missing else "awaiting_ack"
    session.add(packet)
    session.flush()
    session.add(PacketVersion(packet_id=packet.id, version=1, content=content.model_dump(mode="json"),
                              changes=[], author=actor.label, created_at=now))
    audit.record(session, actor=actor, action="packet.opened", account_id=journey.account_id,
                 subject=f"journey {journey_id}", completeness=score.score, missing=list(score.missing))
    session.flush()
    return True
