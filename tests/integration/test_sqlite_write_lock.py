"""SQLite's write lock as intake sees it: a request waiting behind the runner's transaction gets the lock within
milliseconds of its release (not after one of SQLite's busy-handler sleeps, up to 100 ms)."""
from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy.exc import OperationalError

from journey import db

HOLD_SECONDS = 0.18  # SQLite's busy handler would try again at 178 and 228 ms: 48 ms late


@pytest.fixture()
def engine(tmp_path: Path):  # type: ignore[no-untyped-def]
    engine = db.engine_for(f"sqlite:///{tmp_path / 'lock.db'}")
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE t (x INTEGER)")
    yield engine
    engine.dispose()


def _hold_write_lock(path: str, seconds: float, released: list[float]) -> threading.Thread:
    holder = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    holder.execute("BEGIN IMMEDIATE")

    def release() -> None:
        time.sleep(seconds)
        holder.execute("INSERT INTO t VALUES (0)")
        holder.execute("COMMIT")
        released.append(time.perf_counter())
        holder.close()

    thread = threading.Thread(target=release)
    thread.start()
    return thread


def test_a_server_writer_gets_the_lock_right_after_the_holder_commits(engine) -> None:  # type: ignore[no-untyped-def]
    released: list[float] = []
    thread = _hold_write_lock(engine.url.database, HOLD_SECONDS, released)
    with engine.begin() as conn:
        acquired = time.perf_counter()
        conn.exec_driver_sql("INSERT INTO t VALUES (1)")
    thread.join()
    assert acquired - released[0] < 0.02  # tried every millisecond (plus scheduling)
    with engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT x FROM t ORDER BY rowid").scalars().all() == [0, 1]
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 30000  # back for the rest of the work


def test_a_server_writer_that_cannot_get_the_lock_fails_like_before(engine, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(db, "BUSY_TIMEOUT_SECONDS", 0.05)
    released: list[float] = []
    thread = _hold_write_lock(engine.url.database, 0.3, released)
    with pytest.raises(OperationalError, match="locked"), engine.begin() as conn:
        conn.exec_driver_sql("INSERT INTO t VALUES (1)")
    thread.join()
    with engine.begin() as conn:  # the connection went back to the pool usable
        conn.exec_driver_sql("INSERT INTO t VALUES (2)")
        assert conn.exec_driver_sql("SELECT x FROM t ORDER BY rowid").scalars().all() == [0, 2]
