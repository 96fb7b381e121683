"""Webhook intake: `journey serve` side by side with a minimal FastAPI receiver, on loopback.

The minimal receiver does the least a durable webhook endpoint must: read the body, check the Standard
Webhooks signature, parse the JSON, `INSERT ... ON CONFLICT DO NOTHING` one row and commit, on the same
kind of database with the same engine settings (SQLite WAL, `BEGIN IMMEDIATE`). Arms, in alternating
rounds, with the same httpx load generator (in this process, on the same 2 cores):
- closed loop: `--requests` signed deal.signed deliveries from `--senders` concurrent senders: req/s, p50, p99;
- open loop: a fixed `--rate` (200 req/s) for `--seconds`, latency counted from each request's scheduled
  start (no coordinated omission): p50, p99. Targets: the default serve >= 0.9x the minimal app; p99 <= 50 ms.
Arms: the minimal app; journey serve with no runner (JOURNEY_RUNNER=0); the default (its runner in a process
of its own, working on the same deliveries meanwhile); its runner as a thread of the server (before #20).
    .venv/bin/python -m bench.ingest [--full] [--no-record] [--arms minimal,intake,default]
"""
from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Annotated

import httpx
from fastapi import Depends, FastAPI, Header, HTTPException, Request

from bench.common import AS_USERS_RUN_IT, record, target
from tests.builders import deal_signed
from tests.reliability import checks
from tests.reliability.server import SECRET, Delivery, Server, free_port, headers_for, wait_until

MINIMAL_TABLE = ("CREATE TABLE IF NOT EXISTS delivery (id INTEGER PRIMARY KEY, external_id VARCHAR(300) UNIQUE, "
                 "body TEXT NOT NULL, received_at VARCHAR(40) NOT NULL)")
MINIMAL_INSERT = ("INSERT INTO delivery (external_id, body, received_at) VALUES (:e, :b, :r) "
                  "ON CONFLICT (external_id) DO NOTHING RETURNING id")


async def raw_body(request: Request) -> bytes:
    return await request.body()


def create_minimal_app() -> FastAPI:
    """The minimal durable receiver (uvicorn factory); its database URL comes from BENCH_MINIMAL_DB."""
    from datetime import UTC, datetime

    from sqlalchemy import text

    from journey.db import engine_for
    from journey.webhooks import signatures
    from journey.webhooks.ingress import parse_json_object

    engine = engine_for(os.environ["BENCH_MINIMAL_DB"])
    with engine.begin() as conn:
        conn.execute(text(MINIMAL_TABLE))
    app = FastAPI()

    @app.post("/webhooks/events", status_code=202)
    def receive(body: Annotated[bytes, Depends(raw_body)], webhook_id: Annotated[str, Header()],
                webhook_timestamp: Annotated[str, Header()], webhook_signature: Annotated[str, Header()]) -> dict:
        try:
            signatures.verify(secret=SECRET, msg_id=webhook_id, timestamp=webhook_timestamp,
                              signature_header=webhook_signature, body=body, now=time.time(), tolerance_seconds=300)
        except signatures.SignatureError as exc:
            raise HTTPException(401, str(exc)) from exc
        parse_json_object(body)
        with engine.begin() as conn:
            new_id = conn.execute(text(MINIMAL_INSERT), {"e": webhook_id, "b": body.decode(),
                                                         "r": datetime.now(UTC).isoformat()}).scalar()
        return {"event_id": new_id, "duplicate": new_id is None}

    return app


class MinimalServer:
    def __init__(self, work: Path) -> None:
        self.port, self.work = free_port(), work
        self.base = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> MinimalServer:
        env = {**os.environ, "BENCH_MINIMAL_DB": f"sqlite:///{self.work / 'minimal.db'}"}
        with open(self.work / "minimal.log", "ab") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "uvicorn", "bench.ingest:create_minimal_app", "--factory", "--host",
                 "127.0.0.1", "--port", str(self.port), "--no-access-log", "--log-level", "warning"],
                env=env, cwd=Path(__file__).resolve().parent.parent, stdout=log, stderr=subprocess.STDOUT)
        if not wait_until(lambda: _up(self.base), timeout=60, step=0.2):
            self.__exit__()
            raise AssertionError("minimal app did not start: " + (self.work / "minimal.log").read_text()[-2000:])
        return self

    def __exit__(self, *exc: object) -> None:
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(30)


