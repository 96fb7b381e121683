"""Health recompute at scale: N accounts x 90 days of signals, full recompute vs one SQL aggregate.

    .venv/bin/python -m bench.health                 # 5,000 accounts, SQLite and PostgreSQL (~2 minutes)
    .venv/bin/python -m bench.health --full          # 100,000 accounts (the issue's size; ~14M signal rows)
    .venv/bin/python -m bench.health --backend sqlite --accounts 20000

Each account gets, over 90 days: `active_users` daily; `logins_7d`, `support_tickets_open` and
`feature_adoption` weekly; `csm_sentiment` monthly; `seats`, `nps`, `csat` and `escalation_open` once:
~137 rows per account. Every account has a CSM and an AM; 40 % have a signed deal with an onboarding plan
(milestones, 8 tasks, some late), a handoff packet, two reviews (held, missed or coming up) and two
objectives with progress, so the internal-signal queries read real rows; 5 % fall on the last day (a few
users, an escalation), so tonight's recompute turns them red and writes risk alerts (a reminder and two
outbox messages each) as a real night would. The recompute is the real nightly job
(`recompute_all_health`: per batch of 2,000 accounts, the latest value of each (account, metric) by one
index seek and window aggregates only for the metrics a factor averages; the internal signals; pure
scoring; upsert of scores and daily history; risk alerts). The baseline is one hand-written
`GROUP BY account_id, metric` over the same rows (count, avg, min, max, latest time), fetched whole: what
the database alone needs to read the inputs once. The ratio says how much the whole pipeline costs on
top of reading the data. The database is removed afterwards (the SQLite file is GBs at full size).
"""
from __future__ import annotations

import argparse
import os
import random
import shutil
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import create_engine, func, insert, select, text

PG_SERVER = os.environ.get("JOURNEY_BENCH_PG_SERVER", "postgresql+psycopg://postgres@127.0.0.1:5432")
NOW = datetime(2027, 3, 1, 3, tzinfo=UTC)
SEGMENTS = ["smb"] * 6 + ["mid_market"] * 3 + ["enterprise"]
CSMS, AMS = 50, 25  # team members: ids 1..50 are CSMs, 51..75 AMs
TODAY = NOW.date()


def with_plan(account_id: int) -> bool:
    return account_id % 5 in (0, 1)


def falling(account_id: int) -> bool:
    return account_id % 20 == 3


