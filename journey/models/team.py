"""Team members (AE, SE, CSM, AM, manager, admin) and their API tokens."""
from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import ForeignKey, Numeric, String, false, func
from sqlalchemy.orm import Mapped, mapped_column

from journey.models.base import Base, Role, StrEnumType


class TeamMember(Base):
    __tablename__ = "team_member"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[Role] = mapped_column(StrEnumType(Role))
    password_hash: Mapped[str | None] = mapped_column(String(200))
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    segments: Mapped[list[Any]] = mapped_column(default=list)
    regions: Mapped[list[Any]] = mapped_column(default=list)
    languages: Mapped[list[Any]] = mapped_column(default=list)
    capacity_accounts: Mapped[int | None]
    capacity_arr: Mapped[Decimal | None] = mapped_column(Numeric(18, 2))  # sum of the active deals' amounts
    active: Mapped[bool] = mapped_column(default=True)
    # May sign in (password, link, session, API token). Members the CRM names start without, unless their
    # domain is in JOURNEY_ALLOWED_EMAIL_DOMAINS; they are still assigned and notified.
    can_sign_in: Mapped[bool] = mapped_column(default=False, server_default=false())
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())


class ApiToken(Base):
    """A bearer token for the API: only its SHA-256 digest is stored, with its last characters to tell it apart."""

    __tablename__ = "api_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("team_member.id", ondelete="CASCADE"), index=True)
    digest: Mapped[str] = mapped_column(String(64), unique=True)
    label: Mapped[str] = mapped_column(String(100), default="cli")
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    expires_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]
    last_used_at: Mapped[datetime | None]  # to the hour: the API writes it at most once an hour per token
    hint: Mapped[str | None] = mapped_column(String(8))  # the token's last characters (none for older tokens)
