"""Browser sign-in: server-side sessions (so sign-out and deactivation end them) and one-time links."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from journey.models.base import Base
from journey.models.plans import PlanTask
from journey.models.reviews import Review


class WebSession(Base):
    """A signed-in browser; the cookie carries a random token, only its SHA-256 digest is stored."""

    __tablename__ = "web_session"

    id: Mapped[int] = mapped_column(primary_key=True)
    digest: Mapped[str] = mapped_column(String(64), unique=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("team_member.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    user_agent: Mapped[str | None] = mapped_column(String(300))


class SigninLink(Base):
    """A one-time sign-in link sent by email: valid for minutes, spent on first use."""

    __tablename__ = "signin_link"

    id: Mapped[int] = mapped_column(primary_key=True)
    digest: Mapped[str] = mapped_column(String(64), unique=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("team_member.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]


# The pages count open and overdue tasks across a whole book (the summary cards, the "overdue" filter, plan
# on-time % on the team dashboard). This index makes those counts an index range scan instead of a scan of
# every task (10k accounts = 210k tasks); it covers done_at so on-time % never reads the table, and
# journey_id so the "overdue" filter finds its journeys without reading the table either.
Index("ix_plan_task_status_due", PlanTask.__table__.c.status, PlanTask.__table__.c.due_on,
      PlanTask.__table__.c.done_at, PlanTask.__table__.c.journey_id)
# A page's (or a CSM's book's) tasks by journey and status: the book's open / late counts read the index
# only. Without statistics SQLite would otherwise walk every open task of the database through the index
# above, whatever the book's size.
Index("ix_plan_task_journey_status_due", PlanTask.__table__.c.journey_id, PlanTask.__table__.c.status,
      PlanTask.__table__.c.due_on)
# A book's reviews due in the next 30 days, counted from its accounts (a CSM's 250 accounts, not every
# open review of the database).
Index("ix_review_account_status_due", Review.__table__.c.account_id, Review.__table__.c.status,
      Review.__table__.c.due_on)
