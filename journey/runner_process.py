"""The embedded runner in a process of its own, so that intake never waits on processing.

`journey serve` answers webhooks (verify, one INSERT, commit, 202) and starts this module as a child:
`python -m journey.runner_process`. The child runs the same `EmbeddedRunner` (and, through it, Prefect's
temporary server) on the other core, and on SQLite the scheduler's jobs too (health recompute, reminders,
evaluations): none of the background work shares the interpreter that answers requests. Two pipes join them:
- wake (parent -> child): one byte per committed delivery wakes the runner at once (`w`), or says accounts
  were marked for evaluation (`e`: the scheduler evaluates them once the burst settles); end of file means
  the parent is gone (or stopping), and the child stops: finishes the batch in hand, stops Prefect's server;
- report (child -> parent): JSON lines with the flow engine's state (for /readyz) and the child's metrics
  (event outcomes, SQLite lock waits), counted into the parent's registry that /metrics serves.

The child never outlives its parent: on Linux it asks the kernel for SIGTERM when the parent dies (even by
SIGKILL), and everywhere it stops when its wake pipe closes or its parent pid changes. A child that dies
is started again by the parent (its leases expire, or are given back at the next start).
"""
from __future__ import annotations

import contextlib
import ctypes
import gc
import json
import os
import queue
import select
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import structlog

from journey import db, logs, metrics
from journey.config import Settings, get_settings
from journey.inbox.service import release_all_leases
from journey.scheduler import SchedulerService, collect_for_batches

log = structlog.get_logger("journey.runner_process")
STOP_SECONDS = 7.0  # at stop, how long the child may take (its batch, then Prefect's server) before SIGKILL
RESTART_BACKOFF = (1.0, 30.0)  # a child that keeps dying is restarted after 1 s, doubling up to 30 s
_PR_SET_PDEATHSIG = 1
WAKE, EVALUATE = b"w", b"e"  # wake-pipe bytes: a delivery was committed; accounts were marked for evaluation


