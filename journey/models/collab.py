"""Plans worked together: comments on tasks, moves of a task's due date, and the customer's share links."""
from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from journey.models.base import Base


class TaskComment(Base):
    """A plain-text comment on a plan task, by a team member or a customer stakeholder (through the portal)."""

    __tablename__ = "task_comment"

    id: Mapped[int] = mapped_column(primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("plan_task.id", ondelete="CASCADE"), index=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("account.id"), index=True)
    at: Mapped[datetime]
    author_kind: Mapped[str] = mapped_column(String(16))  # member, customer
    author: Mapped[str] = mapped_column(String(320))  # an email
    body: Mapped[str] = mapped_column(Text)
    mentions: Mapped[list[Any]] = mapped_column(default=list)  # emails of the members @mentioned
    shared: Mapped[bool] = mapped_column(default=False)  # shown to the customer on the shared plan


class TaskSlip(Base):
    """A move of one task's due date, with why and by whom."""

    __tablename__ = "task_slip"

    id: Mapped[int] = mapped_column(primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("plan_task.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime]
    old_due_on: Mapped[date]
    new_due_on: Mapped[date]
    reason: Mapped[str] = mapped_column(Text)
    actor: Mapped[str] = mapped_column(String(320))


class ShareLink(Base):
    """A customer stakeholder's link to the account's shared success plan; only the token's digest is kept."""

    __tablename__ = "share_link"

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("account.id"), index=True)
    email: Mapped[str] = mapped_column(String(320))
    name: Mapped[str] = mapped_column(String(200))
    token_digest: Mapped[str] = mapped_column(String(64), unique=True)
    created_by: Mapped[str] = mapped_column(String(320))
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]
    last_used_at: Mapped[datetime | None]
