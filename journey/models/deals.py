"""Deals as the CRM knows them, and the one journey each signed deal starts."""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import ForeignKey, Numeric, String, UniqueConstraint, func
from sqlalchemy.orm import Mapped, mapped_column

from journey.models.base import Base, DealStatus, JourneyStatus, JSONType, StrEnumType


class Deal(Base):
    __tablename__ = "deal"
    __table_args__ = (UniqueConstraint("crm_source", "crm_external_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("account.id"), index=True)
    crm_source: Mapped[str] = mapped_column(String(32))
    crm_external_id: Mapped[str] = mapped_column(String(200))
    name: Mapped[str] = mapped_column(String(500))
    status: Mapped[DealStatus] = mapped_column(StrEnumType(DealStatus), default=DealStatus.won)
    amount: Mapped[Decimal | None] = mapped_column(Numeric(18, 2))
    currency: Mapped[str | None] = mapped_column(String(3))
    signed_at: Mapped[datetime | None]
    contract_start: Mapped[date | None]
    contract_end: Mapped[date | None]
    expected_go_live: Mapped[date | None]
    seats: Mapped[int | None]
    ae_id: Mapped[int | None] = mapped_column(ForeignKey("team_member.id"), index=True)
    se_id: Mapped[int | None] = mapped_column(ForeignKey("team_member.id"))
    last_occurred_at: Mapped[datetime | None]
    field_occurred_at: Mapped[dict[str, Any] | None] = mapped_column(JSONType)  # per-field newest wins
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(server_default=func.now(), onupdate=func.now())


class Journey(Base):
    __tablename__ = "journey"

    id: Mapped[int] = mapped_column(primary_key=True)
    deal_id: Mapped[int] = mapped_column(ForeignKey("deal.id"), unique=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("account.id"), index=True)
    status: Mapped[JourneyStatus] = mapped_column(StrEnumType(JourneyStatus), default=JourneyStatus.active)
    playbook: Mapped[str] = mapped_column(String(64))
    playbook_version: Mapped[int]
    signed_on: Mapped[date]
    kickoff_on: Mapped[date | None]
    go_live_on: Mapped[date | None]
    started_at: Mapped[datetime] = mapped_column(server_default=func.now())
    paused_at: Mapped[datetime | None]
    completed_at: Mapped[datetime | None]
