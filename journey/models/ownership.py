"""Who owned an account, in which role, from when to when, and why (the CSM + AM pair's history)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from journey.models.base import Base


class AccountOwner(Base):
    """One ownership window: `ended_at` is null while the member still owns the account in `role`."""

    __tablename__ = "account_owner"
    __table_args__ = (Index("ix_account_owner_current", "account_id", "role", "ended_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("account.id", ondelete="CASCADE"), index=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("team_member.id"), index=True)
    role: Mapped[str] = mapped_column(String(8))  # csm, am
    started_at: Mapped[datetime]
    ended_at: Mapped[datetime | None]
    source: Mapped[str] = mapped_column(String(16))  # crm, rules, manager
    assigned_by: Mapped[str] = mapped_column(String(320))
    reason: Mapped[str] = mapped_column(Text)
