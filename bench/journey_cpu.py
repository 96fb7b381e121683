"""CPU per deal.signed journey, and where it goes: a cProfile of the same journeys.

Deliveries are stored first (the webhook route, in-process), then the inbox is drained as the embedded
runner does with `JOURNEY_ORCHESTRATOR=inline` (the flow's steps as plain calls: Prefect's engine cost is
bench/flow_overhead's business). CPU is `time.process_time()` of this one process, so other work on the
machine does not count; wall time is shown beside it. The profile's top lines (by own time and by
cumulative time) say what a journey spends its CPU on. Target: <= 10 ms of CPU per journey on SQLite.
    .venv/bin/python -m bench.journey_cpu [--deals 200] [--profile 100] [--postgres URL]
"""
from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import pstats
import time

from bench.common import SECRET, record, workspace

TARGET_MS = 10.0
BEFORE = "31.0 ms of CPU, 111 SQL statements and 51.7 k Python calls per journey"


def _load(n: int, tag: str) -> None:
    from fastapi.testclient import TestClient

    from journey.app import create_app
    from tests.builders import deal_signed, signed_headers

    with TestClient(create_app(start_runner=False)) as client:
        for i in range(n):
            body = json.dumps(deal_signed(f"D-{tag}-{i}", f"C-{tag}-{i}")).encode()
            r = client.post("/webhooks/events", content=body, headers=signed_headers(body, secret=SECRET))
            assert r.status_code == 202, r.text


def _drain() -> tuple[int, float, float]:
    """(journeys, CPU seconds, wall seconds) to process everything due, inline, in runner batches."""
    from journey.config import get_settings
    from journey.runner import claim_batch, process_batch

    settings = get_settings().model_copy(update={"orchestrator": "inline"})
    done, cpu, wall = 0, time.process_time(), time.perf_counter()
    while batch := claim_batch(settings.runner_batch_size):
        outcomes = process_batch(batch, settings=settings)
        assert set(outcomes.values()) == {"processed"}, outcomes
        done += len(outcomes)
    return done, time.process_time() - cpu, time.perf_counter() - wall


def _top(profile: cProfile.Profile, key: str, n: int) -> str:
    out = io.StringIO()
    stats = pstats.Stats(profile, stream=out)
    stats.strip_dirs().sort_stats(key).print_stats(n)
    lines = out.getvalue().splitlines()
    start = next(i for i, line in enumerate(lines) if line.lstrip().startswith("ncalls"))
    return "\n".join(line.rstrip() for line in lines[start:] if line.strip())


def _counting_statements() -> list[int]:
    """A counter of the SQL statements the writer and reader engines run from now on (executemany: one)."""
    from sqlalchemy import event

    from journey import db

    count = [0]
    for writer in (True, False):
        event.listen(db.get_engine(writer=writer), "before_cursor_execute",
                     lambda *_args, **_kw: count.__setitem__(0, count[0] + 1))
    return count


def measure(deals: int, profiled: int, lines: int) -> dict[str, object]:
    from journey import migrations
    from journey.config import get_settings

    get_settings.cache_clear()
    migrations.upgrade()
    _load(5, "warm")
    _drain()  # imports, caches and the first statements compiled: what a running server has already paid
    _load(deals, "m")
    statements = _counting_statements()
    n, cpu, wall = _drain()
    per_journey = statements[0] / n
    _load(profiled, "p")
    profile = cProfile.Profile()
    profile.enable()
    pn, _, _ = _drain()
    profile.disable()
    calls = pstats.Stats(profile).total_calls / pn  # type: ignore[attr-defined]
    return {"journeys": n, "cpu_ms": cpu / n * 1000, "wall_ms": wall / n * 1000, "profiled": pn,
            "statements": per_journey, "calls": calls,
            "by_tottime": _top(profile, "tottime", lines), "by_cumtime": _top(profile, "cumulative", lines)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--deals", type=int, default=200)
    parser.add_argument("--profile", type=int, default=100, help="journeys run under cProfile")
    parser.add_argument("--lines", type=int, default=15)
    parser.add_argument("--label", default="", help="a note on the revision measured (e.g. 'before')")
    args = parser.parse_args()
    workspace("journey-cpu")
    r = measure(args.deals, args.profile, args.lines)
    verdict = "met" if r["cpu_ms"] <= TARGET_MS else f"missed by {r['cpu_ms'] / TARGET_MS - 1:.0%}"
    table = ("| journeys | CPU per journey | wall per journey | SQL statements per journey | Python calls per "
             "journey (profiled) | target |\n|---|---|---|---|---|---|\n"
             f"| {r['journeys']} | {r['cpu_ms']:.1f} ms | {r['wall_ms']:.1f} ms | {r['statements']:.0f} | "
             f"{r['calls'] / 1000:.1f} k | <= {TARGET_MS:.0f} ms CPU: **{verdict}** |\n\n"
             f"Before #20 (revision 0154072, same machine, load 1.3): {BEFORE}. Statements and calls do not depend "
             "on the machine's load; CPU time does (caches and the sibling hyperthread are shared).\n\n"
             "deal.signed journeys (account, people, deal, journey, owners, plan, packet, reviews, audit), drained "
             "inline in runner batches on a fresh SQLite database after a warm-up; CPU is this process's "
             f"`time.process_time()`. {args.label} Load average at the end: {os.getloadavg()[0]:.1f} on "
             f"{os.cpu_count()} cores.\n\n"
             f"cProfile of {r['profiled']} more journeys, top {args.lines} by own time:\n\n"
             f"```\n{r['by_tottime']}\n```\n\n"
             f"...and by cumulative time:\n\n```\n{r['by_cumtime']}\n```")
    record("CPU per deal.signed journey (SQLite, inline) and its profile", table)


if __name__ == "__main__":
    main()
