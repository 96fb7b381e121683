"""Review reminders at scale: 100k reviews with a due reminder each.

Measures, in one process, time and peak memory (RSS above the phase's start, sampled every 5 ms) of:
- the scheduler's start (`build_scheduler(jobs_for(...)).start()`) with 100k rows waiting: it reads none;
- for contrast, APScheduler's own way: one date job per reminder added to a MemoryJobStore;
- claiming every due reminder through our repository (the statement the job runs), and the whole job
  (claim, decide, write the batch's reminders and outbox messages through `notify.remind_many`);
- a bare SQL loop doing the same claims in batches of 500 on the driver's connection: the yardstick.

    .venv/bin/python -m bench.reminders                    # SQLite, 100k reviews
    .venv/bin/python -m bench.reminders --postgres         # a throwaway database on 127.0.0.1:5432
    .venv/bin/python -m bench.reminders --reviews 20000 --no-record
"""
from __future__ import annotations

import argparse
import os
import threading
import time
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from bench.common import record, target, workspace

BATCH = 500
JOBSTORE_CAP = 10_000
PG_SERVER = os.environ.get("JOURNEY_TEST_PG_SERVER", "postgresql+psycopg://postgres@127.0.0.1:5432")


def _rss() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


@dataclass
class Measure:
    seconds: float = 0.0
    peak_mb: float = 0.0
    result: Any = None


@contextmanager
def measured():  # type: ignore[no-untyped-def]
    """Wall time and the peak RSS above the starting RSS, sampled by a thread every 5 ms."""
    m, stop = Measure(), threading.Event()
    base = _rss()
    peak = [base]

    def sample() -> None:
        while not stop.wait(0.005):
            peak[0] = max(peak[0], _rss())

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    started = time.perf_counter()
    try:
        yield m
    finally:
        m.seconds = time.perf_counter() - started
        stop.set()
        sampler.join()
        m.peak_mb = (max(peak[0], _rss()) - base) / 2**20


def seed(url: str, reviews: int) -> float:
    """`reviews` reviews (3 per journey) owned by one CSM, each with one reminder due a minute ago."""
    from sqlalchemy import insert

    from journey import db
    from journey.models import Account, Deal, Journey, Review, ReviewReminder, Role, TeamMember

    now = datetime.now(UTC)
    journeys = (reviews + 2) // 3
    started = time.perf_counter()
    with db.transaction() as s:
        csm = s.execute(insert(TeamMember).values(email="csm@bench.example", name="CSM", role=Role.csm,
                                                  timezone="UTC", segments=[], regions=[], languages=[],
                                                  active=True).returning(TeamMember.id)).scalar_one()
        s.execute(insert(Account), [dict(id=i, crm_source="import", crm_external_id=f"A{i}", name=f"Account {i}",
                                         timezone="Europe/Paris", region="FR", csm_id=csm)
                                    for i in range(1, journeys + 1)])
        s.execute(insert(Deal), [dict(id=i, account_id=i, crm_source="import", crm_external_id=f"D{i}", name="d")
                                 for i in range(1, journeys + 1)])
        s.execute(insert(Journey), [dict(id=i, deal_id=i, account_id=i, status="active", playbook="default",
                                         playbook_version=1, signed_on=date(2026, 1, 5))
                                    for i in range(1, journeys + 1)])
        kinds = ("90_day", "3_month", "6_month")
        start = now + timedelta(days=10)
        s.execute(insert(Review), [dict(id=n + 1, journey_id=n // 3 + 1, account_id=n // 3 + 1, kind=kinds[n % 3],
                                        title="Strategic review", anchor="signature", due_on=start.date(),
                                        starts_at=start, ends_at=start + timedelta(hours=1), status="proposed",
                                        sequence=0, fixed_by_hand=False, attendees=["csm"], remind_days_before=[10])
                                   for n in range(reviews)])
        s.execute(insert(ReviewReminder), [dict(review_id=n + 1, sequence=0, lead_days=10, status="pending",
                                                due_at=now - timedelta(minutes=1)) for n in range(reviews)])
    if url.startswith("postgresql"):  # what autovacuum does after a bulk load in production: fresh statistics,
        with db.engine_for(url).connect().execution_options(isolation_level="AUTOCOMMIT") as conn:  # else plans guess
            conn.exec_driver_sql("ANALYZE")
    return time.perf_counter() - started


