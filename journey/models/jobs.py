"""When each cron job of the scheduler last ran: the truth its start-up catch-up reads."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from journey.models.base import Base


class JobRun(Base):
    """One row per cron job: the start of its last successful run (or, before its first run, the moment
    the scheduler first knew it). A scheduled fire time after `last_run_at` was missed."""

    __tablename__ = "job_run"

    job_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    last_run_at: Mapped[datetime]
