"""Every query of handoff packets."""
from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from journey.models import (
    Account,
    Deal,
    HandoffPacket,
    Journey,
    JourneyStatus,
    PacketAcknowledgement,
    PacketVersion,
    Reminder,
)


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


def incomplete_packets(session: Session) -> Sequence[tuple[HandoffPacket, Journey, Account, Deal]]:
    """Packets still missing required sections, on active journeys, with what reminding the AE needs."""
    stmt = (select(HandoffPacket, Journey, Account, Deal)
            .join(Journey, Journey.id == HandoffPacket.journey_id)
            .join(Account, Account.id == HandoffPacket.account_id)
            .join(Deal, Deal.id == Journey.deal_id)
            .where(HandoffPacket.state == "draft", Journey.status == JourneyStatus.active)
            .order_by(HandoffPacket.id))
    return [(p, j, a, d) for p, j, a, d in session.execute(stmt).all()]


def close_reminders(session: Session, *, kind: str, subject: str, now: datetime) -> None:
    """Mark the open reminders of this kind about this subject done (the packet got complete)."""
    session.execute(update(Reminder).where(Reminder.kind == kind, Reminder.subject == subject,
                                           Reminder.status == "open").values(status="done", closed_at=now))


def versions(session: Session, packet_id: int) -> Sequence[PacketVersion]:
    stmt = select(PacketVersion).where(PacketVersion.packet_id == packet_id).order_by(PacketVersion.version)
    return session.scalars(stmt).all()