def reset() -> None:
    from sqlalchemy import delete, text, update

    from journey import db
    from journey.models import OutboxMessage, Reminder, ReviewReminder

    with db.transaction() as s:
        if s.get_bind().dialect.name == "postgresql":  # DELETE checks each reminder's FK against the outbox
            s.execute(text("TRUNCATE outbox_message, reminder"))
        else:
            s.execute(delete(OutboxMessage))
            s.execute(delete(Reminder))
        s.execute(update(ReviewReminder).values(status="pending", sent_at=None))


def bare_sql_claims(url: str) -> int:
    """The yardstick: the same claim statement in batches of 500, on the driver's own connection."""
    from sqlalchemy import create_engine

    now = datetime.now(UTC)
    pg = url.startswith("postgresql")
    lock = " FOR UPDATE SKIP LOCKED" if pg else ""
    mark = "%s" if pg else "?"
    sql = (f"UPDATE review_reminder SET status = 'sent', sent_at = {mark} WHERE id IN (SELECT id FROM review_reminder"
           f" WHERE status = 'pending' AND due_at <= {mark} ORDER BY due_at, id LIMIT {BATCH}{lock}) RETURNING id")
    stamp: Any = now if pg else now.replace(tzinfo=None).isoformat(sep=" ")
    engine = create_engine(url)
    raw = engine.raw_connection()
    driver = raw.driver_connection
    claimed = 0
    try:
        if not pg:
            driver.isolation_level = None
        while True:
            cur = driver.cursor()
            if not pg:
                cur.execute("BEGIN IMMEDIATE")
            cur.execute(sql, (stamp, stamp))
            n = len(cur.fetchall())
            driver.commit() if pg else cur.execute("COMMIT")
            claimed += n
            if n < BATCH:
                return claimed
    finally:
        raw.close()
        engine.dispose()


def bare_sql_send(url: str) -> int:
    """The floor of the whole job: the same claims, plus one read of the batch's reviews and accounts and the
    same two rows per reminder (multi-row INSERT ... ON CONFLICT DO NOTHING), on the driver's connection.
    It decides nothing (every claimed row is sent) and formats a plain sentence."""
    from sqlalchemy import create_engine

    pg = url.startswith("postgresql")
    mark = "%s" if pg else "?"
    now = datetime.now(UTC)
    stamp: Any = now if pg else now.replace(tzinfo=None).isoformat(sep=" ")
    claim = (f"UPDATE review_reminder SET status = 'sent', sent_at = {mark} WHERE id IN (SELECT id FROM "
             f"review_reminder WHERE status = 'pending' AND due_at <= {mark} ORDER BY due_at, id LIMIT {BATCH}"
             f"{' FOR UPDATE SKIP LOCKED' if pg else ''}) RETURNING review_id, lead_days, sequence")
    engine = create_engine(url)
    raw = engine.raw_connection()
    driver, sent = raw.driver_connection, 0
    try:
        if not pg:
            driver.isolation_level = None
        while True:
            cur = driver.cursor()
            if not pg:
                cur.execute("BEGIN IMMEDIATE")
            claimed = {row[0]: row for row in cur.execute(claim, (stamp, stamp)).fetchall()}
            sent += _bare_write(cur, claimed, mark, stamp) if claimed else 0
            driver.commit() if pg else cur.execute("COMMIT")
            if len(claimed) < BATCH:
                return sent
    finally:
        raw.close()
        engine.dispose()


