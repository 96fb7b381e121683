"""The scheduler's memory of its cron jobs: when each last ran, and whether a fire time was missed since.

A nightly or weekly job fires at a wall-clock time; if no scheduler runs at that moment (a deploy, a
crash, a laptop asleep), APScheduler, which keeps no job store, never knows. So each successful run is
recorded here, and a leader that starts runs every cron job whose latest fire time is after its last
run, once however many fire times it missed (coalesced).
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

from apscheduler.triggers.cron import CronTrigger
from sqlalchemy import select
from sqlalchemy.orm import Session

from journey.db import dialect_insert
from journey.models import JobRun

HEARTBEAT_SECONDS = 60  # an interval job's success is written to job_run at most this often


def cron_trigger(trigger: dict[str, Any]) -> CronTrigger:
    """The APScheduler trigger of a job's `{"trigger": "cron", ...}` fields."""
    return CronTrigger(**{k: v for k, v in trigger.items() if k != "trigger"})


def missed_fire(trigger: CronTrigger, *, last_run: datetime, now: datetime) -> datetime | None:
    """The first fire time after `last_run` if it is already past (the job missed it), else None."""
    fire = trigger.get_next_fire_time(last_run, last_run)
    return fire if fire is not None and fire <= now else None


def last_runs(session: Session) -> dict[str, datetime]:
    return {job_id: at for job_id, at in session.execute(select(JobRun.job_id, JobRun.last_run_at))}


def last_run(session: Session, job_id: str) -> datetime | None:
    return session.scalar(select(JobRun.last_run_at).where(JobRun.job_id == job_id))


def record_run(session: Session, *, job_id: str, at: datetime, only_if_new: bool = False) -> None:
    """Upsert the job's last run (never moving it back); `only_if_new` keeps an existing row as it is."""
    stmt = dialect_insert(session.get_bind().dialect.name, JobRun).values(job_id=job_id, last_run_at=at)
    if only_if_new:
        stmt = stmt.on_conflict_do_nothing(index_elements=[JobRun.job_id])
    else:
        stmt = stmt.on_conflict_do_update(index_elements=[JobRun.job_id], set_={"last_run_at": at},
                                          where=JobRun.last_run_at < at)
    session.execute(stmt)