def signal_rows(account_id: int, rng: random.Random) -> list[tuple]:
    """~137 signals of one account over 90 days (a healthy, a middling or a struggling profile)."""
    seats = rng.choice([10, 25, 50, 100, 250])
    level = rng.choice([0.3, 0.6, 0.9])
    rows: list[tuple] = [("seats", seats, 89), ("nps", rng.randint(-60, 80), rng.randint(0, 89)),
                         ("csat", rng.randint(1, 5), rng.randint(0, 89)),
                         ("escalation_open", float(rng.random() < 0.05), rng.randint(0, 30))]
    rows += [("active_users", round(seats * min(1.0, level + rng.uniform(-0.1, 0.1))), d) for d in range(90)]
    for d in range(0, 90, 7):
        rows += [("logins_7d", round(seats * level * rng.uniform(1, 4)), d),
                 ("support_tickets_open", rng.randint(0, 8), d), ("feature_adoption", round(level * 0.8, 2), d)]
    rows += [("csm_sentiment", rng.randint(2, 5), d) for d in (5, 35, 65)]
    if falling(account_id):  # today: a few users left and an escalation is open
        rows = [r for r in rows if not (r[0] in ("active_users", "escalation_open") and r[2] == 0)]
        rows += [("active_users", max(1, seats // 10), 0), ("escalation_open", 1.0, 0)]
    return [(f"b-{account_id}-{m}-{d}", account_id, m, float(v),
             NOW - timedelta(days=d, hours=rng.randint(1, 20) if d else rng.randint(1, 2)))
            for m, v, d in rows]


def _naive(at: datetime, dialect: str) -> datetime:
    return at.replace(tzinfo=None) if dialect == "sqlite" else at


def seed(url: str, accounts: int) -> int:
    """Accounts and their signals, written with plain SQL (COPY on PostgreSQL); the number of signal rows."""
    engine = create_engine(url)
    rng = random.Random(7)
    dialect = engine.dialect.name
    total = 0
    seed_team(engine)
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO account (id, crm_source, crm_external_id, name, segment, timezone, "
                          "csm_id, am_id, created_at, updated_at) "
                          "VALUES (:id, 'bench', :ext, :name, :segment, 'UTC', :csm, :am, :now, :now)"),
                     [{"id": i, "ext": f"B{i}", "name": f"Bench {i}", "segment": SEGMENTS[i % 10],
                       "csm": 1 + i % CSMS, "am": CSMS + 1 + i % AMS, "now": _naive(NOW, dialect)}
                      for i in range(1, accounts + 1)])
    for start in range(1, accounts + 1, 2000):
        seed_plans(engine, [a for a in range(start, min(start + 2000, accounts + 1)) if with_plan(a)])
    for start in range(1, accounts + 1, 2000):
        rows = [r for a in range(start, min(start + 2000, accounts + 1)) for r in signal_rows(a, rng)]
        total += len(rows)
        with engine.begin() as conn:
            if dialect == "postgresql":
                cursor = conn.connection.cursor()
                with cursor.copy("COPY signal (external_id, account_id, metric, value, at, source, received_at) "
                                 "FROM STDIN") as copy:
                    for ext, account_id, metric, value, at in rows:
                        copy.write_row((ext, account_id, metric, value, at, "bench", at))
            else:
                conn.exec_driver_sql(
                    "INSERT INTO signal (external_id, account_id, metric, value, at, source, received_at) "
                    "VALUES (?, ?, ?, ?, ?, 'bench', ?)",
                    [(e, a, m, v, f"{t:%Y-%m-%d %H:%M:%S.%f}", f"{t:%Y-%m-%d %H:%M:%S.%f}")  # SQLAlchemy's format
                     for e, a, m, v, t in rows])
    with engine.begin() as conn:
        conn.execute(text("ANALYZE"))
    engine.dispose()
    return total


def seed_team(engine: Any) -> None:
    from journey.models import TeamMember

    members = [{"id": i, "email": f"{'csm' if i <= CSMS else 'am'}{i}@bench.example", "name": f"Member {i}",
                "role": "csm" if i <= CSMS else "am"} for i in range(1, CSMS + AMS + 1)]
    with engine.begin() as conn:
        conn.execute(insert(TeamMember.__table__), members)


def seed_plans(engine: Any, account_ids: list[int]) -> None:
    """A deal, a journey with its plan, a packet, two reviews and two objectives per account (ORM tables
    through Core executemany: their column defaults and types apply, without per-object work)."""
    from journey.models import Deal, HandoffPacket, Journey, Milestone, Objective, ObjectiveProgress, PlanTask, Review

    rows: dict[Any, list[dict[str, Any]]] = {m: [] for m in (Deal, Journey, Milestone, PlanTask, HandoffPacket, Review,
                                                             Objective, ObjectiveProgress)}
    for a in account_ids:
        rng = random.Random(a)
        signed = TODAY - timedelta(days=rng.choice([40, 120, 300, 500]))
        rows[Deal].append({"id": a, "account_id": a, "crm_source": "bench", "crm_external_id": f"D{a}",
                           "name": f"Deal {a}", "status": "won", "seats": rng.choice([10, 25, 50, 100]),
                           "contract_end": signed + timedelta(days=365 * (1 + a % 2))})
        rows[Journey].append({"id": a, "deal_id": a, "account_id": a, "playbook": "default", "playbook_version": 1,
                              "signed_on": signed})
        reached = NOW - timedelta(days=10) if (TODAY - signed).days > 100 else None
        rows[Milestone] += [{"id": 2 * a + k, "journey_id": a, "key": key, "name": key.title(), "position": k,
                             "value_milestone": k == 1, "due_on": signed + timedelta(days=30 + 60 * k),
                             "completed_at": reached if k == 1 else NOW - timedelta(days=200)}
                            for k, key in enumerate(("kickoff", "first_value"))]
        for t in range(8):
            due = signed + timedelta(days=7 + 14 * t)
            done = due < TODAY and rng.random() < 0.8
            rows[PlanTask].append({"id": 8 * a + t, "journey_id": a, "milestone_id": 2 * a + t // 4, "key": f"t{t}",
                                   "title": f"Task {t}", "position": t, "anchor": "signature",
                                   "offset_business_days": 5 + 10 * t, "due_on": due,
                                   "status": "done" if done else "todo",
                                   "done_at": NOW - timedelta(days=(TODAY - due).days - rng.randint(-3, 2))
                                   if done else None})
        rows[HandoffPacket].append({"id": a, "journey_id": a, "account_id": a, "version": 1,
                                    "completeness": rng.choice([60, 80, 100]), "missing": [], "state": "acknowledged"})
        for k, (kind, days) in enumerate((("r90", -60), ("r180", rng.choice([-5, 10, 40])))):
            status = "scheduled" if days > 0 else rng.choice(["held", "held", "missed"])
            rows[Review].append({"id": 2 * a + k, "journey_id": a, "account_id": a, "kind": kind,
                                 "title": f"Review {kind}", "anchor": "signature",
                                 "due_on": TODAY + timedelta(days=days),
                                 "status": status, "held_at": NOW + timedelta(days=days) if status == "held" else None})
        for k in range(2):
            rows[Objective].append({"id": 2 * a + k, "journey_id": a, "account_id": a, "title": f"Objective {k}",
                                    "baseline": 10.0, "target": 30.0, "source": "handoff", "created_at": NOW,
                                    "updated_at": NOW})
            rows[ObjectiveProgress] += [{"id": 4 * a + 2 * k + n, "objective_id": 2 * a + k,
                                         "at": NOW - timedelta(days=40 - 30 * n), "value": 10.0 + rng.uniform(0, 25),
                                         "source": "review", "recorded_by": "bench"} for n in range(2)]
    with engine.begin() as conn:
        for model, values in rows.items():
            if values:
                conn.execute(insert(model.__table__), values)


def baseline(url: str) -> float:
    """One hand-written aggregate over the same rows, fetched whole: seconds."""
    engine = create_engine(url)
    since = _naive(NOW - timedelta(days=180), engine.dialect.name)
    started = time.perf_counter()
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT account_id, metric, count(*), avg(value), min(value), max(value), max(at) "
                                 "FROM signal WHERE at > :since GROUP BY account_id, metric"), {"since": since}).all()
    elapsed = time.perf_counter() - started
    engine.dispose()
    assert rows
    return elapsed


