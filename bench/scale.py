"""The scaled-out mode under load (issue 9), on this machine, traffic only to loopback.

    .venv/bin/python -m bench.scale [--deals 1000] [--phase all|bench|reliability] [--timeout 2400] [--lease 30]

bench:        the same N signed deals processed (a) by one `journey serve` on PostgreSQL calling the flow
              steps directly (no Prefect), then through a Prefect server with 1 and 2 workers (b) running
              each batch's flow run in the worker's own process (the default), (c) in a new process per
              run (`journey worker --process-per-run`, Prefect's `serve`); throughput of each and the
              per-journey cost of Prefect orchestration as a ratio to (a).
reliability:  N deals posted concurrently (16 senders) across both API processes of a 2-worker cluster;
              mid-run one worker is SIGKILLed with every process it started (Prefect runs each flow run
              in a session of its own, so its process group is not enough), a second `journey scheduler
              run` is started and review reminders are made due (reviews starting in 3 days) while both
              schedulers run; then the database must show every deal processed once (one journey, one
              plan, one packet, three reviews each), some events claimed again after the kill (the dead
              worker's run was re-submitted), each seeded review reminded exactly once, and no reminder
              or message written twice. Leases are short here (--lease, 30 s) so a re-submission comes soon.
Each phase starts its cluster with deploy/local-cluster.sh on fresh databases and stops it by pid.
"""
from __future__ import annotations

import argparse
import concurrent.futures as cf
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

import httpx
from sqlalchemy import create_engine, func, select, text

from bench.common import SECRET, record
from tests.reliability.server import kill_tree

ROOT = Path(__file__).resolve().parent.parent
PG = "postgresql://postgres@127.0.0.1:5432"
sys.path.insert(0, str(ROOT))


def _psql(sql: str) -> None:
    engine = create_engine(PG.replace("postgresql://", "postgresql+psycopg://") + "/postgres",
                           isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(sql))
    engine.dispose()


def _fresh_dbs(tag: str) -> tuple[str, str]:
    names = (f"journey_scale_{tag}", f"prefect_scale_{tag}")
    for name in names:
        _psql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        _psql(f'CREATE DATABASE "{name}"')
    return names


@contextmanager
def cluster(tag: str, *, workers: int, lease: float = 180, worker_args: str = ""):
    journey_db, prefect_db = _fresh_dbs(tag)
    work = Path(tempfile.mkdtemp(prefix=f"journey-scale-{tag}-"))
    env = {**os.environ, "CLUSTER_DIR": str(work), "CLUSTER_WORKERS": str(workers),
           "JOURNEY_SERVER_LEASE_SECONDS": str(lease), "JOURNEY_SCHEDULER_INTERVAL_SECONDS": "5",
           "CLUSTER_API_PORTS": "8011 8012", "CLUSTER_PREFECT_PORT": "4211", "CLUSTER_JOURNEY_DB": journey_db,
           "CLUSTER_PREFECT_DB": prefect_db, "JOURNEY_WEBHOOK_SECRET": SECRET, "CLUSTER_WORKER_ARGS": worker_args}
    script = str(ROOT / "deploy" / "local-cluster.sh")
    try:
        subprocess.run([script, "up"], env=env, check=True, cwd=ROOT, timeout=600)
        yield {"dir": work, "db": f"postgresql+psycopg://postgres@127.0.0.1:5432/{journey_db}",
               "ports": [8011, 8012], "env": env}
    finally:
        subprocess.run([script, "down"], env=env, cwd=ROOT, timeout=120)


