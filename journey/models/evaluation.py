"""Accounts whose inputs moved since they were last scored: the work list of the evaluate-on-change sweep."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey
from sqlalchemy.orm import Mapped, mapped_column

from journey.models.base import Base


class PendingEvaluation(Base):
    """One row per account waiting to be rescored and have its risk and expansion rules evaluated.

    Written in the transaction that changes an input (a signal, a task done, a review outcome, ...);
    deleted by the sweep in the transaction that evaluates the account. A second change before the sweep
    only moves `last_marked_at` and counts `marks`: a burst of changes is one evaluation."""

    __tablename__ = "pending_evaluation"

    account_id: Mapped[int] = mapped_column(ForeignKey("account.id", ondelete="CASCADE"), primary_key=True)
    first_marked_at: Mapped[datetime]
    last_marked_at: Mapped[datetime]
    marks: Mapped[int] = mapped_column(default=1)