def _bare_write(cur: Any, claimed: dict[int, tuple[int, int, int]], mark: str, stamp: Any) -> int:
    """One read of the claimed reviews with account and owner, then the reminders and their outbox rows."""
    ids = ",".join([mark] * len(claimed))
    facts = ("SELECT r.id, r.title, r.starts_at, a.id, a.name, a.csm_id, m.email FROM review r JOIN account a ON "
             f"a.id = r.account_id JOIN team_member m ON m.id = a.csm_id WHERE r.id IN ({ids})")
    rows, mail = [], {}
    for rid, title, starts, aid, name, csm, email in cur.execute(facts, list(claimed)).fetchall():
        _, lead, seq = claimed[rid]
        key, subject = f"review:{rid}:lead:{lead}:seq:{seq}", f"{title} with {name}"
        reason = f"{subject} at {starts}"
        details = f'{{"review_id": {rid}, "lead_days": {lead}, "sequence": {seq}}}'
        rows.append(("review_reminder", aid, csm, starts, reason, "open", key, subject, details, stamp))
        mail[key] = (email, f"Prepare: {subject}", reason)
    values = ",".join(f"({','.join([mark] * 10)})" for _ in rows)
    created = cur.execute(
        f"INSERT INTO reminder (kind, account_id, assignee_id, due_at, reason, status, dedupe_key, subject, details, "
        f"created_at) VALUES {values} ON CONFLICT DO NOTHING RETURNING id, dedupe_key", [v for r in rows for v in r]
    ).fetchall()
    cur.executemany(
        f"INSERT INTO outbox_message (channel, recipient, subject, body_text, attachments, dedupe_key, reminder_id, "
        f"status, attempts, next_attempt_at, created_at) VALUES ('email', {mark}, {mark}, {mark}, '[]', {mark}, "
        f"{mark}, 'pending', 0, {mark}, {mark}) ON CONFLICT DO NOTHING",
        [(*mail[key], f"email:{key}", id_, stamp, stamp) for id_, key in created])
    return len(created)


def repository_claims() -> int:
    from journey import db
    from journey.reviews import repository

    claimed = 0
    while True:
        with db.transaction() as s:
            n = len(repository.claim_due_reminders(s, now=datetime.now(UTC), limit=BATCH))
        claimed += n
        if n < BATCH:
            return claimed


def scheduler_start() -> int:
    from dataclasses import replace

    from journey.config import get_settings
    from journey.jobs.registry import jobs_for
    from journey.scheduler import build_scheduler

    jobs = jobs_for(get_settings())
    scheduler = build_scheduler([replace(j, run_at_start=False) for j in jobs])  # start only: no sweep yet
    scheduler.start(paused=True)
    count = len(scheduler.get_jobs())
    scheduler.shutdown(wait=False)
    return count


def jobstore_start(reviews: int) -> int:
    """APScheduler's own way: one date job per reminder, in memory (nothing survives a restart)."""
    from apscheduler.schedulers.background import BackgroundScheduler

    scheduler = BackgroundScheduler(timezone="UTC", job_defaults={"misfire_grace_time": None, "coalesce": True})
    scheduler.start(paused=True)
    when = datetime.now(UTC) + timedelta(days=1)
    for n in range(reviews):
        scheduler.add_job(print, "date", run_date=when, args=[n], id=f"r{n}")
    count = len(scheduler.get_jobs())
    scheduler.shutdown(wait=False)
    return count


