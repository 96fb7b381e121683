"""The one APScheduler process: interval jobs that sweep due rows of our own tables.

Truth lives in the database (review reminder rows, reviews, the inbox), never in a job store: the
scheduler keeps its few jobs in memory and runs each interval job at start (catching up on everything
that fell due while it was down) and then on its interval, with `coalesce=True`, `max_instances=1` and
no misfire grace limit. Cron jobs (nightly, weekly) record their last successful run in `job_run`; at
start, one whose latest fire time came after that run (missed while no scheduler ran) runs once. Interval
jobs record theirs too, at most once a minute (job_runs.HEARTBEAT_SECONDS): `/metrics` reads `job_run` to
tell a silent scheduler (journey.metrics_db).
Jobs are one-line triggers into services; each opens its own transaction per batch, and every claim
is a single SQL statement, so a job can re-run, overlap a second scheduler or crash half-way without
sending anything twice.

Only one scheduler works at a time: on PostgreSQL the leader holds a session advisory lock; on SQLite an
exclusive lock on a file beside the database. Another `journey scheduler run` (or the embedded server's
thread) waits and takes over within `poll` seconds of the leader's death.

The jobs themselves are listed once, in `journey.jobs.registry` (name, trigger, function); `journey jobs
run NAME` runs the same functions by hand.
"""
from __future__ import annotations

import contextlib
import gc
import threading
import time
import zlib
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import structlog
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.base import JobLookupError
from apscheduler.schedulers import SchedulerNotRunningError
from apscheduler.schedulers.background import BackgroundScheduler

from journey import db, job_runs
from journey.adapters.orchestrator import server_mode
from journey.audit import Actor
from journey.config import Settings
from journey.evaluation.jobs import EVALUATE_JOB, Rhythm
from journey.jobs.registry import JobSpec, jobs_for, run_job
from journey.kit import utcnow
from journey.models import ActorKind

log = structlog.get_logger("journey.scheduler")
ADVISORY_LOCK_KEY = zlib.crc32(b"journey.scheduler")  # one leader per database
JOB_DEFAULTS = {"misfire_grace_time": None, "coalesce": True, "max_instances": 1}
# A process of background work (the runner child, `journey scheduler run`) handles batches that allocate
# many short-lived objects (rows, scores, ORM state): collecting the youngest generation every 10,000
# allocations instead of Python's 700 cut the CPU of an evaluation pass over 1,000 accounts by about a
# quarter (in process, 3 rounds alternating), for a few MB at most.
GC_THRESHOLDS = (10_000, 10, 10)


def collect_for_batches() -> None:
    """Tune this process's cyclic collector for batch work (not the API's: it keeps Python's default)."""
    gc.set_threshold(*GC_THRESHOLDS)


def inbox_submitter() -> Callable[[Settings], int] | None:
    """In server mode, what the `submit_due_inbox` job submits with: the runner's `submit_due` (flows/)."""
    if not server_mode():
        return None
    from flows.runner import submit_due  # lazy: flows import Prefect (~0.8 s)

    return submit_due


def inbox_owner(settings: Settings, *, wake: Callable[[], None] | None = None) -> str:
    """Who retries inbox events in this deployment, in words (`journey scheduler jobs` prints it)."""
    if wake is not None:
        return "inbox retries: sweep_inbox wakes this process's runner every 30 s"
    if server_mode():
        return ("inbox retries: submit_due_inbox submits due events to the Prefect server every 30 s; the "
                "API processes' submitters claim them too (leased claims: never twice)")
    return ("inbox retries: each `journey serve` process's runner claims due events every "
            f"{settings.runner_poll_seconds} s (JOURNEY_RUNNER=0 on all of them would leave retries waiting)")


def _did_something(result: object) -> bool:
    """False for a sweep that found nothing (0, None, {} or a dict of zeros): not worth a log line."""
    if isinstance(result, dict):
        return any(_did_something(v) for v in result.values())
    return bool(result)


def _logged(job: JobSpec, wake: Callable[[], None] | None) -> Callable[[], None]:
    """The job, its failures logged (it runs again next time); its success is recorded (an interval job's at
    most every job_runs.HEARTBEAT_SECONDS). Its log lines carry `job`."""
    actor = Actor(ActorKind.scheduler, job.name)
    recorded: list[datetime] = []

    def run() -> None:
        with structlog.contextvars.bound_contextvars(job=job.name):
            _run()

    def _run() -> None:
        started = utcnow()
        try:
            result = run_job(job, now=started, actor=actor, wake=wake)
            beat = not recorded or (started - recorded[-1]).total_seconds() >= job_runs.HEARTBEAT_SECONDS
            if job.is_cron or beat:
                with db.transaction() as session:
                    job_runs.record_run(session, job_id=job.name, at=started)
                recorded[:] = [started]
        except Exception:  # noqa: BLE001 - a failing job must not stop the others; it runs again next time
            log.exception("job.failed")
            return
        if result:
            (log.info if _did_something(result) else log.debug)(
                "job.done", result=result, seconds=round((utcnow() - started).total_seconds(), 3))

    return run


