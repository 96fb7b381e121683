"""How long `journey --help` takes, as a ratio to `python -c "import typer"` (the floor of any Typer CLI).

Runs each command repeatedly as a subprocess, alternating, after a warm-up, and compares medians
(hyperfine's method, without hyperfine). Target: <= 1.5x.
    .venv/bin/python -m bench.cli_start [--runs 15]
"""
from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

from bench.common import record, target

BIN = Path(sys.executable).parent
TARGET = 1.5
HELP = ("import sys; sys.argv = ['journey', '--help']\nfrom journey.cli import main\n"
        "try:\n    main()\nexcept SystemExit:\n    pass")


def _time(cmd: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - started


def _heavy_imports() -> list[str]:
    """Modules of Prefect, FastAPI or SQLAlchemy that `journey --help` imports (should be none)."""
    code = (HELP + "\nprint(' '.join(sorted({m.split('.')[0] for m in sys.modules} & "
            "{'prefect', 'fastapi', 'sqlalchemy', 'uvicorn', 'httpx', 'pydantic'})), file=sys.stderr)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    return out.stderr.strip().splitlines()[-1].split() if out.stderr.strip() else []


def _largest_imports(n: int = 4) -> str:
    """The top-level imports that cost `journey --help` the most (cumulative, from -X importtime)."""
    err = subprocess.run([sys.executable, "-X", "importtime", "-c", HELP], capture_output=True, text=True,
                         check=False).stderr
    rows = []
    for line in err.splitlines():
        parts = line.removeprefix("import time:").split("|")
        if len(parts) == 3 and parts[1].strip().isdigit() and not parts[2].startswith("  "):
            rows.append((int(parts[1]), parts[2].strip()))
    return ", ".join(f"{name} {us / 1000:.0f} ms" for us, name in sorted(rows, reverse=True)[:n])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    arms = {"python -c 'import typer'": [sys.executable, "-c", "import typer"],
            "journey --help": [str(BIN / "journey"), "--help"]}
    for cmd in arms.values():  # warm the page cache and .pyc files
        _time(cmd)
    times: dict[str, list[float]] = {name: [] for name in arms}
    for _ in range(args.runs):
        for name, cmd in arms.items():
            times[name].append(_time(cmd))
    base = statistics.median(times["python -c 'import typer'"])
    ratio = statistics.median(times["journey --help"]) / base
    rows = [f"| `{name}` | {args.runs} | {statistics.median(t) * 1000:.0f} ms | {min(t) * 1000:.0f} ms | "
            f"{statistics.median(t) / base:.2f}x |" for name, t in times.items()]
    heavy = _heavy_imports()
    verdict = "met" if ratio <= TARGET else f"missed by {(ratio / TARGET - 1) * 100:.0f} %"
    table = ("| command | runs | median | fastest | ratio |\n|---|---|---|---|---|\n" + "\n".join(rows)
             + f"\n\nTarget <= {TARGET}x: **{verdict}** ({ratio:.2f}x). Heavy modules imported by `journey --help`: "
             + (", ".join(heavy) if heavy else "none (Prefect, FastAPI, SQLAlchemy, uvicorn, httpx load lazily)")
             + f". Largest imports of `journey --help` (cumulative): {_largest_imports()}. `import typer` alone does "
             "not load `typer.rich_utils`, which renders the help page.")
    record("CLI start: `journey --help`", table)
    target("`journey --help` / `import typer`", goal=f"<= {TARGET}x", measured=f"{ratio:.2f}x", met=ratio <= TARGET,
           section="CLI start: `journey --help`")


if __name__ == "__main__":
    main()
