"""Black-box harness of the reliability scenarios and the benchmarks.

`journey serve` runs as a subprocess (its own process group) on a free loopback port with a database of
its own; concurrent senders post signed deliveries to it over HTTP; the database is read at the end to
prove that nothing was lost or doubled. Traffic goes only to 127.0.0.1.
"""
from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from journey.webhooks.signatures import sign

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
SECRET = "whsec_" + base64.b64encode(b"reliability-secret-0123456789abc").decode()
RETRYABLE = {429, 502, 503, 504}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def scale() -> float:
    """RELIABILITY_SCALE: 1 runs the full sizes of the issue, 0.1 a tenth (the CI pass). Not JOURNEY_*:
    the test fixtures clear those."""
    return float(os.environ.get("RELIABILITY_SCALE", "1"))


def orchestrator() -> str:
    """The engine of the scenarios that exercise flow runs: the shipped default unless told otherwise."""
    return os.environ.get("RELIABILITY_ORCHESTRATOR", "prefect")


class Server:
    """One `journey serve` on 127.0.0.1 with its own data folder, database and Prefect home."""

    def __init__(self, work: Path, *, database_url: str | None = None, **env: str) -> None:
        self.work = work
        work.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.database_url = database_url or f"sqlite:///{work / 'journey.db'}"
        self.env = {k: v for k, v in os.environ.items() if not k.startswith(("JOURNEY_", "PREFECT_"))}
        self.env.update({
            "JOURNEY_DATABASE_URL": self.database_url, "JOURNEY_WEBHOOK_SECRET": SECRET, "JOURNEY_DEMO": "0",
            "JOURNEY_DATA_DIR": str(work / "var"), "JOURNEY_SECRET_KEY": "rel-" + uuid.uuid4().hex * 2,
            "JOURNEY_LOG_LEVEL": "WARNING", "PREFECT_HOME": str(work / "prefect"),
            "PREFECT_SERVER_ANALYTICS_ENABLED": "false", "DO_NOT_TRACK": "1", "PREFECT_LOGGING_LEVEL": "WARNING",
        })
        self.env.update(env)
        self.proc: subprocess.Popen[bytes] | None = None

    def cli(self, *args: str, stdin: str | None = None, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        return subprocess.run([str(BIN / "journey"), *args], cwd=self.work, env=self.env, input=stdin,
                              capture_output=True, text=True, timeout=timeout, check=False)

    def migrate(self) -> None:
        result = self.cli("db", "upgrade")
        assert result.returncode == 0, result.stderr[-2000:]

    def start(self, timeout: float = 120) -> Server:
        with open(self.work / "serve.log", "ab") as log:
            self.proc = subprocess.Popen(
                [str(BIN / "journey"), "serve", "--host", "127.0.0.1", "--port", str(self.port)],
                cwd=self.work, env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"journey serve exited {self.proc.returncode}: {self.log_tail()}")
            try:
                if httpx.get(self.base + "/healthz", timeout=2).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        self.stop(signal.SIGKILL)
        raise AssertionError(f"journey serve not ready within {timeout:.0f} s: {self.log_tail()}")

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 30) -> None:
        """Signal the server's whole process group (Prefect's temporary server dies with it)."""
        if self.proc is None or self.proc.poll() is not None:
            return
        os.killpg(self.proc.pid, sig)
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)

    def log_tail(self, chars: int = 3000) -> str:
        try:
            return (self.work / "serve.log").read_text(errors="replace")[-chars:]
        except OSError:
            return "(no log)"

    def engine(self):  # type: ignore[no-untyped-def]
        from sqlalchemy import create_engine
        from sqlalchemy.pool import NullPool

        return create_engine(self.database_url, poolclass=NullPool)

    def __enter__(self) -> Server:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


@dataclass(frozen=True)
class Delivery:
    """One webhook delivery: its id (the CRM's retry key), its JSON body and the deal it is about."""

    msg_id: str
    body: bytes
    deal: str

    @classmethod
    def of(cls, payload: dict[str, Any], msg_id: str | None = None) -> Delivery:
        return cls(msg_id or "msg_" + uuid.uuid4().hex, json.dumps(payload).encode(),
                   str(payload["data"]["deal"]["id"]))