def _up(base: str) -> bool:
    try:
        return httpx.get(base + "/openapi.json", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def _deliveries(tag: str, n: int) -> list[Delivery]:
    return [Delivery.of(deal_signed(f"{tag}-{i}", f"{tag}C-{i}")) for i in range(n)]


async def _one(client: httpx.AsyncClient, url: str, d: Delivery, since: float) -> tuple[int | None, float]:
    try:
        status = (await client.post(url, content=d.body, headers=headers_for(d))).status_code
    except httpx.HTTPError:
        status = None
    return status, time.perf_counter() - since


async def closed_loop(base: str, deliveries: list[Delivery], senders: int) -> tuple[float, list[float], list]:
    queue = list(reversed(deliveries))
    results: list[tuple[int | None, float]] = []
    async with httpx.AsyncClient(timeout=10, limits=httpx.Limits(max_connections=senders)) as client:
        async def sender() -> None:
            while queue:
                results.append(await _one(client, base + "/webhooks/events", queue.pop(), time.perf_counter()))

        started = time.perf_counter()
        await asyncio.gather(*(sender() for _ in range(senders)))
        elapsed = time.perf_counter() - started
    return len(results) / elapsed, [s for _, s in results], [status for status, _ in results]


async def open_loop(base: str, deliveries: list[Delivery], rate: float) -> tuple[list[float], list]:
    async with httpx.AsyncClient(timeout=10, limits=httpx.Limits(max_connections=200)) as client:
        start, tasks = time.perf_counter(), []
        for i, d in enumerate(deliveries):
            scheduled = start + i / rate
            if (delay := scheduled - time.perf_counter()) > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(_one(client, base + "/webhooks/events", d, scheduled)))
        results = await asyncio.gather(*tasks)
    return [s for _, s in results], [status for status, _ in results]


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


def _measure(base: str, tag: str, args: argparse.Namespace) -> dict[str, float]:
    """Latencies count every request; failures (no answer within 10 s, or not 202) are counted apart."""
    rps, lat, statuses = asyncio.run(closed_loop(base, _deliveries(f"{tag}c", args.requests), args.senders))
    open_lat, open_statuses = asyncio.run(open_loop(base, _deliveries(f"{tag}o", int(args.rate * args.seconds)),
                                                    args.rate))
    errors = sum(status != 202 for status in statuses) + sum(status != 202 for status in open_statuses)
    return {"rps": rps, "p50": _pct(lat, 0.5), "p99": _pct(lat, 0.99), "open_p50": _pct(open_lat, 0.5),
            "open_p99": _pct(open_lat, 0.99), "errors": errors}


def _journey(work: Path, *, runner: bool, thread: bool = False) -> Server:
    extra = {} if runner else {"JOURNEY_RUNNER": "0", "JOURNEY_SCHEDULER": "0"}
    if thread:
        extra["JOURNEY_RUNNER_PROCESS"] = "0"
    server = Server(work, **AS_USERS_RUN_IT, **extra)
    server.migrate()
    server.start()
    if runner:  # let Prefect's temporary server boot before measuring, as it does once at start (until it
        # answers, events run inline: waiting for one processed event is not enough)
        engine = server.engine()
        asyncio.run(closed_loop(server.base, _deliveries("warm", 1), 1))
        assert wait_until(lambda: checks.pending_count(engine) == 0, timeout=180, step=0.5), server.log_tail()
        assert wait_until(lambda: httpx.get(f"{server.base}/readyz").json().get("flow_engine") == "ready",
                          timeout=240, step=1), server.log_tail()
    return server