def run(url: str, reviews: int, jobstore: bool) -> list[tuple[str, Measure, str]]:
    from journey import migrations
    from journey.audit import Actor
    from journey.config import get_settings
    from journey.job_context import JobContext
    from journey.models import ActorKind
    from journey.reviews import reminders
    from journey.reviews.jobs import send_review_reminders
    from journey.scheduler import collect_for_batches

    os.environ["JOURNEY_DATABASE_URL"] = url
    get_settings.cache_clear()
    collect_for_batches()  # every phase in a process tuned as the scheduler's is
    migrations.upgrade()
    print(f"seeded {reviews:,} reviews in {seed(url, reviews):.1f} s")
    rows: list[tuple[str, Measure, str]] = []

    def phase(label: str, fn: Callable[[], Any], note: str = "") -> Measure:
        with measured() as m:
            m.result = fn()
        rows.append((label, m, note))
        print(f"{label}: {m.seconds:.2f} s, +{m.peak_mb:.1f} MB, result {m.result}")
        return m

    phase("scheduler start (jobs sweep rows)", scheduler_start, "independent of the row count")
    if jobstore:
        n = min(reviews, JOBSTORE_CAP)
        phase(f"APScheduler MemoryJobStore, {n:,} date jobs", lambda: jobstore_start(n),
              "contrast: a job per reminder (lost on restart); adding is O(n) each, so capped")
    phase("bare SQL claim loop (yardstick)", lambda: bare_sql_claims(url))
    reset()
    phase("bare SQL claim + write loop (floor of the job)", lambda: bare_sql_send(url),
          "same claims, one read, same 2 rows per reminder; decides and renders nothing")
    reset()
    phase("repository claim loop", repository_claims)
    reset()
    phase(f"send_review_reminders job: claim + remind + outbox ({reminders.BATCH} per transaction)",
          lambda: send_review_reminders(JobContext(now=datetime.now(UTC), actor=Actor(ActorKind.scheduler, "bench"))),
          "2 rows per reminder via notify.remind_many: INSERT ... ON CONFLICT DO NOTHING (SQLite: the driver's "
          "executemany; PostgreSQL: multi-row with RETURNING)")
    return rows


def table(rows: list[tuple[str, Measure, str]], backend: str, reviews: int) -> str:
    bare = next(m for label, m, _ in rows if label.startswith("bare SQL"))
    lines = [f"{reviews:,} reviews with a due reminder each, {backend}, batches of {BATCH}.", "",
             "| phase | time | peak memory | time vs bare SQL | note |", "|---|---:|---:|---:|---|"]
    floor = next((m for label, m, _ in rows if label.startswith("bare SQL claim + write")), None)
    for label, m, note in rows:
        ratio = f"{m.seconds / bare.seconds:.1f}x" if "claim" in label else ""
        if floor and label.startswith("send_review_reminders"):
            note += f"; {m.seconds / floor.seconds:.1f}x the bare claim + write floor"
        lines.append(f"| {label} | {m.seconds:.2f} s | +{m.peak_mb:.0f} MB | {ratio} | {note} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reviews", type=int, default=100_000)
    parser.add_argument("--postgres", action="store_true", help="a throwaway database on 127.0.0.1:5432")
    parser.add_argument("--no-jobstore", action="store_true", help="skip the one-date-job-per-reminder contrast")
    parser.add_argument("--no-record", action="store_true", help="do not write bench/RESULTS.md")
    args = parser.parse_args()
    work = workspace("reminders")
    url, drop = f"sqlite:///{work / 'journey.db'}", None
    if args.postgres:
        url, drop = _pg_database()
    try:
        rows = run(url, args.reviews, not args.no_jobstore)
    finally:
        if drop:
            drop()
    backend = "PostgreSQL" if args.postgres else "SQLite"
    text = table(rows, backend, args.reviews)
    print(text)
    if not args.no_record:
        record(f"Review reminders ({backend})", text)
        floor = next(m for label, m, _ in rows if label.startswith("bare SQL claim + write"))
        job = next(m for label, m, _ in rows if label.startswith("send_review_reminders"))
        target(f"review reminders / bare claim + write floor ({backend}, {args.reviews:,})", goal="<= 2x",
               measured=f"{job.seconds / floor.seconds:.1f}x", met=job.seconds <= 2 * floor.seconds,
               section=f"Review reminders ({backend})")


def _pg_database() -> tuple[str, Callable[[], None]]:
    from sqlalchemy import create_engine, text

    from journey.db import engine_for

    name = f"journey_bench_reminders_{os.getpid()}"
    admin = create_engine(f"{PG_SERVER}/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))

    def drop() -> None:
        engine_for.cache_clear()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))

    return f"{PG_SERVER}/{name}", drop


if __name__ == "__main__":
    main()
