"""The one APScheduler process: interval jobs that sweep due rows of our own tables.

Truth lives in the database (review reminder rows, reviews, the inbox), never in a job store: the
scheduler keeps its few jobs in memory and runs each interval job at start (catching up on everything
that fell due while it was down) and then on its interval, with `coalesce=True`, `max_instances=1` and
no misfire grace limit. Cron jobs (nightly, weekly) record their last successful run in `job_run`; at
start, one whose latest fire time came after that run (missed while no scheduler ran) runs once.
Jobs are one-line triggers into services; each opens its own transaction per batch, and every claim
is a single SQL statement, so a job can re-run, overlap a second scheduler or crash half-way without
sending anything twice.

Only one scheduler works at a time: on PostgreSQL the leader holds a session advisory lock; on SQLite an
exclusive lock on a file beside the database. Another `journey scheduler run` (or the embedded server's
thread) waits and takes over within `poll` seconds of the leader's death.

Adding a job: append a `Job` to `JOBS` (always present) or a `Hook` to `HOOKS` (wired only once its
function exists in the tree). A hook's function is called as `fn(session, now=now)` inside one
transaction per run (or `fn(now=now)` with `with_session=False`, when it opens its own) and returns
anything (logged).
"""
from __future__ import annotations

import contextlib
import importlib
import threading
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import structlog
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler

from journey import db, job_runs
from journey.adapters.orchestrator import server_mode
from journey.config import Settings
from journey.inbox import repository as inbox_repository
from journey.kit import utcnow
from journey.reviews import reminders

log = structlog.get_logger("journey.scheduler")
ADVISORY_LOCK_KEY = zlib.crc32(b"journey.scheduler")  # one leader per database
JOB_DEFAULTS = {"misfire_grace_time": None, "coalesce": True, "max_instances": 1}


# --- jobs: one-line triggers into services ---

def send_review_reminders() -> int:
    """Claim and send every due review reminder, one transaction per batch of 500."""
    sent = 0
    while True:
        with db.transaction() as session:
            sweep = reminders.send_due_reminders(session, now=utcnow())
        sent += sweep.sent
        if sweep.claimed < reminders.BATCH:
            return sent


def mark_missed_reviews() -> int:
    missed = 0
    while True:
        with db.transaction() as session:
            batch = reminders.mark_missed_reviews(session, now=utcnow())
        missed += len(batch)
        if len(batch) < reminders.BATCH:
            return missed


def sweep_inbox(wake: Callable[[], None] | None) -> int:
    """Due inbox events (new, retries whose backoff ended, expired leases): wake the runner for them."""
    with db.transaction(writer=False) as session:
        due = inbox_repository.count_due(session, now=utcnow())
    if due and wake is not None:
        wake()
    return due


def submit_due_inbox(settings: Settings) -> int:
    """Server mode: submit every due inbox event to the Prefect server, batch by batch, like the API
    processes' submitters (whose claims this one can never duplicate); catches retries when no API
    process polls (all run with JOURNEY_RUNNER=0, or none is up)."""
    from journey.runner import submit_due

    submitted = 0
    while (batch := submit_due(settings)) > 0:
        submitted += batch
        if batch < settings.runner_batch_size:
            break
    return submitted


def inbox_owner(settings: Settings, *, wake: Callable[[], None] | None = None) -> str:
    """Who retries inbox events in this deployment, in words (`journey scheduler jobs` prints it)."""
    if wake is not None:
        return "inbox retries: sweep_inbox wakes this process's runner every 30 s"
    if server_mode():
        return ("inbox retries: submit_due_inbox submits due events to the Prefect server every 30 s; the "
                "API processes' submitters claim them too (leased claims: never twice)")
    return ("inbox retries: each `journey serve` process's runner claims due events every "
            f"{settings.runner_poll_seconds} s (JOURNEY_RUNNER=0 on all of them would leave retries waiting)")


@dataclass(frozen=True)
class Job:
    id: str
    run: Callable[[], Any]
    trigger: dict[str, Any] = field(default_factory=lambda: {"trigger": "interval", "seconds": 60})
    run_at_start: bool = True  # interval jobs; a cron job runs at start only if it missed a fire time

    @property
    def is_cron(self) -> bool:
        return self.trigger.get("trigger") == "cron"


@dataclass(frozen=True)
class Hook:
    """A job whose function another part of journey provides: `module:function(session, now=...)`."""

    id: str
    target: str
    trigger: dict[str, Any]
    run_at_start: bool = False
    with_session: bool = True  # False: `fn(now=...)` opens its own transactions (one per message, say)


HOOKS: list[Hook] = [
    Hook("remind_incomplete_packets", "journey.handoff.service:remind_incomplete_packets",
         {"trigger": "interval", "hours": 1}, True),
    Hook("refresh_objective_statuses", "journey.objectives.service:refresh_objective_statuses",
         {"trigger": "cron", "hour": 4, "minute": 0, "timezone": "UTC"}),
]


