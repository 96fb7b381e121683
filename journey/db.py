"""Engines and transactions. One transaction per entry point: request, flow task, CLI command, job.

SQLite (the embedded default) gets WAL, a busy timeout and `BEGIN IMMEDIATE` on the writer engine, so
concurrent writers queue on the file lock instead of failing half-way; readers use a second engine. The
time each writer waits for the lock is counted (`journey_db_lock_wait_seconds` by process role), and a
wait over LOCK_WAIT_WARN_SECONDS is logged: writer contention between intake and the runner is visible.
"""
from __future__ import annotations

import json
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Any

import structlog
from sqlalchemy import Engine, Integer, bindparam, create_engine, event, func, insert, literal_column, select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from journey import metrics
from journey.errors import ServiceUnavailable
from journey.files import create_private_file

log = structlog.get_logger("journey.db")
LOCK_WAIT_WARN_SECONDS = 1.0
_role = "server"


def set_role(role: str) -> None:
    """Name this process's writers in the lock-wait metric: `server` (journey serve) or `runner`."""
    global _role
    _role = role


def _sqlite_engine(url: str, *, immediate: bool) -> Engine:
    path = make_url(url).database
    if path and path != ":memory:" and not path.startswith("file:"):
        create_private_file(Path(path))  # owner-only from the start; SQLite gives its -wal and -shm the same mode
    engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record):  # type: ignore[no-untyped-def]
        dbapi_conn.isolation_level = None  # we emit BEGIN ourselves
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn):  # type: ignore[no-untyped-def]
        if not immediate:
            conn.exec_driver_sql("BEGIN")
            return
        started = time.perf_counter()
        conn.exec_driver_sql("BEGIN IMMEDIATE")  # waits (busy timeout) while another writer holds the lock
        waited = time.perf_counter() - started
        metrics.lock_wait(_role, waited)
        if waited > LOCK_WAIT_WARN_SECONDS:
            log.warning("db.lock_wait", role=_role, seconds=round(waited, 2))

    return engine


@lru_cache(maxsize=8)
def engine_for(url: str, *, writer: bool = True) -> Engine:
    if url.startswith("sqlite"):
        return _sqlite_engine(url, immediate=writer)
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20,
                         connect_args={"connect_timeout": 3})


def get_engine(*, writer: bool = True) -> Engine:
    from journey.config import get_settings

    url = get_settings().database_url
    return engine_for(url, writer=writer if url.startswith("sqlite") else True)


@lru_cache(maxsize=8)
def _factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False, autoflush=True)


def is_unavailable(exc: BaseException) -> bool:
    """True for errors that mean 'the database cannot be reached', not 'the query is wrong'."""
    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        return True
    if isinstance(exc, OperationalError):
        text = str(exc.orig).lower()
        markers = ("connection", "could not connect", "server closed", "timeout expired",
                   "readonly", "read-only", "disk", "unable to open", "terminating")
        return any(m in text for m in markers)
    return False


@contextmanager
def transaction(*, writer: bool = True) -> Iterator[Session]:
    """A session whose work is committed at the end of the block, or rolled back on error."""
    session = _factory(get_engine(writer=writer))()
    try:
        yield session
        session.commit()
    except Exception as exc:
        session.rollback()
        if is_unavailable(exc):
            raise ServiceUnavailable("the database cannot be reached; retry later") from exc
        raise
    finally:
        session.close()


def insert_ignoring_duplicates(session: Session, model: type, **values: object):  # type: ignore[no-untyped-def]
    """`INSERT ... ON CONFLICT DO NOTHING RETURNING id` on SQLite and PostgreSQL: the new id, or None."""
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    stmt = insert(model).values(**values).on_conflict_do_nothing().returning(model.id)  # type: ignore[attr-defined]
    return session.execute(stmt).scalar_one_or_none()


def among(session: Session, column: Any, ids: Iterable[int]) -> Any:
    """`column IN ids` with the ids bound as ONE parameter however many they are: an integer array on
    PostgreSQL (`= ANY`), a JSON array read by `json_each` on SQLite. A plain `IN` binds and renders one
    parameter per id on every execution, which costs more than the query itself for a batch of 2,000."""
    values = [int(i) for i in ids]
    if session.get_bind().dialect.name == "postgresql":
        return column == func.any(bindparam(None, values, type_=ARRAY(Integer)))
    return column.in_(select(literal_column("value", Integer)).select_from(
        func.json_each(bindparam(None, json.dumps(values)))))


def among_param(dialect: str, column: Any, name: str) -> Any:
    """`among` with the ids left to execution time (`ids_value`), for a statement built once and cached: building
    a large select costs more Python than running it, so hot set-based reads build theirs once per shape."""
    if dialect == "postgresql":
        return column == func.any(bindparam(name, type_=ARRAY(Integer)))
    return column.in_(select(literal_column("value", Integer)).select_from(func.json_each(bindparam(name))))


def ids_value(dialect: str, ids: Iterable[int]) -> Any:
    """The value of an `among_param` parameter: an integer list on PostgreSQL, its JSON text on SQLite."""
    values = [int(i) for i in ids]
    return values if dialect == "postgresql" else json.dumps(values)


def insert_rows(session: Session, model: type, rows: list[dict[str, object]]) -> None:
    """Many rows of one table by one INSERT executed for all of them (executemany: a C loop on SQLite,
    multi-row statements on PostgreSQL), not an ORM object per row. Column defaults apply; the session's
    identity map is not filled."""
    if rows:
        session.execute(insert(model.__table__), rows)  # type: ignore[attr-defined]


def insert_rows_returning_ids(session: Session, model: type, rows: list[dict[str, object]],
                              key: str) -> dict[object, int]:
    """Many rows in one multi-row `INSERT ... VALUES (...), (...) RETURNING key, id`: each new id by the row's
    `key` column, which must tell the rows apart (RETURNING does not keep the rows' order on SQLite)."""
    if not rows:
        return {}
    table = model.__table__  # type: ignore[attr-defined]
    returned = session.execute(insert(table).values(rows).returning(table.c[key], table.c.id)).all()
    ids = {row[0]: row[1] for row in returned}
    if len(ids) != len(rows):
        raise ValueError(f"{table.name}: the rows' {key} values are not distinct")
    return ids


def insert_rows_ignoring_duplicates(session: Session, model: type, rows: list[dict[str, object]]) -> None:
    """Many rows by one `INSERT ... ON CONFLICT DO NOTHING` executed for all of them (executemany, batched
    into multi-row statements where the driver allows); a row already there is left alone."""
    if not rows:
        return
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as dialect_insert
    else:
        from sqlalchemy.dialects.sqlite import insert as dialect_insert
    table = model.__table__  # type: ignore[attr-defined]
    session.execute(dialect_insert(table).on_conflict_do_nothing(), rows)  # executemany: one cached statement