def _catching_up(job: JobSpec, wake: Callable[[], None] | None) -> Callable[[], None]:
    """A cron job whose first call (at start) runs it only if a fire time passed since its last run.

    A job never recorded starts counting now: a new install does not send last Monday's digests.
    """
    run, pending = _logged(job, wake), threading.Event()
    pending.set()

    def check_then_run() -> None:
        if pending.is_set():
            pending.clear()
            now = utcnow()
            try:
                with db.transaction() as session:
                    last = job_runs.last_run(session, job.name)
                    if last is None:
                        job_runs.record_run(session, job_id=job.name, at=now, only_if_new=True)
            except Exception:  # noqa: BLE001 - the database is away: the next fire time runs it
                log.exception("job.catch_up_failed", job=job.name)
                return
            trigger = job_runs.cron_trigger(job.trigger.fields())
            missed = job_runs.missed_fire(trigger, last_run=last, now=now) if last is not None else None
            if missed is None or last is None:
                return
            log.info("job.catching_up", job=job.name, missed=missed.isoformat(), last_run=last.isoformat())
        run()

    return check_then_run


def _warm_up(jobs: list[JobSpec]) -> None:
    """Each job's warm-up (what its first run would pay: files read, statements compiled); a failure is
    logged and the job runs cold."""
    for job in jobs:
        if job.warm_up is not None:
            try:
                job.warm_up()
            except Exception:  # noqa: BLE001 - a warm-up is an optimisation, never a reason not to lead
                log.exception("job.warm_up_failed", job=job.name)


def build_scheduler(jobs: list[JobSpec], *, now: datetime | None = None,
                    wake: Callable[[], None] | None = None) -> BackgroundScheduler:
    """A scheduler with a thread per job: a slow job never delays another, and never runs twice at once.

    Interval jobs run at start (unless told not to); cron jobs run at start only to catch up a missed fire.
    """
    scheduler = BackgroundScheduler(executors={"default": ThreadPoolExecutor(max(1, len(jobs)))},
                                    job_defaults=JOB_DEFAULTS, timezone="UTC")
    start = now or utcnow()
    for job in jobs:
        extra = {"next_run_time": start} if job.run_at_start or job.is_cron else {}
        fn = _catching_up(job, wake) if job.is_cron else _logged(job, wake)
        scheduler.add_job(fn, id=job.name, name=job.name, replace_existing=True, **job.trigger.fields(), **extra)
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
                 jobs: list[JobSpec] | None = None) -> None:
        super().__init__(name="journey-scheduler", daemon=True)
        self.settings, self.poll, self.wake = settings, poll, wake
        self.rhythm = Rhythm()  # of the marks this scheduler is told of (`evaluate_soon`); its sweep settles by it
        self.jobs = jobs if jobs is not None else jobs_for(settings, wake=wake, submit=inbox_submitter(),
                                                           rhythm=self.rhythm)
        self.leading = threading.Event()
        self._stopping = threading.Event()
        self._lock = leader_lock(settings)
        self._scheduler: BackgroundScheduler | None = None  # while leading

    def run_soon(self, job: str, *, after: float) -> None:
        """Run `job` `after` seconds from now, then on its schedule again; each call moves the run, so a burst
        of calls is one run `after` seconds after the last. Nothing while another process leads."""
        scheduler = self._scheduler
        if scheduler is None:
            return
        with contextlib.suppress(JobLookupError, SchedulerNotRunningError):
            scheduler.modify_job(job, next_run_time=utcnow() + timedelta(seconds=after))

    def evaluate_soon(self) -> None:
        """Accounts were marked for evaluation (a queued signals batch): evaluate them once the burst settles
        (silent for twice its rhythm, `evaluation.jobs.Rhythm`), not at the sweep's next poll."""
        settle = self.rhythm.marked(time.monotonic(), longest=self.settings.evaluate_settle_seconds)
        self.run_soon(EVALUATE_JOB, after=settle)

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
        _warm_up(self.jobs)
        scheduler = build_scheduler(self.jobs, wake=self.wake)
        scheduler.start()
        self._scheduler = scheduler
        self.leading.set()
        log.info("scheduler.leading", jobs=[j.name for j in self.jobs])
        try:
            while not self._stopping.wait(self.poll):
                if not self._lock.still_held():
                    log.warning("scheduler.lost_lead")
                    break
        finally:
            self.leading.clear()
            self._scheduler = None
            scheduler.shutdown(wait=True)
            self._lock.release()