def recompute(url: str) -> tuple[float, dict[str, int], int]:
    """Tonight's recompute (after last night's): seconds, its result, risk alerts it wrote."""
    from journey.audit import Actor
    from journey.config import get_settings
    from journey.db import engine_for
    from journey.health.jobs import recompute_all_health
    from journey.job_context import JobContext
    from journey.models import ActorKind, Reminder
    from journey.scheduler import collect_for_batches

    os.environ["JOURNEY_DATABASE_URL"] = url
    get_settings.cache_clear()
    engine_for.cache_clear()
    collect_for_batches()  # as in the process that runs it (the runner child, `journey scheduler run`)
    actor = Actor(ActorKind.scheduler, "bench")
    recompute_all_health(JobContext(now=NOW - timedelta(days=1), actor=actor))  # yesterday's scores exist
    engine = create_engine(url)
    count = select(func.count()).select_from(Reminder).where(Reminder.kind.like("risk.%"))
    with engine.connect() as conn:
        before = conn.scalar(count) or 0
    started = time.perf_counter()
    result = recompute_all_health(JobContext(now=NOW, actor=actor))
    took = time.perf_counter() - started
    with engine.connect() as conn:
        alerts = (conn.scalar(count) or 0) - before
    engine.dispose()
    return took, result, alerts


def database(backend: str) -> tuple[str, Callable[[], None]]:
    """A migrated database and the function that removes it (the SQLite file runs to GBs at full size)."""
    from journey import migrations

    if backend == "sqlite":
        from bench.common import workspace

        folder = workspace("health")
        url = f"sqlite:///{folder / 'journey.db'}"

        def drop() -> None:
            from journey.db import engine_for

            for writer in (True, False):  # close the pooled connections, or the space stays held until exit
                engine_for(url, writer=writer).dispose()
            engine_for.cache_clear()
            shutil.rmtree(folder, ignore_errors=True)
    else:
        name = f"journey_bench_{uuid.uuid4().hex[:8]}"
        admin = create_engine(f"{PG_SERVER}/postgres", isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        url = f"{PG_SERVER}/{name}"

        def drop() -> None:
            from journey.db import engine_for

            engine_for.cache_clear()
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))

    engine = create_engine(url)
    with engine.connect() as conn:
        migrations.upgrade(conn)
        conn.commit()
    engine.dispose()
    return url, drop


def run(backend: str, accounts: int) -> str:
    url, drop = database(backend)
    try:
        started = time.perf_counter()
        rows = seed(url, accounts)
        seeded = time.perf_counter() - started
        base = min(baseline(url) for _ in range(3))
        took, result, alerts = recompute(url)
        assert result["accounts"] == accounts
        assert alerts > 0, "the falling accounts should have raised risk alerts"
        line = (f"| {backend} | {accounts:,} | {rows:,} | {seeded:.1f} s | {base:.2f} s | {took:.1f} s | "
                f"{accounts / took:,.0f} | {took / base:.1f}x | {alerts:,} |")
        print(line, flush=True)
        return line
    finally:
        drop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--accounts", type=int, default=5000)
    parser.add_argument("--full", action="store_true", help="100,000 accounts")
    parser.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--no-record", action="store_true", help="do not write bench/RESULTS.md")
    args = parser.parse_args()
    accounts = 100_000 if args.full else args.accounts
    backends = ["sqlite", "postgresql"] if args.backend == "both" else [args.backend]
    header = ("| backend | accounts | signal rows | seed | one SQL aggregate | full recompute | accounts/s | ratio "
              "| risk alerts |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    print(header, flush=True)
    lines = [run(b, accounts) for b in backends]
    if not args.no_record:
        from bench.common import record, target

        section = f"Health recompute, {accounts:,} accounts x 90 days"
        record(section, header + "\n" + "\n".join(lines))
        for backend, line in zip(backends, lines, strict=True):
            ratio = float(line.split("|")[8].strip().rstrip("x"))
            target(f"health recompute / one SQL aggregate ({backend}, {accounts:,} accounts)", goal="<= 2x",
                   measured=f"{ratio:.1f}x", met=ratio <= 2, section=section)


if __name__ == "__main__":
    main()