MINIMAL = "minimal FastAPI + INSERT"
INTAKE = "journey serve (intake only: JOURNEY_RUNNER=0)"
DEFAULT = "journey serve (default: runner process working meanwhile)"
THREAD = "journey serve, runner as a thread working meanwhile (JOURNEY_RUNNER_PROCESS=0: before #20)"
ARMS = {"minimal": MINIMAL, "intake": INTAKE, "default": DEFAULT, "thread": THREAD}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=1500)
    parser.add_argument("--senders", type=int, default=16)
    parser.add_argument("--rate", type=float, default=200)
    parser.add_argument("--seconds", type=float, default=8)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--full", action="store_true", help="10,000 requests, 30 s open loop, 3 rounds")
    parser.add_argument("--no-record", action="store_true", help="print the table, do not write bench/RESULTS.md")
    parser.add_argument("--arms", default=",".join(ARMS),
                        help=f"comma-separated subset of {','.join(ARMS)} (the minimal app is always run)")
    args = parser.parse_args()
    if args.full:
        args.requests, args.seconds, args.rounds = 10_000, 30, 3
    work = Path(tempfile.mkdtemp(prefix="journey-bench-ingest-"))
    arms = {MINIMAL: lambda r: MinimalServer(work / f"min{r}"),
            INTAKE: lambda r: _journey(work / f"in{r}", runner=False),
            DEFAULT: lambda r: _journey(work / f"full{r}", runner=True),
            THREAD: lambda r: _journey(work / f"thread{r}", runner=True, thread=True)}
    chosen = {ARMS[name] for name in args.arms.split(",") if name in ARMS} | {MINIMAL}
    arms = {arm: make for arm, make in arms.items() if arm in chosen}
    results: dict[str, list[dict[str, float]]] = {arm: [] for arm in arms}
    for r in range(args.rounds):
        for arm, make in arms.items():
            (work / f"min{r}").mkdir(parents=True, exist_ok=True)
            with make(r) as server:
                results[arm].append(_measure(server.base, f"r{r}{len(results[arm])}{arm[:3]}", args))
    table = _table(results, args)
    if args.no_record:
        print(table)
    else:
        section = "Webhook intake: journey vs a minimal FastAPI receiver (SQLite, loopback)"
        record(section, table)
        if DEFAULT not in results or MINIMAL not in results:
            return  # the targets compare the default serve with the minimal receiver
        med = {arm: statistics.median(r["rps"] for r in runs) for arm, runs in results.items()}
        p99 = statistics.median(r["open_p99"] for r in results[DEFAULT])
        ratio = med[DEFAULT] / med[MINIMAL]
        target("intake, default serve / minimal receiver", goal=">= 0.9x", measured=f"{ratio:.2f}x", met=ratio >= 0.9,
               section=section)
        target(f"intake p99 at {args.rate:.0f} req/s, default serve", goal="<= 50 ms", measured=f"{p99:.0f} ms",
               met=p99 <= 50, section=section)


def _table(results: dict[str, list[dict[str, float]]], args: argparse.Namespace) -> str:
    med = {arm: {k: statistics.median(r[k] for r in runs) for k in runs[0]} for arm, runs in results.items()}
    base = med[MINIMAL]["rps"]
    rows = [f"| {arm} | {m['rps']:.0f} | {m['rps'] / base:.2f}x | {m['p50']:.0f} / {m['p99']:.0f} ms | "
            f"{m['open_p50']:.0f} / {m['open_p99']:.0f} ms | {m['errors']:.0f} |" for arm, m in med.items()]
    missing = {"rps": float("nan"), "open_p99": float("nan")}
    intake, full, thread = med.get(INTAKE, missing), med.get(DEFAULT, missing), med.get(THREAD, missing)
    ratio_ok = full["rps"] / base >= 0.9
    p99_ok = full["open_p99"] <= 50
    return (f"| arm | req/s ({args.senders} senders) | ratio | p50 / p99 | p50 / p99 at {args.rate:.0f} req/s "
            "| failed |\n"
            "|---|---|---|---|---|---|\n" + "\n".join(rows)
            + f"\n\n{args.requests} closed-loop requests and {args.seconds:.0f} s at {args.rate:.0f} req/s per arm and "
            f"round, medians of {args.rounds} rounds; the load generator shares the 2 cores. Targets, default serve "
            f"(its runner turning the same deliveries into journeys meanwhile): throughput >= 0.9x "
            f"**{'met' if ratio_ok else 'missed'}** ({full['rps'] / base:.2f}x); p99 <= 50 ms at {args.rate:.0f} req/s "
            f"**{'met' if p99_ok else 'missed'}** ({full['open_p99']:.0f} ms). Intake alone keeps "
            f"{intake['rps'] / base:.2f}x (p99 {intake['open_p99']:.0f} ms); with the runner as a thread of the "
            f"server, as before #20, {thread['rps'] / base:.2f}x (p99 {thread['open_p99']:.0f} ms). In its own "
            "process the runner competes with intake for the cores and SQLite's write lock only, not for the GIL "
            "(`journey_db_lock_wait_seconds` on /metrics counts the waits). Load average at the "
            f"end: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores (other work on the machine skews every arm).")


if __name__ == "__main__":
    main()
