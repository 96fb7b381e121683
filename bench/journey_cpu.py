"""CPU per deal.signed journey, and where it goes: a cProfile of the same journeys.

Deliveries are stored first (the webhook route, in-process), then the inbox is drained as the embedded
runner does with `JOURNEY_ORCHESTRATOR=inline` (the flow's steps as plain calls: Prefect's engine cost is
bench/flow_overhead's business). CPU is `time.process_time()` of this one process, so other work on the
machine does not count; wall time is shown beside it. The profile's top lines (by own time and by
cumulative time) say what a journey spends its CPU on. Target: <= 10 ms of CPU per journey on SQLite.
Side by side, in alternating rounds of fresh processes: the same measurement of `--baseline` (a git revision,
main before #20 by default), extracted with `git archive`.
    .venv/bin/python -m bench.journey_cpu [--deals 200] [--profile 100] [--baseline REV] [--rounds 2]
"""
from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import pstats
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.common import SECRET, record, target, workspace

TARGET_MS = 10.0
BASELINE = "0154072"  # main before the #20 changes


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
    try:
        from flows.runner import claim_batch, process_batch
    except ImportError:  # the baseline arm runs this file on a revision from before the runner moved into flows/
        from journey.runner import claim_batch, process_batch  # type: ignore[no-redef]
    from journey.config import get_settings

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
    from journey import logs, migrations
    from journey.config import get_settings

    get_settings.cache_clear()
    logs.configure(get_settings().log_level)  # as `journey serve` does: its debug lines are dropped, not printed
    try:
        from journey.scheduler import collect_for_batches
    except ImportError:  # the baseline arm's revision predates it
        pass
    else:
        collect_for_batches()  # journeys run in the runner child, whose collector is tuned so
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


def _arm(root: Path, deals: int) -> dict[str, float]:
    """One measurement in a fresh process running the code under `root` (this file, that checkout's journey)."""
    out = subprocess.run([sys.executable, str(Path(__file__).resolve()), "--json", "--deals", str(deals),
                          "--profile", "20"], cwd=root, env={**os.environ, "PYTHONPATH": str(root)},
                         capture_output=True, text=True, check=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def side_by_side(revision: str, deals: int, rounds: int) -> str:
    """`revision` (git archive of it) and this checkout measured in alternating rounds: a table of medians."""
    here = Path(__file__).resolve().parent.parent
    base = Path(tempfile.mkdtemp(prefix="journey-bench-cpu-base-"))
    archive = subprocess.run(["git", "archive", revision], cwd=here, capture_output=True, check=True).stdout
    subprocess.run(["tar", "-x", "-C", str(base)], input=archive, check=True)
    arms: dict[str, list[dict[str, float]]] = {f"before #20 ({revision})": [], "this revision": []}
    for _ in range(rounds):
        for name, root in zip(arms, (base, here), strict=True):
            arms[name].append(_arm(root, deals))
    med = {name: {k: statistics.median(r[k] for r in runs) for k in ("cpu_ms", "statements", "calls")}
           for name, runs in arms.items()}
    first = med[f"before #20 ({revision})"]
    rows = [f"| {name} | {m['cpu_ms']:.1f} ms ({m['cpu_ms'] / first['cpu_ms']:.2f}x) | {m['statements']:.0f} | "
            f"{m['calls'] / 1000:.1f} k |" for name, m in med.items()]
    return ("| code | CPU per journey (ratio) | SQL statements per journey | Python calls per journey |\n"
            "|---|---|---|---|\n" + "\n".join(rows) + f"\n\nSide by side: {deals} journeys per arm, alternating "
            f"in {rounds} rounds, each a fresh process and database; medians.")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--deals", type=int, default=200)
    parser.add_argument("--profile", type=int, default=100, help="journeys run under cProfile")
    parser.add_argument("--lines", type=int, default=15)
    parser.add_argument("--baseline", default=BASELINE, help="git revision measured side by side ('' : none)")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--json", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    workspace("journey-cpu")
    if args.json:
        r = measure(args.deals, args.profile, 1)
        print(json.dumps({k: v for k, v in r.items() if not str(k).startswith("by_")}))
        return
    compared = side_by_side(args.baseline, args.deals, args.rounds) if args.baseline else ""
    r = measure(args.deals, args.profile, args.lines)
    verdict = "met" if r["cpu_ms"] <= TARGET_MS else f"missed by {r['cpu_ms'] / TARGET_MS - 1:.0%}"
    table = ("| journeys | CPU per journey | wall per journey | SQL statements per journey | Python calls per "
             "journey (profiled) | target |\n|---|---|---|---|---|---|\n"
             f"| {r['journeys']} | {r['cpu_ms']:.1f} ms | {r['wall_ms']:.1f} ms | {r['statements']:.0f} | "
             f"{r['calls'] / 1000:.1f} k | <= {TARGET_MS:.0f} ms CPU: **{verdict}** |\n\n"
             f"{compared}\n\nStatements and calls do not depend on the machine's load; CPU time does (caches and "
             "the sibling hyperthread are shared).\n\n"
             "deal.signed journeys (account, people, deal, journey, owners, plan, packet, reviews, audit), drained "
             "inline in runner batches on a fresh SQLite database after a warm-up, in a process whose collector is "
             "tuned as the runner child's (`scheduler.collect_for_batches`); CPU is this process's "
             f"`time.process_time()`. Load average at the end: {os.getloadavg()[0]:.1f} on "
             f"{os.cpu_count()} cores.\n\n"
             f"cProfile of {r['profiled']} more journeys, top {args.lines} by own time:\n\n"
             f"```\n{r['by_tottime']}\n```\n\n"
             f"...and by cumulative time:\n\n```\n{r['by_cumtime']}\n```")
    section = "CPU per deal.signed journey (SQLite, inline) and its profile"
    record(section, table)
    target("CPU per deal.signed journey (SQLite)", goal=f"<= {TARGET_MS:.0f} ms", measured=f"{r['cpu_ms']:.1f} ms",
           met=r["cpu_ms"] <= TARGET_MS, section=section)


if __name__ == "__main__":
    main()
