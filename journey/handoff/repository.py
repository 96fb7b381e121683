"""Every query of handoff packets."""
from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from journey.models import HandoffPacket, PacketAcknowledgement, PacketVersion


def packet_for_journey(session: Session, journey_id: int) -> HandoffPacket | None:
    return session.scalars(select(HandoffPacket).where(HandoffPacket.journey_id == journey_id)).one_or_none()


def latest_packet_for_account(session: Session, account_id: int) -> HandoffPacket | None:
    stmt = (select(HandoffPacket).where(HandoffPacket.account_id == account_id)
            .order_by(HandoffPacket.id.desc()).limit(1))
    return session.scalars(stmt).first()


def version(session: Session, packet_id: int, number: int) -> PacketVersion | None:
    stmt = select(PacketVersion).where(PacketVersion.packet_id == packet_id, PacketVersion.version == number)
    return session.scalars(stmt).one_or_none()


def acknowledgements(session: Session, packet_id: int) -> Sequence[PacketAcknowledgement]:
    stmt = (select(PacketAcknowledgement).where(PacketAcknowledgement.packet_id == packet_id)
            .order_by(PacketAcknowledgement.id))
    return session.scalars(stmt).all()
