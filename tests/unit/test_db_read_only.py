"""A SQLite connection that cannot write (opened while the file was read-only) is dropped, not pooled."""
from __future__ import annotations

import sqlite3

import pytest
from sqlalchemy.exc import OperationalError

from journey import db


def test_a_connection_to_a_read_only_file_is_dropped_from_the_pool(tmp_path) -> None:
    path = tmp_path / "journey.db"
    with sqlite3.connect(path) as setup:
        setup.execute("PRAGMA journal_mode=WAL")  # as journey leaves it: opening read-only then writes nothing
        setup.execute("CREATE TABLE t (x INTEGER)")
    engine = db.engine_for(f"sqlite:///file:{path}?mode=ro&uri=true", writer=False)
    with engine.connect() as conn:
        with pytest.raises(OperationalError, match="readonly database"):
            conn.exec_driver_sql("INSERT INTO t VALUES (1)")
        assert conn.invalidated
    engine.dispose()
