"""A SQLite connection that cannot write (opened while the file was read-only) is dropped, not pooled."""
from __future__ import annotations

import sqlite3

import pytest
from sqlalchemy import event
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


def test_a_webhook_writer_on_a_read_only_file_gets_database_unavailable_not_a_closed_connection(tmp_path) -> None:
    """The server's `BEGIN IMMEDIATE` polling when the file cannot be written: the error is the database's (a 503
    to the sender), not "Cannot operate on a closed database" from restoring the busy timeout on the connection
    that error just closed (a 500, seen in the reliability scenario with the file made immutable; here SQLite's
    `query_only` refuses the write the same way)."""
    db.set_role("server")
    engine = db.engine_for(f"sqlite:///{tmp_path / 'journey.db'}", writer=True)
    event.listen(engine, "connect", lambda dbapi_conn, _record: dbapi_conn.execute("PRAGMA query_only=ON"))
    with pytest.raises(OperationalError, match="readonly database") as raised, engine.begin() as conn:
        conn.exec_driver_sql("SELECT 1")
    assert db.is_unavailable(raised.value)
    engine.dispose()
