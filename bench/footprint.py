"""Start fast and small: `journey serve` from process start to its first accepted webhook, and the resident
memory of its whole process tree (runner process and Prefect's temporary server included).

Side by side in one run, on fresh SQLite databases: the minimal FastAPI receiver of bench/ingest (one
INSERT per delivery) is the floor of "start to first 202". Then, for `journey serve` as users run it:
- start to first 202, with signed deliveries posted every 20 ms from the moment the process is spawned
  (the database is empty: serve applies the migrations itself);
- RSS and PSS of the process tree idle on the empty database, then once one deal started Prefect's server;
- a burst of `--deals` signed deals from 16 senders: time until every journey is complete, and the tree's
  peak and settled memory after it.
RSS sums count shared pages once per process; PSS (/proc/PID/smaps_rollup) shares them out. Targets:
start <= 2 s; idle RSS <= 400 MB; after 1,000 deals <= 600 MB; 1,000 journeys complete <= 20 s.
    .venv/bin/python -m bench.footprint [--deals 1000] [--runner-thread]
"""
from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import tempfile
import threading
import time
from pathlib import Path

import httpx

from bench.common import AS_USERS_RUN_IT, record, target
from bench.ingest import MinimalServer
from tests.builders import deal_signed
from tests.reliability import checks
from tests.reliability.server import BIN, Delivery, Server, headers_for, send_all, wait_until

TARGETS = {"start": 2.0, "idle": 400, "after": 600, "burst": 20.0}