@dataclass(frozen=True)
class Outcome:
    delivery: Delivery
    status: int | None  # None: no HTTP answer (connection refused or reset, timeout)
    seconds: float
    attempts: int
    retry_after: str | None = None
    code: str | None = None


def headers_for(delivery: Delivery, secret: str = SECRET) -> dict[str, str]:
    ts = int(time.time())
    return {"webhook-id": delivery.msg_id, "webhook-timestamp": str(ts), "content-type": "application/json",
            "webhook-signature": sign(secret=secret, msg_id=delivery.msg_id, timestamp=ts, body=delivery.body)}


async def _post(client: httpx.AsyncClient, url: str, delivery: Delivery) -> tuple[int | None, httpx.Response | None]:
    try:
        response = await client.post(url, content=delivery.body, headers=headers_for(delivery))
        return response.status_code, response
    except httpx.HTTPError:
        return None, None


async def _send_one(client: httpx.AsyncClient, url: str, delivery: Delivery, retry_until: float | None,
                    on_answer: Callable[[Outcome], None] | None) -> Outcome:
    started, attempts = time.perf_counter(), 0
    while True:
        attempts += 1
        status, response = await _post(client, url, delivery)
        outcome = Outcome(delivery, status, time.perf_counter() - started, attempts,
                          response.headers.get("retry-after") if response is not None else None,
                          _code(response))
        if on_answer is not None:
            on_answer(outcome)
        if retry_until is None or (status is not None and status not in RETRYABLE) or time.monotonic() > retry_until:
            return outcome
        # a CRM honours Retry-After; the scenarios cap it so they stay short
        wait = float(outcome.retry_after) if outcome.retry_after and outcome.retry_after.isdigit() else 0.5
        await asyncio.sleep(min(wait, 1.0))


def _code(response: httpx.Response | None) -> str | None:
    if response is None or response.status_code < 400:
        return None
    try:
        return response.json().get("code")
    except ValueError:
        return "(not JSON)"


async def send_all(base: str, deliveries: Iterable[Delivery], *, senders: int = 16, retry_for: float | None = None,
                   on_answer: Callable[[Outcome], None] | None = None, timeout: float = 30) -> list[Outcome]:
    """Post every delivery from `senders` concurrent senders, in the given order. With `retry_for`,
    a sender re-sends on no answer or a retryable status (503 ...) until that many seconds have passed."""
    queue: asyncio.Queue[Delivery] = asyncio.Queue()
    for d in deliveries:
        queue.put_nowait(d)
    retry_until = time.monotonic() + retry_for if retry_for is not None else None
    outcomes: list[Outcome] = []
    limits = httpx.Limits(max_connections=senders, max_keepalive_connections=senders)
    async with httpx.AsyncClient(timeout=timeout, limits=limits) as client:
        async def sender() -> None:
            while not queue.empty():
                delivery = queue.get_nowait()
                outcomes.append(await _send_one(client, base + "/webhooks/events", delivery, retry_until, on_answer))

        await asyncio.gather(*(sender() for _ in range(senders)))
    return outcomes


def wait_until(predicate: Callable[[], Any], *, timeout: float, step: float = 0.5) -> Any:
    deadline = time.monotonic() + timeout
    value = predicate()
    while not value and time.monotonic() < deadline:
        time.sleep(step)
        value = predicate()
    return value


def kill_tree(pid: int) -> int:
    """SIGKILL a process and every descendant, by pid; how many were killed. Prefect starts a flow run's
    process in a session of its own, so killing a worker's process group would leave its flow runs working."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            ppid = int(stat.read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(ppid, []).append(int(stat.parent.name))
    tree, todo = [], [pid]
    while todo:
        tree.append(todo.pop())
        todo += children.get(tree[-1], [])
    for p in tree:
        with contextlib.suppress(ProcessLookupError):
            os.kill(p, signal.SIGKILL)
    return len(tree)
