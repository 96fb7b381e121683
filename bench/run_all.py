"""`make bench`: every benchmark in turn, each regenerating its section of bench/RESULTS.md.

Small default sizes keep it to a few minutes; `--full` (make bench BENCH_ARGS=--full) runs the sizes
the issue names (1,000 deals, 10,000 requests). A benchmark that fails is reported and the others run.
"""
from __future__ import annotations

import os
import subprocess
import sys
import time

BENCHES = [
    ("bench.cli_start", []),
    ("bench.ingest", ["--full"]),
    ("bench.burst", ["--full"]),
    ("bench.flow_overhead", ["--deals", "200", "--rounds", "3"]),
]


def main() -> None:
    full = "--full" in sys.argv[1:]
    failed = []
    print(f"load average before: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores (others' work skews results)")
    for module, full_args in BENCHES:
        started = time.perf_counter()
        print(f"== {module}", flush=True)
        done = subprocess.run([sys.executable, "-m", module, *(full_args if full else [])], check=False)
        print(f"== {module}: {'ok' if done.returncode == 0 else 'FAILED'} in {time.perf_counter() - started:.0f} s",
              flush=True)
        if done.returncode != 0:
            failed.append(module)
    if failed:
        sys.exit(f"failed: {', '.join(failed)}")


if __name__ == "__main__":
    main()
