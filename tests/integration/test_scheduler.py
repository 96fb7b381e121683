"""The scheduler keeps time from our tables: stopped and restarted it sends each due reminder once;
two schedulers (or four claimers) never send one twice; missed reviews are escalated once."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select, update

from journey import db, job_runs
from journey.audit import Actor
from journey.config import get_settings
from journey.evaluation.jobs import EVALUATE_JOB
from journey.job_context import JobContext
from journey.jobs.registry import Cron, Every, JobSpec, jobs_for, run_job
from journey.kit import utcnow
from journey.models import (
    Account,
    ActorKind,
    Deal,
    InboundEvent,
    JobRun,
    Journey,
    JourneyStatus,
    OutboxMessage,
    Reminder,
    Review,
    ReviewReminder,
    Role,
    TeamMember,
)
from journey.reviews import jobs as review_jobs
from journey.scheduler import SchedulerService
from tests.conftest import wait_until

REVIEW_JOBS = {"send_review_reminders", "mark_missed_reviews"}
ACTOR = Actor(ActorKind.scheduler, "test")


def send_review_reminders() -> int:
    return review_jobs.send_review_reminders(JobContext(now=utcnow(), actor=ACTOR))["sent"]


def mark_missed_reviews() -> int:
    return review_jobs.mark_missed_reviews(JobContext(now=utcnow(), actor=ACTOR))["missed"]


def seed(n: int, *, due_in: list[float] | float, starts_in: timedelta = timedelta(days=10),
         leads: tuple[int, ...] = (10,), tag: str = "R") -> list[int]:
    """`n` reviews of `n` accounts owned by one CSM; reminder `k` of review `i` due `due_in` seconds from now."""
    now = utcnow()
    offsets = due_in if isinstance(due_in, list) else [due_in] * n
    with db.transaction() as s:
        csm = s.scalar(select(TeamMember).where(TeamMember.email == "csm@vendor.example"))
        if csm is None:
            csm = TeamMember(email="csm@vendor.example", name="Camille CSM", role=Role.csm)
            s.add(csm)
            s.flush()
        ids = []
        for i in range(n):
            account = Account(crm_source="events", crm_external_id=f"{tag}-{i}", name=f"Account {tag}{i}",
                              timezone="Europe/Paris", region="FR", csm_id=csm.id)
            s.add(account)
            s.flush()
            deal = Deal(account_id=account.id, crm_source="events", crm_external_id=f"{tag}-D{i}", name="d")
            s.add(deal)
            s.flush()
            journey = Journey(deal_id=deal.id, account_id=account.id, status=JourneyStatus.active,
                              playbook="default", playbook_version=1, signed_on=date(2026, 1, 5))
            s.add(journey)
            s.flush()
            review = Review(journey_id=journey.id, account_id=account.id, kind="3_month", title="Strategic review",
                            anchor="signature", due_on=(now + starts_in).date(), starts_at=now + starts_in,
                            ends_at=now + starts_in + timedelta(hours=1), status="proposed", sequence=0,
                            attendees=["csm"], remind_days_before=list(leads))
            s.add(review)
            s.flush()
            ids.append(review.id)
        now = utcnow()  # due times count from the end of the (slow) seeding, just before the commit
        for i, review_id in enumerate(ids):
            for k, lead in enumerate(sorted(leads, reverse=True)):
                due = now + timedelta(seconds=offsets[i]) - timedelta(days=len(leads) - 1 - k)
                s.add(ReviewReminder(review_id=review_id, sequence=0, lead_days=lead, due_at=due, status="pending"))
        return ids


def count(model, *where) -> int:  # type: ignore[no-untyped-def]
    with db.transaction(writer=False) as s:
        return s.scalar(select(func.count()).select_from(model).where(*where)) or 0


def statuses() -> dict[str, int]:
    with db.transaction(writer=False) as s:
        rows = s.execute(select(ReviewReminder.status, func.count()).group_by(ReviewReminder.status)).all()
    return {status: n for status, n in rows}


@pytest.fixture
def fast(db_url, monkeypatch):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("JOURNEY_SCHEDULER_INTERVAL_SECONDS", "0.2")
    get_settings.cache_clear()
    return get_settings()


def scheduler(settings) -> SchedulerService:  # type: ignore[no-untyped-def]
    jobs = [job for job in jobs_for(settings) if job.name in REVIEW_JOBS]
    return SchedulerService(settings, poll=0.2, jobs=jobs)


def test_a_stopped_scheduler_sends_what_fell_due_once_on_restart(fast) -> None:
    seed(5, due_in=-60, tag="A")  # already due
    seed(20, due_in=1.5, tag="B")  # falls due while the scheduler is down
    [coalesced] = seed(1, due_in=-1, leads=(30, 14), tag="C")  # 30 days before (2 days ago) and 14 days before
    first = scheduler(fast)
    first.start()
    assert wait_until(lambda: count(Reminder) == 6, timeout=15), statuses()
    first.stop()
    assert not first.is_alive()
    time.sleep(max(0.0, 2.0))  # B's reminders fall due while no scheduler runs
    assert count(Reminder) == 6 and statuses()["pending"] == 20

    second = scheduler(fast)
    second.start()
    try:
        assert wait_until(lambda: count(Reminder) == 26, timeout=15), statuses()
        time.sleep(1.0)  # several more sweeps: nothing more is sent
    finally:
        second.stop()
    assert count(Reminder) == 26 and count(OutboxMessage) == 26
    assert statuses() == {"sent": 26, "superseded": 1}
    with db.transaction(writer=False) as s:
        sent = s.scalars(select(ReviewReminder.lead_days).where(ReviewReminder.review_id == coalesced,
                                                                ReviewReminder.status == "sent")).all()
    assert sent == [14]  # the nearer one; the 30-day reminder is superseded, not sent late as a burst


def test_concurrent_claimers_never_send_a_reminder_twice(fast) -> None:
    seed(300, due_in=-5)
    sent: list[int] = []
    errors: list[BaseException] = []

    def claimer() -> None:
        try:
            sent.append(send_review_reminders())
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=claimer) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == [] and sum(sent) == 300
    assert count(Reminder) == 300 and statuses() == {"sent": 300}


def test_moved_or_cancelled_reviews_skip_their_old_reminders(fast) -> None:
    moved, cancelled, started = seed(3, due_in=-5)
    with db.transaction() as s:
        s.get_one(Review, moved).sequence = 1  # moved since: the sequence-0 reminder is stale
        s.get_one(Review, cancelled).status = "cancelled"
        s.get_one(Review, started).starts_at = utcnow() - timedelta(minutes=5)
        s.get_one(Review, started).ends_at = utcnow() + timedelta(minutes=55)
    assert send_review_reminders() == 0
    assert statuses() == {"skipped": 3} and count(Reminder) == 0


def test_missed_reviews_are_marked_and_escalated_once(fast) -> None:
    with db.transaction() as s:
        s.add(TeamMember(email="boss@vendor.example", name="Boss", role=Role.manager))
    [recent] = seed(1, due_in=60, starts_in=-timedelta(days=3), tag="M")
    [old] = seed(1, due_in=60, starts_in=-timedelta(days=200), tag="O")  # a back-filled deal
    [fresh] = seed(1, due_in=60, starts_in=-timedelta(hours=3), tag="F")  # outcome may still come
    assert mark_missed_reviews() == 2
    assert mark_missed_reviews() == 0
    with db.transaction(writer=False) as s:
        assert [s.get_one(Review, i).status for i in (recent, old, fresh)] == ["missed", "missed", "proposed"]
        [escalation] = s.scalars(select(Reminder).where(Reminder.kind == "review_missed")).all()
        boss = s.scalar(select(TeamMember).where(TeamMember.email == "boss@vendor.example"))
        assert escalation.assignee_id == boss.id and "3 days ago" in escalation.reason


def _journey_cli(url: str, log_path) -> subprocess.Popen:  # type: ignore[no-untyped-def]
    env = {**os.environ, "JOURNEY_DATABASE_URL": url, "JOURNEY_SCHEDULER_INTERVAL_SECONDS": "0.2",
           "JOURNEY_DEMO": "0", "PYTHONUNBUFFERED": "1"}
    out = open(log_path, "w")  # noqa: SIM115 - closed with the process
    return subprocess.Popen([sys.executable, "-c", "from journey.cli import main; main()", "scheduler", "run",
                             "--poll", "0.3"], env=env, stdout=out, stderr=subprocess.STDOUT)


@pytest.mark.real_clock  # the scheduler processes read the machine's clock
def test_two_scheduler_processes_on_postgresql_send_each_reminder_once(fast, db_url, tmp_path) -> None:
    if not db_url.startswith("postgresql"):
        pytest.skip("leader election by advisory lock is PostgreSQL's; SQLite serialises on BEGIN IMMEDIATE")
    total = 200
    procs = {name: _journey_cli(db_url, tmp_path / f"{name}.log") for name in ("a", "b")}
    log = lambda name: (tmp_path / f"{name}.log").read_text()  # noqa: E731
    try:
        assert wait_until(lambda: any("scheduler.waiting" in log(n) for n in procs), timeout=60), log("a") + log("b")
        waiting = "a" if "scheduler.waiting" in log("a") else "b"
        leading = "b" if waiting == "a" else "a"
        assert wait_until(lambda: "scheduler.leading" in log(leading), timeout=30), log(leading)
        assert "scheduler.leading" not in log(waiting)
        seed(total, due_in=[-1 + 8 * i / total for i in range(total)])  # falling due over the next 7 seconds
        assert wait_until(lambda: count(Reminder) > 0, timeout=30), log(leading)
        procs[leading].send_signal(signal.SIGKILL)  # the leader dies mid-stream; its advisory lock goes with it
        procs[leading].wait(10)
        assert count(Reminder) < total, (log(leading), log(waiting))
        assert wait_until(lambda: count(Reminder) == total, timeout=30), statuses()
        time.sleep(1.0)  # more sweeps by the new leader: nothing is sent again
        assert "scheduler.leading" in log(waiting)  # the follower took over
    finally:
        for proc in procs.values():
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                proc.wait(15)
    assert count(Reminder, Reminder.kind == "review_reminder") == total
    assert statuses() == {"sent": total}
    assert count(OutboxMessage, OutboxMessage.dedupe_key.like("email:review:%")) == total


def test_the_second_scheduler_waits_and_takes_over(fast) -> None:
    first, second = scheduler(fast), scheduler(fast)
    first.start()
    assert first.leading.wait(15)
    second.start()
    try:
        time.sleep(0.6)
        assert not second.leading.is_set()  # only one leader (advisory lock on PostgreSQL, flock on SQLite)
        first.stop()
        assert second.leading.wait(15)
    finally:
        first.stop()
        second.stop()


def test_the_embedded_server_runs_one_scheduler_thread_on_sqlite(fast, db_url, monkeypatch) -> None:
    from fastapi.testclient import TestClient

    from journey.app import create_app

    monkeypatch.setenv("JOURNEY_RUNNER_PROCESS", "0")  # the runner and the scheduler as threads of the server
    get_settings.cache_clear()
    with TestClient(create_app()) as client:
        service = client.app.state.scheduler
        if db_url.startswith("postgresql"):
            assert service is None  # PostgreSQL deployments run `journey scheduler run` instead
            return
        assert service.leading.wait(15)
        assert {"send_review_reminders", "mark_missed_reviews", "sweep_inbox", "evaluate_changed_accounts"} <= {
            j.name for j in service.jobs}
    assert not service.is_alive()


@pytest.mark.real_clock  # the runner's process reads the machine's clock
def test_by_default_the_runners_process_runs_the_one_scheduler_on_sqlite(fast, db_url) -> None:
    from fastapi.testclient import TestClient

    from journey.app import create_app
    from journey.scheduler import leader_lock

    def someone_leads() -> bool:
        lock = leader_lock(fast)
        if lock.try_acquire():
            lock.release()
            return False
        return True

    with TestClient(create_app()) as client:
        assert client.app.state.scheduler is None  # not in the process that answers requests
        child = client.app.state.dispatcher
        assert child.pid is not None and child.runs_scheduler == db_url.startswith("sqlite")
        if db_url.startswith("postgresql"):
            return  # PostgreSQL deployments run `journey scheduler run` instead
        assert wait_until(someone_leads, timeout=30, step=0.5)  # the child holds the leader's lock
        pid = child.pid
    assert not someone_leads()  # stopped with the server: the lock is free again
    assert not Path(f"/proc/{pid}").exists()  # the child stopped (and was reaped) with the server


def _nightly(runs: list, *, fail: bool = False) -> JobSpec:
    """A cron job at an hour 12 hours away, so it never fires on its own during the test."""
    def run(ctx: JobContext) -> dict[str, int]:
        runs.append(ctx.now)
        if fail:
            raise RuntimeError("the job failed")
        return {"done": 1}

    return JobSpec("nightly_test", "a test job", Cron((utcnow().hour + 12) % 24), run, run_at_start=False)


def _last_run() -> datetime | None:
    with db.transaction(writer=False) as s:
        return job_runs.last_run(s, "nightly_test")


def _run_scheduler(settings, job: JobSpec, *, for_seconds: float) -> None:  # type: ignore[no-untyped-def]
    service = SchedulerService(settings, poll=0.2, jobs=[job])
    service.start()
    try:
        assert service.leading.wait(15)
        time.sleep(for_seconds)
    finally:
        service.stop()


def test_a_cron_job_missed_while_the_scheduler_was_down_runs_once_at_start(fast) -> None:
    runs: list[datetime] = []
    job = _nightly(runs)
    fire = job_runs.cron_trigger(job.trigger.fields())
    latest = fire.get_next_fire_time(None, utcnow() - timedelta(days=1))  # its latest fire time, ~12 h ago
    with db.transaction() as s:  # it last ran three nights before: three fire times were missed
        job_runs.record_run(s, job_id="nightly_test", at=latest - timedelta(days=3))
    _run_scheduler(fast, job, for_seconds=1.0)
    assert len(runs) == 1  # once, not once per missed night
    assert _last_run() is not None and _last_run() >= runs[0] - timedelta(seconds=1)
    _run_scheduler(fast, job, for_seconds=1.0)  # started again: nothing missed since that run
    assert len(runs) == 1


def test_a_cron_job_runs_at_start_only_if_it_missed_a_fire_time(fast) -> None:
    runs: list[datetime] = []
    _run_scheduler(fast, _nightly(runs), for_seconds=0.8)  # never recorded: it starts counting now
    assert runs == [] and _last_run() is not None
    failing = _nightly(runs, fail=True)
    with db.transaction() as s:
        s.execute(update(JobRun).values(last_run_at=utcnow() - timedelta(days=2)))
    before = _last_run()
    _run_scheduler(fast, failing, for_seconds=0.8)
    assert len(runs) == 1 and _last_run() == before  # a failed run is not recorded: the next start retries
    _run_scheduler(fast, _nightly(runs), for_seconds=0.8)
    assert len(runs) == 2 and _last_run() > before


def test_the_nightly_and_weekly_jobs_are_cron_jobs_that_catch_up(fast) -> None:
    jobs = {job.name: job for job in jobs_for(fast)}
    for name in ("recompute_all_health", "evaluate_expansion_rules", "send_weekly_digests",
                 "refresh_objective_statuses"):
        assert jobs[name].is_cron


def _inbox(rows: list[dict], tag: str = "m") -> list[int]:
    now = utcnow()
    with db.transaction() as s:
        events = [InboundEvent(source="events", external_id=f"{tag}-{i}", type="deal.updated", payload="{}",
                               received_at=now, **row) for i, row in enumerate(rows)]
        s.add_all(events)
        s.flush()
        return [e.id for e in events]


def test_the_standalone_scheduler_submits_due_inbox_events_beside_the_api_submitters(fast, monkeypatch) -> None:
    from typer.testing import CliRunner

    from flows.runner import PrefectSubmitter, submit_due
    from journey.adapters import orchestrator
    from journey.cli import app

    monkeypatch.setenv("PREFECT_API_URL", "http://127.0.0.1:9/api")  # server mode
    submitted: list[list[tuple[int, str]]] = []
    lock = threading.Lock()

    def submit_batch(batch, *, idempotency_key, name=None, tags=None):  # type: ignore[no-untyped-def]  # Prefect, faked
        with lock:
            submitted.append(batch)
        return f"run-{idempotency_key}"

    monkeypatch.setattr(orchestrator, "submit_batch", submit_batch)
    now = utcnow()
    due, waiting, leased, expired = _inbox([
        {"next_attempt_at": now - timedelta(minutes=1), "attempts": 2},  # a retry whose backoff ended
        {"next_attempt_at": now + timedelta(minutes=10), "attempts": 1},  # still backing off
        {"locked_until": now + timedelta(minutes=2)},  # an API submitter's live lease
        {"locked_until": now - timedelta(seconds=1), "attempts": 1},  # a dead worker's lease
    ])
    jobs = {job.name: job for job in jobs_for(fast, submit=submit_due)}
    assert "submit_due_inbox" in jobs and "sweep_inbox" not in jobs

    def submit_job() -> int:
        return run_job(jobs["submit_due_inbox"], now=utcnow(), actor=ACTOR)["submitted"]

    assert submit_job() == 2
    assert submitted == [[(due, "deal.updated"), (expired, "deal.updated")]]
    assert submit_job() == 0 and PrefectSubmitter(fast).submit_once() == 0  # leased now
    listed = CliRunner().invoke(app, ["scheduler", "jobs"])
    assert "submit_due_inbox\ttrigger=interval, seconds=30" in listed.output
    assert "inbox retries: submit_due_inbox" in listed.output

    # the job and two API submitters at once over 230 due events: each is submitted exactly once
    submitted.clear()
    fresh = _inbox([{} for _ in range(230)], tag="burst")
    runners = [submit_job, PrefectSubmitter(fast).submit_once, PrefectSubmitter(fast).submit_once]
    threads = [threading.Thread(target=lambda r=r: [r() for _ in range(6)]) for r in runners]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    ids = [event_id for batch in submitted for event_id, _ in batch]
    assert sorted(ids) == sorted(fresh) and waiting not in ids and leased not in ids


def test_evaluate_soon_runs_the_sweep_once_right_after_a_burst_not_at_its_next_poll(fast) -> None:
    runs: list[float] = []
    job = JobSpec(EVALUATE_JOB, "the sweep, counted", Every(3600), lambda ctx: runs.append(time.monotonic()) or {},
                  run_at_start=False)
    service = SchedulerService(fast, poll=0.2, jobs=[job])
    service.evaluate_soon()  # not leading yet: nothing to move, no error
    service.start()
    try:
        assert service.leading.wait(15)
        started = time.monotonic()
        for _ in range(5):  # a burst of queued batches, 50 ms apart: each moves the run
            service.evaluate_soon()
            time.sleep(0.05)
        assert wait_until(lambda: runs, timeout=5)
        time.sleep(0.5)
        assert len(runs) == 1  # one run for the burst, not one per batch; the next poll is an hour away
        assert runs[0] - started >= 0.2 + fast.evaluate_settle_seconds  # after the last batch and the settle
    finally:
        service.stop()
