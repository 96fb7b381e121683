"""SQLite on a full disk, and a database file that turns read-only under a running server.

Deliveries get 503 `database_unavailable` with `Retry-After` (never a 500, never a 2xx that is then
lost); once space or write access is back, a retrying sender gets everything in, every delivery is
processed once, and `PRAGMA integrity_check` says ok. Needs root (a tmpfs mount, `chattr +i`: root
ignores file modes); skipped with the reason otherwise.
    make reliability RELIABILITY_ARGS="-k disk"
"""
from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from tests.builders import deal_signed
from tests.reliability import checks
from tests.reliability.server import Delivery, Server, send_all, wait_until

pytestmark = pytest.mark.reliability


def _root_or_skip() -> None:
    if os.geteuid() != 0:
        pytest.skip("needs root: a tmpfs mount and chattr +i (root ignores read-only file modes)")


@contextlib.contextmanager
def _small_disk(path: Path, size: str = "8m") -> Iterator[Path]:
    path.mkdir(parents=True)
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)],
                             capture_output=True, text=True, check=False)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here: {mounted.stderr.strip()}")
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], check=False)


def _fill(disk: Path) -> Path:
    filler = disk / "filler"
    with open(filler, "wb", buffering=0) as f, contextlib.suppress(OSError):
        while True:
            f.write(b"\0" * 65536)
    return filler


def _deliveries(tag: str, n: int) -> list[Delivery]:
    return [Delivery.of(deal_signed(f"{tag}-{i}", f"{tag}C-{i}")) for i in range(n)]


def _scenario(server: Server, break_it: Callable[[], None], mend_it: Callable[[], None]) -> None:
    server.migrate()
    server.start()
    before, during = _deliveries("OK", 10), _deliveries("BAD", 40)
    assert {o.status for o in asyncio.run(send_all(server.base, before, senders=4))} == {202}
    engine = server.engine()
    assert wait_until(lambda: checks.pending_count(engine) == 0, timeout=60)
    break_it()
    try:
        refused = asyncio.run(send_all(server.base, during, senders=4))
    finally:
        mend_it()
    statuses = {o.status for o in refused}
    assert 500 not in statuses and None not in statuses, f"answers while broken: {statuses}\n{server.log_tail()}"
    failed = [o for o in refused if o.status != 202]
    assert failed, "no delivery was refused while the database could not be written"
    assert {(o.status, o.code, o.retry_after is not None) for o in failed} == {(503, "database_unavailable", True)}
    assert {o.status for o in asyncio.run(send_all(server.base, during, senders=4, retry_for=60))} == {202}
    assert wait_until(lambda: checks.pending_count(engine) == 0, timeout=120), server.log_tail()
    server.stop()
    with engine.connect() as conn:
        assert conn.execute(text("PRAGMA integrity_check")).scalar() == "ok"
    all_deliveries = before + during
    assert checks.inbox(engine).not_processed({d.msg_id for d in all_deliveries}) == {}
    assert checks.journeys(engine).problems({d.deal for d in all_deliveries}) == []


def test_full_disk_answers_503_and_loses_nothing_once_space_is_back(tmp_path):
    _root_or_skip()
    with _small_disk(tmp_path / "disk") as disk:
        server = Server(tmp_path / "full", database_url=f"sqlite:///{disk / 'journey.db'}",
                        JOURNEY_ORCHESTRATOR="inline")
        filler: list[Path] = []
        try:
            _scenario(server, lambda: filler.append(_fill(disk)), lambda: filler and filler[0].unlink())
        finally:
            server.stop()


def test_read_only_database_file_answers_503_and_recovers_without_corruption(tmp_path):
    _root_or_skip()
    work = tmp_path / "readonly"
    server = Server(work, JOURNEY_ORCHESTRATOR="inline")
    files = [str(work / "journey.db"), str(work / "journey.db-wal")]

    def chattr(flag: str) -> None:
        done = subprocess.run(["chattr", flag, *files], capture_output=True, text=True, check=False)
        if done.returncode != 0 and flag == "+i":
            pytest.skip(f"chattr +i is not supported here: {done.stderr.strip()}")

    try:
        _scenario(server, lambda: chattr("+i"), lambda: chattr("-i"))
    finally:
        subprocess.run(["chattr", "-i", *files], capture_output=True, check=False)
        server.stop()
