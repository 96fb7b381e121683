"""`make bench`: every benchmark in turn, each regenerating its section of bench/RESULTS.md.

Small default sizes keep it to about half an hour on 2 cores; `--full` (make bench BENCH_ARGS=--full) runs
the sizes the issues name (1,000 deals, 10,000 requests, 100,000 accounts and reviews, 10,000 accounts
of pages): a few hours. A benchmark that fails is reported and the others run. A section's header says
the date, machine and revision of the run that wrote it, and its sizes.
"""
from __future__ import annotations

import os
import subprocess
import sys
import time

# (module, arguments by default, arguments with --full): every section of bench/RESULTS.md.
BENCHES = [
    ("bench.cli_start", [], []),
    ("bench.ingest", [], ["--full"]),
    ("bench.footprint", ["--runner-thread"], ["--runner-thread"]),  # 1,000 deals: the #20 sizes either way
    ("bench.journey_cpu", [], ["--deals", "1000"]),
    ("bench.burst", [], ["--full"]),
    ("bench.flow_overhead", [], ["--deals", "200", "--rounds", "3"]),
    ("bench.health", ["--accounts", "2000"], ["--full"]),
    ("bench.evaluate", [], ["--full"]),
    ("bench.reminders", ["--reviews", "10000", "--no-jobstore"], []),
    ("bench.reminders", ["--reviews", "10000", "--no-jobstore", "--postgres"], ["--postgres"]),
    ("bench.pages", ["--accounts", "2000", "--record"], ["--record"]),
    ("bench.scale", ["--deals", "100"], ["--deals", "1000"]),
    ("bench.writeback", [], []),
]


def main() -> None:
    full = "--full" in sys.argv[1:]
    failed = []
    print(f"load average before: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores (others' work skews results)")
    for module, small_args, full_args in BENCHES:
        started = time.perf_counter()
        print(f"== {module}", flush=True)
        done = subprocess.run([sys.executable, "-m", module, *(full_args if full else small_args)], check=False)
        print(f"== {module}: {'ok' if done.returncode == 0 else 'FAILED'} in {time.perf_counter() - started:.0f} s",
              flush=True)
        if done.returncode != 0:
            failed.append(module)
    if failed:
        sys.exit(f"failed: {', '.join(failed)}")


if __name__ == "__main__":
    main()