@contextmanager
def plain_server(tag: str):
    """One `journey serve` on PostgreSQL running the flow steps as plain calls: no Prefect at all."""
    journey_db, _ = _fresh_dbs(tag)
    db = f"postgresql+psycopg://postgres@127.0.0.1:5432/{journey_db}"
    work = Path(tempfile.mkdtemp(prefix=f"journey-scale-{tag}-"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    env |= {"JOURNEY_DATABASE_URL": db, "JOURNEY_WEBHOOK_SECRET": SECRET, "JOURNEY_DEMO": "0",
            "JOURNEY_ORCHESTRATOR": "inline", "JOURNEY_DATA_DIR": str(work), "JOURNEY_SCHEDULER": "0"}
    bin_ = ROOT / ".venv" / "bin" / "journey"
    subprocess.run([str(bin_), "db", "upgrade"], env=env, check=True, cwd=work)
    proc = subprocess.Popen([str(bin_), "serve", "--port", "8013"], env=env, cwd=work, start_new_session=True,
                            stdout=open(work / "serve.log", "w"), stderr=subprocess.STDOUT)  # noqa: SIM115
    try:
        for _ in range(120):
            try:
                if httpx.get("http://127.0.0.1:8013/readyz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.5)
        yield {"db": db, "ports": [8013]}
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=60)


def send(ports: list[int], n: int, tag: str) -> dict[int, int]:
    """Post n distinct signed deals from 16 senders across the API ports; retry what was not accepted."""
    from tests.builders import deal_signed, signed_headers

    def one(i: int) -> int:
        body = json.dumps(deal_signed(f"D-{tag}-{i}", f"C-{tag}-{i}", account={"name": f"Account {tag}-{i}"})
                          ).encode()  # a name of its own: two messages alike are a double, not two accounts
        headers = signed_headers(body, msg_id=f"msg-{tag}-{i}", secret=SECRET)
        for _ in range(20):
            try:
                r = httpx.post(f"http://127.0.0.1:{ports[i % len(ports)]}/webhooks/events", content=body,
                               headers=headers, timeout=30)
                if r.status_code < 300:
                    return r.status_code
            except httpx.HTTPError:
                pass
            time.sleep(1)
        return 0

    with cf.ThreadPoolExecutor(16) as pool:
        codes = list(pool.map(one, range(n)))
    return {c: codes.count(c) for c in set(codes)}


def counts(db: str) -> dict[str, int]:
    from journey.models import AuditEntry, InboundEvent, Journey, Milestone, Reminder, Review, ReviewReminder

    engine = create_engine(db)
    with engine.connect() as c:
        out = {
            "events": c.scalar(select(func.count()).select_from(InboundEvent)),
            "processed": c.scalar(select(func.count()).where(InboundEvent.status == "processed")),
            "dead": c.scalar(select(func.count()).where(InboundEvent.status == "dead")),
            "journeys": c.scalar(select(func.count()).select_from(Journey)),
            "deals_with_a_journey": c.scalar(select(func.count(func.distinct(Journey.deal_id)))),
            "plans": c.scalar(select(func.count(func.distinct(Milestone.journey_id)))),
            "reviews": c.scalar(select(func.count()).select_from(Review)),
            "opened_audits": c.scalar(select(func.count()).where(AuditEntry.action == "journey.opened")),
            "reminders": c.scalar(select(func.count()).select_from(Reminder)),
            "review_reminders_sent": c.scalar(select(func.count()).where(ReviewReminder.status == "sent")),
            "claimed_again": c.scalar(select(func.count()).where(InboundEvent.attempts > 1)),
            "reminder_doubles": c.scalar(text(
                "SELECT count(*) FROM (SELECT kind, account_id, assignee_id, reason FROM reminder "
                "GROUP BY 1, 2, 3, 4 HAVING count(*) > 1) d")),
            "message_doubles": c.scalar(text(
                "SELECT count(*) FROM (SELECT channel, recipient, subject, body_text FROM outbox_message "
                "GROUP BY 1, 2, 3, 4 HAVING count(*) > 1) d")),
        }
    engine.dispose()
    return out


def wait_processed(db: str, n: int, timeout: float, on_progress=None) -> float:  # type: ignore[no-untyped-def]
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        done = counts(db)["processed"]
        if on_progress:
            on_progress(done)
        if done >= n:
            return time.monotonic() - t0
        time.sleep(2)
    raise SystemExit(f"only {counts(db)['processed']} of {n} processed in {timeout:.0f} s")


WORKER_MODES = {"running batches in its own process": "",
                "starting a process per batch (`--process-per-run`)": "--process-per-run"}


def phase_bench(n: int, timeout: float) -> None:
    results = {}
    with plain_server("plain") as s:
        t0 = time.monotonic()
        send(s["ports"], n, "plain")
        results["no Prefect: `journey serve`, steps as plain calls"] = (
            time.monotonic() - t0 + wait_processed(s["db"], n, timeout), counts(s["db"]))
    for how, args in WORKER_MODES.items():
        for workers in (1, 2):
            tag = f"w{workers}{'p' if args else ''}"
            with cluster(tag, workers=workers, worker_args=args) as c:
                t0 = time.monotonic()
                send(c["ports"], n, tag)
                results[f"Prefect server, {workers} worker{'s' if workers > 1 else ''} {how} (2 APIs)"] = (
                    time.monotonic() - t0 + wait_processed(c["db"], n, timeout), counts(c["db"]))
    base = next(iter(results.values()))[0]
    rows = [f"| {arm} | {n} | {secs:.0f} s | {n / secs:.1f} | {1000 * secs / n:.0f} ms | {secs / base:.2f}x | "
            f"{cnt['journeys']} |" for arm, (secs, cnt) in results.items()]
    record("Scaled out: throughput with 1 and 2 workers (PostgreSQL)",
           "| arm | deals | until all processed | journeys / s | per journey | ratio to no Prefect | journeys |\n"
           "|---|---|---|---|---|---|---|\n" + "\n".join(rows))


def seed_due_reminders(db: str, reviews: int) -> int:
    """Reviews that start in 3 days with their pending reminders due now: the leading scheduler must send
    one reminder per review (the nearest lead time), whichever scheduler leads."""
    engine = create_engine(db)
    with engine.begin() as c:
        ids = c.scalars(text("SELECT id FROM review WHERE status IN ('proposed', 'scheduled') ORDER BY id "
                             "LIMIT :k"), {"k": reviews}).all()
        c.execute(text("UPDATE review SET starts_at = now() + interval '3 days', "
                       "ends_at = now() + interval '3 days 1 hour' WHERE id = ANY(:ids)"), {"ids": list(ids)})
        c.execute(text("UPDATE review_reminder SET due_at = now() - interval '1 minute' "
                       "WHERE status = 'pending' AND review_id = ANY(:ids)"), {"ids": list(ids)})
    engine.dispose()
    return len(ids)


def wait_reminded(db: str, want: int, timeout: float = 120) -> int:
    deadline = time.monotonic() + timeout
    while counts(db)["review_reminders_sent"] < want and time.monotonic() < deadline:
        time.sleep(2)
    time.sleep(10)  # two more scheduler rounds: a double would show now
    return counts(db)["review_reminders_sent"]


def phase_reliability(n: int, timeout: float, lease: float) -> None:
    with cluster("rel", workers=2, lease=lease) as c:
        killed, second, seeded = {}, {}, {}

        def chaos(done: int) -> None:
            if done >= n // 5 and not killed:
                pid = next(int(line.split()[0]) for line in (c["dir"] / "pids").read_text().splitlines()
                           if line.endswith("worker-1"))
                killed["processes"], killed["at"] = kill_tree(pid), done
            if done >= n // 4 and not second:
                second["proc"] = subprocess.Popen(
                    [str(ROOT / ".venv" / "bin" / "journey"), "scheduler", "run"], env=c["env"] | {
                        "JOURNEY_DATABASE_URL": c["db"]}, start_new_session=True,
                    stdout=open(c["dir"] / "scheduler-2.log", "w"), stderr=subprocess.STDOUT)  # noqa: SIM115
                seeded["reviews"] = seed_due_reminders(c["db"], max(n // 10, 1))

        codes = send(c["ports"], n, "rel")
        seconds = wait_processed(c["db"], n, timeout, on_progress=chaos)
        reminded = wait_reminded(c["db"], seeded.get("reviews", 0))
        got = counts(c["db"])
        if second:
            os.killpg(second["proc"].pid, signal.SIGTERM)
        waiting = "scheduler.waiting" in (c["dir"] / "scheduler-2.log").read_text() if second else False
    checks = {
        "every delivery answered 202": codes.get(202) == n,
        "every deal processed once": got["processed"] == n and got["journeys"] == got["deals_with_a_journey"] == n
        and got["plans"] == n and got["reviews"] == 3 * n and got["opened_audits"] == n,
        "the killed worker's events claimed again": got["claimed_again"] > 0,
        "each seeded review reminded once": reminded == seeded.get("reviews", -1) > 0,
        "no reminder or message twice": got["reminder_doubles"] == 0 and got["message_doubles"] == 0,
        "the second scheduler waited": waiting,
    }
    record(f"Scaled out: reliability ({n:,} deals, a worker SIGKILLed, a second scheduler)",
           f"| check | result |\n|---|---|\n| deliveries answered 202 | {codes} |\n"
           f"| worker-1 SIGKILLed (with its {killed.get('processes')} processes) after | {killed.get('at')} "
           f"processed |\n| server lease | {lease:.0f} s |\n"
           f"| second `journey scheduler run` | {'waited as follower' if waiting else 'DID NOT WAIT'} |\n"
           f"| review reminders made due during the run | {seeded.get('reviews')} reviews, {reminded} sent |\n"
           f"| all processed in | {seconds:.0f} s |\n| counts | {got} |\n"
           + "".join(f"| {name} | {'ok' if ok else 'FAILED'} |\n" for name, ok in checks.items())
           + f"| verdict | {'OK' if all(checks.values()) else 'FAILED'} |")
    if not all(checks.values()):
        raise SystemExit("reliability check failed: " + ", ".join(k for k, ok in checks.items() if not ok))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--deals", type=int, default=1000)
    parser.add_argument("--phase", choices=["all", "bench", "reliability"], default="all")
    parser.add_argument("--timeout", type=float, default=2400)
    parser.add_argument("--lease", type=float, default=30, help="JOURNEY_SERVER_LEASE_SECONDS, reliability phase")
    args = parser.parse_args()
    if args.phase in ("all", "reliability"):
        phase_reliability(args.deals, args.timeout, args.lease)
    if args.phase in ("all", "bench"):
        phase_bench(args.deals, args.timeout)


if __name__ == "__main__":
    main()