def _resolve(target: str) -> Callable[..., Any] | None:
    module_name, _, name = target.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError:
        return None
    fn = getattr(module, name, None)
    return fn if callable(fn) else None


def _hook_job(hook: Hook) -> Job | None:
    fn = _resolve(hook.target)
    if fn is None:
        return None

    def run() -> Any:
        if not hook.with_session:
            return fn(now=utcnow())
        with db.transaction() as session:
            return fn(session, now=utcnow())

    return Job(hook.id, run, hook.trigger, hook.run_at_start)


def build_jobs(settings: Settings, *, wake: Callable[[], None] | None = None) -> list[Job]:
    """The review jobs, the inbox sweep (wake the embedded runner, or submit to the Prefect server), and
    every hook that exists."""
    every = {"trigger": "interval", "seconds": settings.scheduler_interval_seconds}
    jobs = [Job("send_review_reminders", send_review_reminders, every),
            Job("mark_missed_reviews", mark_missed_reviews, every)]
    if wake is not None:
        jobs.append(Job("sweep_inbox", lambda: sweep_inbox(wake), {"trigger": "interval", "seconds": 30}))
    elif server_mode():
        jobs.append(Job("submit_due_inbox", lambda: submit_due_inbox(settings), {"trigger": "interval", "seconds": 30}))
    jobs += [job for hook in HOOKS if (job := _hook_job(hook)) is not None]
    jobs += health_and_notification_jobs()
    return jobs


def _entry_point(target: str) -> Callable[[], Any]:
    """`module:function(now)` that owns its transactions (one per batch), imported when it runs."""
    def run() -> Any:
        module_name, _, name = target.partition(":")
        return getattr(importlib.import_module(module_name), name)(utcnow())

    return run


def health_and_notification_jobs() -> list[Job]:
    """Outbox and CRM write-back every 15 s; health nightly, the CRM's drift repaired after it, then the AM's
    expansion rules; digests on Monday morning (UTC)."""
    def cron(**fields: Any) -> dict[str, Any]:
        return {"trigger": "cron", "timezone": "UTC", **fields}

    return [Job("drain_outbox", _entry_point("journey.notify.outbox:drain_outbox"),
                {"trigger": "interval", "seconds": 15}),
            Job("drain_writeback", _entry_point("journey.writeback.drain:drain_writeback"),
                {"trigger": "interval", "seconds": 15}),
            Job("sync_crm_writeback", _entry_point("journey.writeback.drain:sync_all"), cron(hour=2, minute=30)),
            Job("recompute_all_health", _entry_point("journey.health.jobs:recompute_all_health"),
                cron(hour=2, minute=0)),
            Job("evaluate_expansion_rules", _entry_point("journey.expansion.jobs:evaluate_expansion_rules"),
                cron(hour=3, minute=0)),
            Job("send_weekly_digests", _entry_point("journey.notify.digests:send_weekly_digests"),
                cron(day_of_week="mon", hour=7, minute=0))]


def _did_something(result: object) -> bool:
    """False for a sweep that found nothing (0, None, {} or a dict of zeros): not worth a log line."""
    if isinstance(result, dict):
        return any(_did_something(v) for v in result.values())
    return bool(result)


def _logged(job: Job) -> Callable[[], None]:
    """The job, its failures logged (it runs again next time); a cron job's success is recorded."""
    def run() -> None:
        started = utcnow()
        try:
            result = job.run()
            if job.is_cron:
                with db.transaction() as session:
                    job_runs.record_run(session, job_id=job.id, at=started)
        except Exception:  # noqa: BLE001 - a failing job must not stop the others; it runs again next time
            log.exception("job.failed", job=job.id)
            return
        if result:
            (log.info if _did_something(result) else log.debug)("job.done", job=job.id, result=result)

    return run


def _catching_up(job: Job) -> Callable[[], None]:
    """A cron job whose first call (at start) runs it only if a fire time passed since its last run.

    A job never recorded starts counting now: a new install does not send last Monday's digests.
    """
    run, pending = _logged(job), threading.Event()
    pending.set()

    def check_then_run() -> None:
        if pending.is_set():
            pending.clear()
            now = utcnow()
            try:
                with db.transaction() as session:
                    last = job_runs.last_run(session, job.id)
                    if last is None:
                        job_runs.record_run(session, job_id=job.id, at=now, only_if_new=True)
            except Exception:  # noqa: BLE001 - the database is away: the next fire time runs it
                log.exception("job.catch_up_failed", job=job.id)
                return
            trigger = job_runs.cron_trigger(job.trigger)
            missed = job_runs.missed_fire(trigger, last_run=last, now=now) if last is not None else None
            if missed is None or last is None:
                return
            log.info("job.catching_up", job=job.id, missed=missed.isoformat(), last_run=last.isoformat())
        run()

    return check_then_run


