"""Customer accounts and their stakeholders."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, String, UniqueConstraint, func
from sqlalchemy.orm import Mapped, mapped_column

from journey.models.base import Base, JSONType


class Account(Base):
    __tablename__ = "account"
    __table_args__ = (UniqueConstraint("crm_source", "crm_external_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    crm_source: Mapped[str] = mapped_column(String(32))
    crm_external_id: Mapped[str] = mapped_column(String(200))
    name: Mapped[str] = mapped_column(String(500))
    domain: Mapped[str | None] = mapped_column(String(255))
    segment: Mapped[str | None] = mapped_column(String(64))
    region: Mapped[str | None] = mapped_column(String(16))
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    language: Mapped[str | None] = mapped_column(String(16))  # e.g. fr, pt-BR: a tie-break when assigning
    csm_id: Mapped[int | None] = mapped_column(ForeignKey("team_member.id"), index=True)
    am_id: Mapped[int | None] = mapped_column(ForeignKey("team_member.id"), index=True)
    field_occurred_at: Mapped[dict[str, Any] | None] = mapped_column(JSONType)  # per-field newest wins
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(server_default=func.now(), onupdate=func.now())


class Stakeholder(Base):
    __tablename__ = "stakeholder"

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("account.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(300))
    email: Mapped[str | None] = mapped_column(String(320))
    title: Mapped[str | None] = mapped_column(String(200))
    role: Mapped[str | None] = mapped_column(String(64))
