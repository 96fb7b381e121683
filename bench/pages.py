"""Each web page at p95 with 10,000 accounts: seed a workspace in bulk, sign in, time every page.

    .venv/bin/python -m bench.pages [--accounts 10000] [--runs 60] [--database-url URL] [--record]

Seeds 10k accounts with a deal, a journey, 7 milestones and 21 tasks each, a packet, 3 reviews, reminders,
health scores with 30 days of history and 2,000 inbox deliveries (bulk inserts: it is the reading that is
measured; on PostgreSQL an ANALYZE follows, as autovacuum would). Then signs in through the real form as a
manager (who sees all 10k), a CSM (a book of 250) and an admin, and times each page in-process (TestClient: the
full FastAPI stack, no network), printing p50, p95 and the CPU time per request in milliseconds; `--record`
writes the table into bench/RESULTS.md. Exits 1 if a page's p95 is over 100 ms (the fresh dashboard aside).
"""
from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from datetime import UTC, date, datetime, timedelta

BUDGET_MS = 100.0
CSMS, AMS, TASKS_PER_MILESTONE = 40, 40, 3
MILESTONES = ["Kickoff", "Business discovery", "Integration", "Configuration", "Training / UAT", "Go-live",
              "Value review"]


def _rows(n: int, today: date, now: datetime) -> dict[str, list[dict]]:  # type: ignore[type-arg]
    rnd = random.Random(7)
    out: dict[str, list[dict]] = {k: [] for k in (  # type: ignore[type-arg]
        "account", "deal", "journey", "milestone", "task", "packet", "version", "review", "reminder", "score",
        "history", "event")}
    task_id = milestone_id = 0
    for i in range(1, n + 1):
        csm, am = 3 + (i % CSMS), 3 + CSMS + (i % AMS)
        signed = today - timedelta(days=rnd.randint(0, 200))
        out["account"].append(dict(id=i, crm_source="events", crm_external_id=f"C-{i}", name=f"Account {i:05d} GmbH",
                                   segment=rnd.choice(["smb", "mid_market", "enterprise"]), region="DE",
                                   timezone="Europe/Berlin", csm_id=csm, am_id=am))
        out["deal"].append(dict(id=i, account_id=i, crm_source="events", crm_external_id=f"D-{i}", name=f"Deal {i}",
                                amount=48000, currency="EUR", signed_at=now, contract_start=signed,
                                contract_end=signed + timedelta(days=365), expected_go_live=signed + timedelta(days=60),
                                seats=100, ae_id=2))
        out["journey"].append(dict(id=i, deal_id=i, account_id=i, playbook="mid_market", playbook_version=1,
                                   signed_on=signed, kickoff_on=signed + timedelta(days=10),
                                   go_live_on=signed + timedelta(days=60)))
        for position, name in enumerate(MILESTONES, 1):
            milestone_id += 1
            due = signed + timedelta(days=10 * position)
            out["milestone"].append(dict(id=milestone_id, journey_id=i, key=f"m{position}", name=name,
                                         position=position, value_milestone=position == 7, due_on=due,
                                         completed_at=now if due < today - timedelta(days=20) else None))
            for t in range(1, TASKS_PER_MILESTONE + 1):
                task_id += 1
                done = due < today - timedelta(days=5)
                out["task"].append(dict(id=task_id, journey_id=i, milestone_id=milestone_id, key=f"t{position}{t}",
                                        title=f"Task {t} of {name}", position=t,
                                        raci={"responsible": "csm", "accountable": "csm", "consulted": ["am"],
                                              "informed": []}, anchor="signature", offset_business_days=position,
                                        depends_on=[], needs_packet_ack=False, due_on=due,
                                        status="done" if done else "todo", done_at=now if done else None))
        out["packet"].append(dict(id=i, journey_id=i, account_id=i, version=1, completeness=rnd.choice([80, 100]),
                                  missing=[], state=rnd.choice(["awaiting_ack", "accepted", "draft"])))
        out["version"].append(dict(packet_id=i, version=1, content={"why_bought": "speed", "objectives": []},
                                   changes=[], author="bench", created_at=now))
        for k, days in (("90_day", 90), ("3_month", 91), ("6_month", 182)):
            out["review"].append(dict(journey_id=i, account_id=i, kind=k, title=f"Review {k}", anchor="signature",
                                      due_on=signed + timedelta(days=days), status="proposed", attendees=[],
                                      remind_days_before=[], sequence=0))
        if i % 4 == 3:
            out["reminder"].append(dict(kind="expansion_seats", account_id=i, assignee_id=am, due_at=now,
                                        reason=f"Account {i} uses 96 of 100 seats", status="open",
                                        dedupe_key=f"bench:{i}", details={}, created_at=now))
        score = rnd.uniform(30, 95)
        band = "green" if score >= 75 else "yellow" if score >= 50 else "red"
        out["score"].append(dict(account_id=i, score=score, band=band, scorecard="default_adopted",
                                 scorecard_version=1, stage="adopted", computed_at=now, missing=[],
                                 contributions=[{"factor": "seat_utilisation", "value": 0.8, "weight": 40,
                                                 "points": 32}]))
        out["history"] += [dict(account_id=i, day=today - timedelta(days=d), score=score - d / 3, band=band,
                                scorecard_version=1) for d in range(0, 30, 3)]
    out["event"] = [dict(source="events", external_id=f"msg_{e}", type="deal.signed", subject=f"D-{e}", payload="{}",
                         status="dead" if e % 50 == 0 else "processed", attempts=1, duplicates=e % 7 == 0,
                         received_at=now, error="ValueError: bench" if e % 50 == 0 else None) for e in range(2000)]
    return out