class RunnerProcess:
    """The parent's handle on the runner child: `notify`, `engine_state` and `stop`, like EmbeddedRunner."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.runs_scheduler = settings.is_sqlite and settings.scheduler  # the embedded default's one scheduler
        self._state = "standby" if settings.orchestrator == "prefect" else "inline"
        self._stopping = threading.Event()
        self._lock = threading.Lock()
        self._proc: subprocess.Popen[bytes] | None = None
        self._wake_w: int | None = None
        self.restarts = 0
        self._stop_asked = 0.0
        self._reported = threading.Event()  # the current child has reported: its runner and scheduler run
        self._monitor: threading.Thread | None = None

    @property
    def engine_state(self) -> str:
        """As EmbeddedRunner's (inline, standby, starting, ready, unavailable); `restarting` while no child runs."""
        return self._state if self._child_alive() else self._no_child()

    @property
    def process_state(self) -> str:
        """For /readyz: `starting` until the child reports (it imports the flows and starts its runner and
        scheduler: a second or two), then `running`; `restarting` while no child runs."""
        if not self._child_alive():
            return self._no_child()
        return "running" if self._reported.is_set() else "starting"

    def _child_alive(self) -> bool:
        proc = self._proc
        return proc is not None and proc.poll() is None

    def _no_child(self) -> str:
        return "restarting" if not self._stopping.is_set() else "off"

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None

    def start(self) -> None:
        self._spawn()
        self._monitor = threading.Thread(target=self._watch, name="journey-runner-monitor", daemon=True)
        self._monitor.start()

    def notify(self, event_id: int | None = None) -> None:
        """Wake the child (a delivery was committed); never blocks: a full pipe already holds a wake-up."""
        self._send(WAKE)

    def evaluate_soon(self) -> None:
        """Accounts were marked for evaluation: the child's scheduler evaluates them once the burst settles."""
        if self.runs_scheduler:
            self._send(EVALUATE)

    def _send(self, byte: bytes) -> None:
        fd = self._wake_w
        if fd is None:
            return
        with contextlib.suppress(BlockingIOError, BrokenPipeError, OSError):
            os.write(fd, byte)

    def _spawn(self) -> None:
        wake_r, wake_w = os.pipe()
        report_r, report_w = os.pipe()
        os.set_blocking(wake_w, False)
        cmd = [sys.executable, "-m", "journey.runner_process", "--parent", str(os.getpid()),
               "--wake-fd", str(wake_r), "--report-fd", str(report_w)]
        if self.runs_scheduler:
            cmd.append("--scheduler")
        try:
            proc = subprocess.Popen(cmd, pass_fds=(wake_r, report_w), close_fds=True,  # noqa: S603 - our own module
                                    cwd=Path.cwd(), env=os.environ.copy())
        finally:
            os.close(wake_r)
            os.close(report_w)
        with self._lock:
            self._reported.clear()
            self._proc, self._wake_w, self._report_r = proc, wake_w, report_r
            self._state = "standby" if self.settings.orchestrator == "prefect" else "inline"
        log.info("runner.process_started", pid=proc.pid)

    def _watch(self) -> None:
        """Read the child's reports until it exits; then start a new one unless we are stopping."""
        backoff = RESTART_BACKOFF[0]
        while True:
            started = time.monotonic()
            with os.fdopen(self._report_r, "rb") as reports:
                for line in reports:
                    self._apply(line)
            proc = self._proc
            code = proc.wait() if proc is not None else None
            self._close_wake()
            if self._stopping.is_set():
                return
            log.warning("runner.process_exited", code=code, restart_in=backoff)
            if self._stopping.wait(backoff):
                return
            backoff = RESTART_BACKOFF[0] if time.monotonic() - started > 60 else min(backoff * 2, RESTART_BACKOFF[1])
            self.restarts += 1
            if self.settings.is_sqlite:
                with contextlib.suppress(Exception):
                    release_all_leases()  # the dead child's claims: nobody else works this inbox
            self._spawn()
            self.notify()

    def _apply(self, line: bytes) -> None:
        try:
            report = json.loads(line)
            kind = report["kind"]
            self._reported.set()
            if kind == "state":
                self._state = str(report["state"])
            elif kind == "outcome":
                metrics.outcome(*report["args"])
            elif kind == "lock_wait":
                metrics.lock_wait(*report["args"])
        except (ValueError, KeyError, TypeError) as exc:
            log.warning("runner.bad_report", error=str(exc)[:200])

    def _close_wake(self) -> None:
        with self._lock:
            fd, self._wake_w = self._wake_w, None
        if fd is not None:
            with contextlib.suppress(OSError):
                os.close(fd)

    def signal_stop(self) -> None:
        """Ask the child to stop: it finishes its batch and stops Prefect's server (`stop` waits for it)."""
        if not self._stopping.is_set():
            self._stopping.set()
            self._stop_asked = time.monotonic()
        self._close_wake()
        proc = self._proc
        if proc is not None and proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                proc.send_signal(signal.SIGTERM)

    def stop(self) -> None:
        """Ask the child to stop, then wait; SIGKILL its whole tree if it takes longer than STOP_SECONDS."""
        self.signal_stop()
        proc = self._proc
        if proc is None:
            return
        try:
            proc.wait(max(0.1, STOP_SECONDS - (time.monotonic() - self._stop_asked)))
        except subprocess.TimeoutExpired:
            log.warning("runner.process_killed", pid=proc.pid)
            _kill_tree(proc.pid)
            proc.wait(5)
        if self._monitor is not None:
            self._monitor.join(2)


