"""Handoff packets: versioned content from the AE, acknowledged by the CSM and the AM."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from journey.models.base import Base


class HandoffPacket(Base):
    __tablename__ = "handoff_packet"

    id: Mapped[int] = mapped_column(primary_key=True)
    journey_id: Mapped[int] = mapped_column(ForeignKey("journey.id", ondelete="CASCADE"), unique=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("account.id"), index=True)
    version: Mapped[int] = mapped_column(default=1)
    completeness: Mapped[int] = mapped_column(default=0)
    missing: Mapped[list[Any]] = mapped_column(default=list)
    state: Mapped[str] = mapped_column(String(16), default="draft")
    last_ae_reminder_at: Mapped[datetime | None]


class PacketVersion(Base):
    __tablename__ = "packet_version"
    __table_args__ = (UniqueConstraint("packet_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    packet_id: Mapped[int] = mapped_column(ForeignKey("handoff_packet.id", ondelete="CASCADE"), index=True)
    version: Mapped[int]
    content: Mapped[dict[str, Any]]
    changes: Mapped[list[Any]] = mapped_column(default=list)
    author: Mapped[str] = mapped_column(String(320))
    created_at: Mapped[datetime]


class PacketAcknowledgement(Base):
    __tablename__ = "packet_acknowledgement"

    id: Mapped[int] = mapped_column(primary_key=True)
    packet_id: Mapped[int] = mapped_column(ForeignKey("handoff_packet.id", ondelete="CASCADE"), index=True)
    version: Mapped[int]
    role: Mapped[str] = mapped_column(String(8))
    member_id: Mapped[int] = mapped_column(ForeignKey("team_member.id"))
    decision: Mapped[str] = mapped_column(String(8))
    comment: Mapped[str | None] = mapped_column(Text)
    at: Mapped[datetime]
