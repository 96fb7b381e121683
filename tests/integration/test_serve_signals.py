"""`journey serve` stopped by a signal stops every process it started: Prefect's temporary server too.

`kill PID`, systemd and Docker send SIGTERM to the main process only, not to its process group, so the
server must stop its children itself; a child left behind keeps listening, re-parented to init.
"""
from __future__ import annotations

import contextlib
import os
import signal
import socket
import time
from pathlib import Path

import httpx
import pytest

from tests.builders import deal_signed
from tests.reliability.server import Delivery, Server, headers_for, wait_until

pytestmark = pytest.mark.prefect


def _stat(pid: int) -> list[str] | None:
    """The fields of /proc/<pid>/stat after the command name (state, ppid, pgrp, session, ...)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None


def _alive(pid: int) -> bool:
    fields = _stat(pid)
    return fields is not None and fields[0] != "Z"  # a zombie has exited; only its parent's reaping is left


def _processes() -> dict[int, list[str]]:
    found = {}
    for entry in Path("/proc").glob("[0-9]*"):
        fields = _stat(int(entry.name))
        if fields is not None:
            found[int(entry.name)] = fields
    return found


def _descendants(pid: int) -> set[int]:
    children: dict[int, list[int]] = {}
    for child, fields in _processes().items():
        children.setdefault(int(fields[1]), []).append(child)
    tree, todo = set(), [pid]
    while todo:
        todo += children.get(todo.pop(), [])
        tree.update(todo)
    return tree


def _in_session(session: int) -> set[int]:
    return {pid for pid, fields in _processes().items() if int(fields[3]) == session and fields[0] != "Z"}


def _listening(port: int) -> bool:
    with contextlib.closing(socket.socket()) as sock:
        sock.settimeout(1)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def _port_of(pid: int) -> int | None:
    args = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    return int(args[args.index(b"--port") + 1]) if b"--port" in args else None


def _engine_state(base: str) -> str | None:
    """Once Prefect's temporary server answered (`ready`) or failed to start (`unavailable`)."""
    with contextlib.suppress(httpx.HTTPError, ValueError):
        state = httpx.get(base + "/readyz", timeout=5).json().get("flow_engine")
        return state if state in ("ready", "unavailable") else None
    return None


def _serving_with_prefect(server: Server) -> tuple[int, set[int], set[int]]:
    """Start `server`, send it a deal so its runner starts Prefect's temporary server, wait for the engine:
    the main pid, its process tree and the ports they listen on."""
    server.start(timeout=60)
    delivery = Delivery.of(deal_signed())
    assert httpx.post(server.base + "/webhooks/events", content=delivery.body,
                      headers=headers_for(delivery), timeout=30).status_code == 202
    assert wait_until(lambda: _engine_state(server.base), timeout=90) == "ready", server.log_tail()
    pid = server.proc.pid
    tree = _descendants(pid)
    return pid, tree, {server.port, *filter(None, map(_port_of, tree))}


@pytest.mark.parametrize("sig", [signal.SIGTERM])
@pytest.mark.real_clock  # the server it starts reads the machine's clock (webhook timestamps)
def test_a_signal_to_serve_stops_prefects_temporary_server_within_10_s(tmp_path, sig) -> None:
    server = Server(tmp_path / "serve", JOURNEY_ORCHESTRATOR="prefect", JOURNEY_DATA_DIR=str(tmp_path / "data"))
    server.env.pop("PREFECT_HOME")  # journey's own default: under the data folder, which does not exist yet
    tree: set[int] = set()
    try:
        pid, tree, ports = _serving_with_prefect(server)
        assert tree and len(ports) > 1, f"no Prefect server among the children: {tree}"

        os.kill(pid, sig)  # the main process only, as `kill`, systemd and Docker do
        started = time.monotonic()
        server.proc.wait(timeout=10)
        gone = wait_until(lambda: not any(map(_alive, tree)) and not _in_session(pid),
                          timeout=max(0.1, 10 - (time.monotonic() - started)), step=0.1)
        elapsed = time.monotonic() - started
        assert gone, f"still running {elapsed:.1f} s after {sig.name}: {sorted(p for p in tree if _alive(p))}"
        assert [p for p in ports if _listening(p)] == []
        assert server.proc.returncode == 0, server.log_tail()
    finally:
        for leftover in {*tree, *_in_session(server.proc.pid if server.proc else -1)}:
            with contextlib.suppress(ProcessLookupError):
                os.kill(leftover, signal.SIGKILL)
        server.stop(signal.SIGKILL)


@pytest.mark.real_clock
def test_sigkill_of_serve_leaves_neither_its_runner_nor_prefects_server_behind(tmp_path) -> None:
    """The runner runs in a child process (with Prefect's temporary server under it): a SIGKILL of the
    main process alone, which no handler can see, must not leave them running, re-parented to init."""
    server = Server(tmp_path / "serve", JOURNEY_ORCHESTRATOR="prefect")
    tree: set[int] = set()
    try:
        pid, tree, ports = _serving_with_prefect(server)
        assert len(tree) >= 2 and len(ports) > 1, f"no runner process and Prefect server among the children: {tree}"

        os.kill(pid, signal.SIGKILL)  # the main process only
        server.proc.wait(timeout=10)
        gone = wait_until(lambda: not any(map(_alive, tree)) and not _in_session(pid), timeout=10, step=0.1)
        assert gone, f"still running 10 s after SIGKILL: {sorted(p for p in tree if _alive(p))}"
        assert [p for p in ports if _listening(p)] == []
    finally:
        for leftover in {*tree, *_in_session(server.proc.pid if server.proc else -1)}:
            with contextlib.suppress(ProcessLookupError):
                os.kill(leftover, signal.SIGKILL)
        server.stop(signal.SIGKILL)


@pytest.mark.real_clock
def test_a_runner_process_that_dies_is_started_again_and_the_inbox_still_drains(tmp_path) -> None:
    from tests.reliability import checks

    server = Server(tmp_path / "serve", JOURNEY_ORCHESTRATOR="inline")
    try:
        server.migrate()
        server.start(timeout=60)
        pid = server.proc.pid
        runners = lambda: {p for p in _descendants(pid) if b"journey.runner_process" in  # noqa: E731
                           Path(f"/proc/{p}/cmdline").read_bytes()} if _alive(pid) else set()
        first = wait_until(runners, timeout=30)
        assert len(first) == 1, first
        os.kill(first.pop(), signal.SIGKILL)
        delivery = Delivery.of(deal_signed("AFTER-KILL", "AK-C"))
        assert httpx.post(server.base + "/webhooks/events", content=delivery.body,
                          headers=headers_for(delivery), timeout=30).status_code == 202  # intake never waited
        engine = server.engine()
        assert wait_until(lambda: checks.pending_count(engine) == 0, timeout=60), server.log_tail()
        assert checks.journeys(engine).problems({"AFTER-KILL"}) == []
        assert wait_until(lambda: httpx.get(server.base + "/readyz", timeout=5).json()["flow_engine"] == "inline",
                          timeout=30)
        assert wait_until(lambda: httpx.get(server.base + "/readyz", timeout=5).json()["runner_process"] == "running",
                          timeout=30)  # the new child reported
        assert "runner.process_exited" in server.log_tail(20_000)
    finally:
        server.stop(signal.SIGKILL)