def seed(n: int) -> None:
    from sqlalchemy import insert

    from journey import db, models
    from journey.team import service as team_service

    today, now = date.today(), datetime.now(UTC)
    with db.transaction() as session:
        for email, role in [("admin@bench.example", "admin"), ("ae@bench.example", "ae")] + \
                [(f"csm{i}@bench.example", "csm") for i in range(CSMS)] + \
                [(f"am{i}@bench.example", "am") for i in range(AMS)] + [("manager@bench.example", "manager")]:
            team_service.create_member(session, email=email, name=email.split("@")[0], role=role,
                                       password="bench-password-1")
    tables = [("account", models.Account), ("deal", models.Deal), ("journey", models.Journey),
              ("milestone", models.Milestone), ("task", models.PlanTask), ("packet", models.HandoffPacket),
              ("version", models.PacketVersion), ("review", models.Review), ("reminder", models.Reminder),
              ("score", models.HealthScore), ("history", models.HealthHistory), ("event", models.InboundEvent)]
    rows = _rows(n, today, now)
    started = time.monotonic()
    for name, model in tables:
        with db.transaction() as session:
            for chunk in range(0, len(rows[name]), 5000):
                session.execute(insert(model), rows[name][chunk:chunk + 5000])
    if db.get_engine().dialect.name == "postgresql":  # what autovacuum does after a bulk load (off on test servers)
        with db.get_engine().connect() as conn:
            conn.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql("ANALYZE")
    print(f"seeded {n:,} accounts, {len(rows['task']):,} tasks, {len(rows['history']):,} health points "
          f"in {time.monotonic() - started:.1f} s")


def _empty() -> bool:
    from sqlalchemy import func, select

    from journey import db, models

    with db.transaction(writer=False) as session:
        return not session.scalar(select(func.count()).select_from(models.Account))


def _signed_in(client, email: str):  # type: ignore[no-untyped-def]
    import re

    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/signin").text).group(1)
    response = client.post("/signin", data={"email": email, "password": "bench-password-1", "csrf_token": token},
                           follow_redirects=False)
    assert response.status_code == 303, response.text[:300]
    return client


def measure(runs: int) -> list[tuple[str, str, float, float]]:
    from fastapi.testclient import TestClient

    from journey.app import create_app
    from journey.web import team_pages

    app = create_app(start_runner=False)
    pages = {
        "manager@bench.example": ["/", "/?q=Account%2009", "/?attention=overdue", "/?page=100", "/accounts/5000",
                                  "/accounts/5000/handoff", "/reviews", "/reminders", "/team", "/team (cold)"],
        "csm3@bench.example": ["/", "/accounts/3", "/reviews", "/team"],
        "am3@bench.example": ["/reminders"],
        "admin@bench.example": ["/admin/inbox", "/admin/inbox?tab=dead"],
    }
    results = []
    for email, paths in pages.items():
        with TestClient(app) as client:
            _signed_in(client, email)
            for label in paths:
                path, cold = label.removesuffix(" (cold)"), label.endswith(" (cold)")
                assert client.get(path).status_code == 200, path
                timings, cpu = [], []
                for _ in range(runs):
                    if cold:  # the dashboard's once-a-minute computation, every time
                        team_pages._cache.clear()
                    started, started_cpu = time.perf_counter(), time.process_time()
                    response = client.get(path)
                    timings.append((time.perf_counter() - started) * 1000)
                    cpu.append((time.process_time() - started_cpu) * 1000)
                    assert response.status_code == 200
                results.append((email.split("@")[0], label, statistics.median(timings), _p95(timings), _p95(cpu)))
    return results


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[max(0, int(len(ordered) * 0.95) - 1)]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=60)
    parser.add_argument("--database-url", default=None, help="default: a fresh SQLite file")
    parser.add_argument("--record", action="store_true", help="write the table into bench/RESULTS.md")
    args = parser.parse_args()
    from bench.common import workspace

    workspace("pages")
    if args.database_url:
        os.environ["JOURNEY_DATABASE_URL"] = args.database_url
    from journey import migrations

    migrations.upgrade()
    if _empty():
        seed(args.accounts)
    else:
        print("the database already holds accounts: measuring it as it is")
    results = measure(args.runs)
    lines = ["| viewer | page | p50 ms | p95 ms | CPU p95 ms |", "|---|---|---:|---:|---:|"]
    lines += [f"| {who} | `{path}` | {p50:.1f} | {p95:.1f}{' over budget' if p95 > BUDGET_MS else ''} | {cpu:.1f} |"
              for who, path, p50, p95, cpu in results]
    table = "\n".join(lines)
    dialect = os.environ["JOURNEY_DATABASE_URL"].split(":", 1)[0].split("+", 1)[0]
    worst = max(p95 for _, label, _, p95, _ in results if "(cold)" not in label)
    verdict = f"slowest p95 (cached dashboard): {worst:.1f} ms -> {'OK' if worst <= BUDGET_MS else 'OVER BUDGET'}"
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    note = (f"{args.accounts:,} accounts, {args.runs} requests per page, in-process TestClient, budget p95 < "
            f"{BUDGET_MS:.0f} ms. Load average {load:.1f} when done: CPU p95 is the process's CPU time per request "
            f"(what the page costs), p95 the wall time (what it costs on this shared machine). {verdict}.")
    print(f"\n{note}\n\n{table}")
    if args.record:
        from bench.common import record

        record(f"Web pages at {args.accounts:,} accounts ({dialect})", f"{table}\n\n{note}")
    return 0 if worst <= BUDGET_MS else 1


if __name__ == "__main__":
    sys.exit(main())