def build_scheduler(jobs: list[Job], *, now: datetime | None = None) -> BackgroundScheduler:
    """A scheduler with a thread per job: a slow job never delays another, and never runs twice at once.

    Interval jobs run at start (unless told not to); cron jobs run at start only to catch up a missed fire.
    """
    scheduler = BackgroundScheduler(executors={"default": ThreadPoolExecutor(max(1, len(jobs)))},
                                    job_defaults=JOB_DEFAULTS, timezone="UTC")
    start = now or utcnow()
    for job in jobs:
        extra = {"next_run_time": start} if job.run_at_start or job.is_cron else {}
        fn = _catching_up(job) if job.is_cron else _logged(job)
        scheduler.add_job(fn, id=job.id, name=job.id, replace_existing=True, **job.trigger, **extra)
    return scheduler


# --- leader election ---

class PostgresLeaderLock:
    """A session advisory lock held on one dedicated connection for as long as this process leads."""

    def __init__(self, url: str) -> None:
        from sqlalchemy import create_engine

        self._engine = create_engine(url, poolclass=_null_pool(), connect_args={"connect_timeout": 3})
        self._conn: Any = None

    def try_acquire(self) -> bool:
        from sqlalchemy import text

        try:
            if self._conn is None:
                self._conn = self._engine.connect().execution_options(isolation_level="AUTOCOMMIT")
            return bool(self._conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": ADVISORY_LOCK_KEY})
                        .scalar())
        except Exception:  # noqa: BLE001 - the database is away: not the leader, try again later
            self.release()
            return False

    def still_held(self) -> bool:
        from sqlalchemy import text

        try:
            held = self._conn.execute(text(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid() "
                "AND objid = :k AND granted"), {"k": ADVISORY_LOCK_KEY & 0xFFFFFFFF}).scalar()
            return bool(held)
        except Exception:  # noqa: BLE001 - connection lost: the lock went with it
            return False

    def release(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(Exception):  # a dead connection has released the lock already
                self._conn.close()  # closing the session releases the advisory lock
            self._conn = None


class FileLeaderLock:
    """SQLite: an exclusive `flock` on a file beside the database; the kernel drops it when we die."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._fd: int | None = None

    def try_acquire(self) -> bool:
        import fcntl
        import os

        self._path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self._path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            return False
        self._fd = fd
        return True

    def still_held(self) -> bool:
        return self._fd is not None

    def release(self) -> None:
        import os

        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


def _null_pool() -> Any:
    from sqlalchemy.pool import NullPool

    return NullPool


def leader_lock(settings: Settings) -> PostgresLeaderLock | FileLeaderLock:
    if settings.is_sqlite:
        from sqlalchemy.engine import make_url

        database = make_url(settings.database_url).database or "journey.db"
        path = Path(database + ".scheduler.lock") if database != ":memory:" else settings.data_dir / "scheduler.lock"
        return FileLeaderLock(path)
    return PostgresLeaderLock(settings.database_url)


class SchedulerService(threading.Thread):
    """Wait to lead, run the jobs while leading, stand down if the lock is lost, until stopped."""

    def __init__(self, settings: Settings, *, wake: Callable[[], None] | None = None, poll: float = 2.0,
                 jobs: list[Job] | None = None) -> None:
        super().__init__(name="journey-scheduler", daemon=True)
        self.settings, self.poll = settings, poll
        self.jobs = jobs if jobs is not None else build_jobs(settings, wake=wake)
        self.leading = threading.Event()
        self._stopping = threading.Event()
        self._lock = leader_lock(settings)

    def stop(self, timeout: float = 30.0) -> None:
        self._stopping.set()
        if self.is_alive() and threading.current_thread() is not self:
            self.join(timeout)

    def run(self) -> None:
        waiting_logged = False
        while not self._stopping.is_set():
            if not self._lock.try_acquire():
                if not waiting_logged:
                    log.info("scheduler.waiting", detail="another scheduler leads; taking over if it stops")
                    waiting_logged = True
                self._stopping.wait(self.poll)
                continue
            waiting_logged = False
            self._lead()

    def _lead(self) -> None:
        scheduler = build_scheduler(self.jobs)
        scheduler.start()
        self.leading.set()
        log.info("scheduler.leading", jobs=[j.id for j in self.jobs])
        try:
            while not self._stopping.wait(self.poll):
                if not self._lock.still_held():
                    log.warning("scheduler.lost_lead")
                    break
        finally:
            self.leading.clear()
            scheduler.shutdown(wait=True)
            self._lock.release()