def _children() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            ppid = int(stat.read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        tree.setdefault(ppid, []).append(int(stat.parent.name))
    return tree


def tree_of(pid: int) -> list[int]:
    children, tree, todo = _children(), [], [pid]
    while todo:
        tree.append(todo.pop())
        todo += children.get(tree[-1], [])
    return tree


def _kb(path: str, field: str) -> int:
    try:
        for line in Path(path).read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def memory_mb(pid: int) -> tuple[float, float, int]:
    """(RSS sum, PSS sum, processes) of a process tree, in MB."""
    pids = tree_of(pid)
    rss = sum(_kb(f"/proc/{p}/status", "VmRSS") for p in pids)
    pss = sum(_kb(f"/proc/{p}/smaps_rollup", "Pss") for p in pids)
    return rss / 1024, pss / 1024, len(pids)


def first_202(base: str, started: float, timeout: float = 120) -> float:
    """Seconds from `started` until a signed delivery is accepted; posts every 20 ms meanwhile."""
    delivery = Delivery.of(deal_signed("FIRST", "FIRST-C"))
    with httpx.Client(timeout=5) as client:
        while time.perf_counter() - started < timeout:
            try:
                if client.post(base + "/webhooks/events", content=delivery.body,
                               headers=headers_for(delivery)).status_code == 202:
                    return time.perf_counter() - started
            except httpx.HTTPError:
                pass
            time.sleep(0.02)
    raise AssertionError(f"no 202 within {timeout:.0f} s")


def minimal_start(work: Path) -> float:
    work.mkdir(parents=True, exist_ok=True)
    server = MinimalServer(work)
    started = time.perf_counter()
    env = {**os.environ, "BENCH_MINIMAL_DB": f"sqlite:///{work / 'minimal.db'}"}
    server.proc = subprocess.Popen(
        [str(BIN / "python"), "-m", "uvicorn", "bench.ingest:create_minimal_app", "--factory", "--host",
         "127.0.0.1", "--port", str(server.port), "--no-access-log", "--log-level", "warning"],
        env=env, cwd=Path(__file__).resolve().parent.parent, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    try:
        return first_202(server.base, started)
    finally:
        server.__exit__()


def _engine_ready(base: str) -> bool:
    try:
        return httpx.get(base + "/readyz", timeout=5).json().get("flow_engine") in ("ready", "unavailable")
    except (httpx.HTTPError, ValueError):
        return False


def _spawn(server: Server, work: Path) -> float:
    with open(work / "serve.log", "ab") as log:
        started = time.perf_counter()
        server.proc = subprocess.Popen(
            [str(BIN / "journey"), "serve", "--host", "127.0.0.1", "--port", str(server.port)],
            cwd=work, env=server.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    return started


def _up(base: str) -> bool:
    try:
        return httpx.get(base + "/healthz", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def journey_arm(work: Path, deals: int, env: dict[str, str]) -> dict[str, float]:
    """Two fresh servers: one timed from spawn to its first 202; one measured idle, warmed, then bursting."""
    timed = Server(work / "start", **(AS_USERS_RUN_IT | env))
    try:
        start = first_202(timed.base, _spawn(timed, timed.work))
    finally:
        timed.stop()
    server = Server(work / "burst", **(AS_USERS_RUN_IT | env))
    try:
        _spawn(server, server.work)
        assert wait_until(lambda: _up(server.base), timeout=120, step=0.2), server.log_tail()
        time.sleep(5)  # idle on an empty database: nothing received yet
        idle_rss, idle_pss, idle_processes = memory_mb(server.proc.pid)
        warm = Delivery.of(deal_signed("WARM", "WARM-C"))
        t0 = time.perf_counter()
        assert httpx.post(server.base + "/webhooks/events", content=warm.body, headers=headers_for(warm),
                          timeout=30).status_code == 202
        ready = wait_until(lambda: _engine_ready(server.base), timeout=240, step=0.5)
        engine_up = time.perf_counter() - t0
        assert ready, server.log_tail()
        time.sleep(3)
        warm_rss, warm_pss, processes = memory_mb(server.proc.pid)
        peak = [0.0]
        stop = threading.Event()

        def sample() -> None:
            while not stop.wait(0.5):
                peak[0] = max(peak[0], memory_mb(server.proc.pid)[0])

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        engine = server.engine()
        burst = [Delivery.of(deal_signed(f"F-{i}", f"FC-{i}")) for i in range(deals)]
        t0 = time.perf_counter()
        outcomes = asyncio.run(send_all(server.base, burst, senders=16))
        posted = time.perf_counter() - t0
        assert {o.status for o in outcomes} == {202}, {o.status for o in outcomes}
        done = wait_until(lambda: checks.pending_count(engine) == 0, timeout=60 + deals, step=0.1)
        complete = time.perf_counter() - t0
        assert done, f"{checks.pending_count(engine)} still pending; {server.log_tail()}"
        stop.set()
        sampler.join()
        problems = checks.journeys(engine).problems({d.deal for d in burst} | {"WARM"})
        assert problems == [], problems[:5]
        time.sleep(3)
        after_rss, after_pss, _ = memory_mb(server.proc.pid)
    finally:
        server.stop()
    return {"start": start, "engine_up": engine_up, "idle_rss": idle_rss, "idle_pss": idle_pss,
            "idle_processes": idle_processes, "warm_rss": warm_rss, "warm_pss": warm_pss, "processes": processes,
            "posted": posted, "complete": complete, "peak_rss": max(peak[0], after_rss), "after_rss": after_rss,
            "after_pss": after_pss}


def _verdict(value: float, target: float, unit: str) -> str:
    if value <= target:
        return f"**met** ({value:.1f} {unit})"
    return f"**missed by {value / target - 1:.0%}** ({value:.1f} {unit} for {target:g} {unit})"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--deals", type=int, default=1000)
    parser.add_argument("--runner-thread", action="store_true",
                        help="also measure the runner as a thread of the server (JOURNEY_RUNNER_PROCESS=0)")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="journey-bench-footprint-"))
    floor = minimal_start(work / "minimal")
    arms = {"journey serve (default: runner process, Prefect engine)": {}}
    if args.runner_thread:
        arms["journey serve, runner as a thread (JOURNEY_RUNNER_PROCESS=0)"] = {"JOURNEY_RUNNER_PROCESS": "0"}
    results = {name: journey_arm(work / f"arm{i}", args.deals, env) for i, (name, env) in enumerate(arms.items())}
    rows = [f"| minimal FastAPI + INSERT | {floor:.2f} s (1.00x) | | | | | |"]
    rows += [f"| {name} | {r['start']:.2f} s ({r['start'] / floor:.2f}x) | "
             f"{r['idle_rss']:.0f} / {r['idle_pss']:.0f} MB ({r['idle_processes']:.0f}) | {r['engine_up']:.1f} s | "
             f"{r['warm_rss']:.0f} / {r['warm_pss']:.0f} MB ({r['processes']:.0f}) | "
             f"{r['complete']:.1f} s (posted in {r['posted']:.1f} s) | "
             f"{r['peak_rss']:.0f} / {r['after_rss']:.0f} / {r['after_pss']:.0f} MB |" for name, r in results.items()]
    main_arm = next(iter(results.values()))
    table = ("| arm | process start to first 202 | idle, empty database: RSS / PSS (processes) | first deal to "
             "Prefect engine up | then: RSS / PSS (processes) | "
             f"{args.deals} deals: all journeys complete | after: peak RSS / RSS / PSS |\n"
             "|---|---|---|---|---|---|---|\n" + "\n".join(rows)
             + f"\n\nTargets (default serve): start to first 202 <= {TARGETS['start']:g} s "
             f"{_verdict(main_arm['start'], TARGETS['start'], 's')}; idle RSS of the tree <= {TARGETS['idle']} MB "
             f"{_verdict(main_arm['idle_rss'], TARGETS['idle'], 'MB')}; after {args.deals} deals <= "
             f"{TARGETS['after']} MB {_verdict(main_arm['after_rss'], TARGETS['after'], 'MB')}; "
             f"{args.deals} journeys complete <= {TARGETS['burst']:g} s "
             f"{_verdict(main_arm['complete'], TARGETS['burst'], 's')}"
             + (" (the target is for 1,000)" if args.deals != 1000 else "") + ". "
             "Each arm: one fresh server timed from spawn to its first 202 (empty database: serve migrates it), "
             "another measured idle, then after one deal (Prefect's temporary server starts with the first event, "
             "in the background: events run inline until it answers), then through the burst from 16 senders. "
             "RSS sums count shared pages once per process, PSS shares them out. The load generator shares the 2 "
             f"cores. Load average at the end: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores.")
    section = "Start and footprint: `journey serve` (SQLite, embedded)"
    record(section, table)
    for name, key, goal, unit in (("start to first 202, default serve", "start", "start", "s"),
                                  ("RSS of the process tree, idle", "idle_rss", "idle", "MB"),
                                  (f"RSS of the process tree after {args.deals} deals", "after_rss", "after", "MB"),
                                  (f"{args.deals} signed deals: all journeys complete", "complete", "burst", "s")):
        value = main_arm[key]
        target(name, goal=f"<= {TARGETS[goal]:g} {unit}", measured=f"{value:.1f} {unit}", met=value <= TARGETS[goal],
               section=section)


if __name__ == "__main__":
    main()