def _kill_tree(pid: int) -> None:
    """SIGKILL a process and its descendants (read from /proc; just the process where there is none)."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, IndexError, ValueError):
            children.setdefault(int(stat.read_text().rsplit(")", 1)[1].split()[1]), []).append(int(stat.parent.name))
    tree, todo = [], [pid]
    while todo:
        tree.append(todo.pop())
        todo += children.get(tree[-1], [])
    for p in tree:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(p, signal.SIGKILL)


# --- the child ---------------------------------------------------------------------------------------------


class _Reporter:
    """JSON lines to the parent. `send` only queues (a flow step may call it holding SQLite's write lock, and
    a pipe write blocks while the parent is slow to read); the child's main thread `flush`es the queue."""

    def __init__(self, fd: int) -> None:
        self._file = os.fdopen(fd, "wb", buffering=0)
        self._queue: queue.SimpleQueue[bytes] = queue.SimpleQueue()

    def send(self, kind: str, **fields: Any) -> None:
        self._queue.put((json.dumps({"kind": kind, **fields}) + "\n").encode())

    def flush(self) -> None:
        lines = []
        with contextlib.suppress(queue.Empty):
            while len(lines) < 10_000:
                lines.append(self._queue.get_nowait())
        if lines:
            with contextlib.suppress(OSError, ValueError):  # the parent is gone: the wake pipe says so
                self._file.write(b"".join(lines))


def _die_with_parent(parent: int) -> None:
    """Linux: SIGTERM this process when its parent dies, SIGKILL included. Then check the parent did not
    die before the request took effect."""
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
    if os.getppid() != parent:
        sys.exit(0)


def lower_priority(nice: int) -> None:
    """Raise this process's niceness by `nice`: under load the kernel gives the cores to the server's requests
    first, and the runner's journeys, evaluations and jobs take what is left (they are queued work; intake is
    not). 2 cores, 10,000 signed deliveries from 16 senders: intake 0.89x of a minimal receiver with the runner
    at the same priority, 0.93x niced by 10 (2 rounds alternating). Where niceness cannot be raised, it stays."""
    if nice > 0 and hasattr(os, "nice"):
        with contextlib.suppress(OSError):
            os.nice(nice)


def child_main(parent: int, wake_fd: int, report_fd: int, *, scheduler: bool = False) -> None:
    _die_with_parent(parent)
    stopping = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopping.set())
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the whole group: the parent decides
    settings = get_settings()
    logs.configure(settings.log_level, settings.resolved_log_format)  # the parent's format: one log, one look
    reporter = _Reporter(report_fd)
    metrics.forward_to(lambda kind, args: reporter.send(kind, args=list(args)))
    db.set_role("runner")
    lower_priority(settings.runner_nice)
    from flows.runner import EmbeddedRunner  # lazy: flows load Prefect (~0.7 s), which the parent must never pay

    runner = EmbeddedRunner(settings)
    gc.freeze()  # what start-up imported lives as long as the process: out of the cyclic collector's walks
    collect_for_batches()
    runner.start()
    jobs = SchedulerService(settings, wake=runner.notify) if scheduler else None
    if jobs is not None:
        jobs.start()
    reported = None
    try:
        while not stopping.is_set():
            if runner.engine_state != reported:
                reported = runner.engine_state
                reporter.send("state", state=reported)
            reporter.flush()
            if os.getppid() != parent:
                break
            try:
                ready, _, _ = select.select([wake_fd], [], [], 0.5)
            except InterruptedError:
                continue
            if ready:
                data = os.read(wake_fd, 4096)
                if not data:
                    break  # the parent closed the pipe (stopping) or died
                if EVALUATE in data and jobs is not None:
                    jobs.evaluate_soon()
                if data.strip(EVALUATE):
                    runner.notify()
    finally:  # the scheduler and the runner stop side by side: the parent waits STOP_SECONDS in all
        stopping_jobs = threading.Thread(target=jobs.stop, kwargs={"timeout": 3}) if jobs is not None else None
        if stopping_jobs is not None:
            stopping_jobs.start()
        runner.stop()
        if stopping_jobs is not None:
            stopping_jobs.join(3)
        reporter.flush()


def main(argv: list[str] | None = None) -> None:
    import argparse

    parser = argparse.ArgumentParser(prog="python -m journey.runner_process")
    parser.add_argument("--parent", type=int, required=True)
    parser.add_argument("--wake-fd", type=int, required=True)
    parser.add_argument("--report-fd", type=int, required=True)
    parser.add_argument("--scheduler", action="store_true", help="also run the scheduler (embedded SQLite)")
    args = parser.parse_args(argv)
    child_main(args.parent, args.wake_fd, args.report_fd, scheduler=args.scheduler)


if __name__ == "__main__":
    main()
