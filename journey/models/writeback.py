"""The CRM write-back queue: one row per CRM record journey writes to, coalesced (only the latest values go)."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from journey.models.base import Base


class CrmWrite(Base):
    """One CRM record (a deal, or its company) and what journey last wrote to it.

    A change marks the row `pending` and bumps `version`; the drainer computes the values then, sends only
    the properties that differ from `sent_values` (the last acknowledged ones), and returns the row to
    `idle` unless it changed again meanwhile. `dead`: the CRM refused for good (its words in `error`).
    """

    __tablename__ = "crm_write"
    __table_args__ = (UniqueConstraint("crm", "object_type", "object_id"),
                      Index("ix_crm_write_due", "status", "due_at"))

    id: Mapped[int] = mapped_column(primary_key=True)
    crm: Mapped[str] = mapped_column(String(32))  # hubspot, salesforce, pipedrive
    object_type: Mapped[str] = mapped_column(String(16))  # deal, company
    object_id: Mapped[str] = mapped_column(String(200))
    account_id: Mapped[int] = mapped_column(ForeignKey("account.id", ondelete="CASCADE"), index=True)
    deal_id: Mapped[int | None] = mapped_column(ForeignKey("deal.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(String(16), default="pending")  # pending, idle, dead
    version: Mapped[int] = mapped_column(default=1)
    changed_at: Mapped[datetime | None]  # the oldest change not yet acknowledged: the lag runs from here
    due_at: Mapped[datetime | None]
    locked_until: Mapped[datetime | None]
    attempts: Mapped[int] = mapped_column(default=0)
    sent_values: Mapped[dict[str, Any]] = mapped_column(default=dict)
    acked_at: Mapped[datetime | None]
    lag_seconds: Mapped[float | None]
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]


class CrmIdentity(Base):
    """Who journey is in one CRM, learned from the CRM itself (`journey crm setup`, or the first write-back):
    the Salesforce run-as user, the HubSpot private app's id, the Pipedrive API token's user. Its changes
    coming back as webhooks are journey's own echo."""

    __tablename__ = "crm_identity"

    crm: Mapped[str] = mapped_column(String(32), primary_key=True)
    integration_id: Mapped[str] = mapped_column(String(200))
    learned_at: Mapped[datetime]
