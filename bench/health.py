"""Health recompute at scale: N accounts x 90 days of signals, full recompute vs one SQL aggregate.

    .venv/bin/python -m bench.health                 # 5,000 accounts, SQLite and PostgreSQL (~2 minutes)
    .venv/bin/python -m bench.health --full          # 100,000 accounts (the issue's size; ~14M signal rows)
    .venv/bin/python -m bench.health --backend sqlite --accounts 20000

Each account gets, over 90 days: `active_users` daily; `logins_7d`, `support_tickets_open` and
`feature_adoption` weekly; `csm_sentiment` monthly; `seats`, `nps`, `csat` and `escalation_open` once:
~137 rows per account. The recompute is the real nightly job (`recompute_all_health`: per batch of 2,000
accounts, the latest value of each (account, metric) by one index seek and window aggregates only for the
metrics a factor averages; pure scoring; upsert of scores and daily history; risk-alert checks). The
baseline is one hand-written `GROUP BY account_id, metric` over the same rows (count, avg, min, max,
latest time), fetched whole: what the database alone needs to read the inputs once. The ratio says how
much the whole pipeline costs on top of reading the data.
"""
from __future__ import annotations

import argparse
import os
import random
import time
import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import create_engine, text

PG_SERVER = os.environ.get("JOURNEY_BENCH_PG_SERVER", "postgresql+psycopg://postgres@127.0.0.1:5432")
NOW = datetime(2027, 3, 1, 3, tzinfo=UTC)
SEGMENTS = ["smb"] * 6 + ["mid_market"] * 3 + ["enterprise"]


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
    return [(f"b-{account_id}-{m}-{d}", account_id, m, float(v), NOW - timedelta(days=d, hours=rng.randint(0, 20)))
            for m, v, d in rows]


def _naive(at: datetime, dialect: str) -> datetime:
    return at.replace(tzinfo=None) if dialect == "sqlite" else at


def seed(url: str, accounts: int) -> int:
    """Accounts and their signals, written with plain SQL (COPY on PostgreSQL); the number of signal rows."""
    engine = create_engine(url)
    rng = random.Random(7)
    dialect = engine.dialect.name
    total = 0
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO account (id, crm_source, crm_external_id, name, segment, timezone, "
                          "created_at, updated_at) VALUES (:id, 'bench', :ext, :name, :segment, 'UTC', :now, :now)"),
                     [{"id": i, "ext": f"B{i}", "name": f"Bench {i}", "segment": SEGMENTS[i % 10],
                       "now": _naive(NOW, dialect)} for i in range(1, accounts + 1)])
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


def recompute(url: str) -> tuple[float, dict[str, int]]:
    from journey.config import get_settings
    from journey.db import engine_for
    from journey.health.jobs import recompute_all_health

    os.environ["JOURNEY_DATABASE_URL"] = url
    get_settings.cache_clear()
    engine_for.cache_clear()
    recompute_all_health(NOW - timedelta(days=1))  # yesterday's scores exist, as on any night but the first
    started = time.perf_counter()
    result = recompute_all_health(NOW)
    return time.perf_counter() - started, result


def database(backend: str) -> tuple[str, callable]:  # type: ignore[valid-type]
    from journey import migrations

    if backend == "sqlite":
        from bench.common import workspace

        url = f"sqlite:///{workspace('health') / 'journey.db'}"
        drop = lambda: None  # noqa: E731
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
        took, result = recompute(url)
        assert result["accounts"] == accounts
        line = (f"| {backend} | {accounts:,} | {rows:,} | {seeded:.1f} s | {base:.2f} s | {took:.1f} s | "
                f"{accounts / took:,.0f} | {took / base:.1f}x |")
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
    header = ("| backend | accounts | signal rows | seed | one SQL aggregate | full recompute | accounts/s | ratio |\n"
              "|---|---:|---:|---:|---:|---:|---:|---:|")
    print(header, flush=True)
    lines = [run(b, accounts) for b in backends]
    if not args.no_record:
        from bench.common import record

        record(f"Health recompute, {accounts:,} accounts x 90 days", header + "\n" + "\n".join(lines))


if __name__ == "__main__":
    main()
