"""Engines and transactions. One transaction per entry point: request, flow task, CLI command, job.

SQLite (the embedded default) gets WAL, a busy timeout and `BEGIN IMMEDIATE` on the writer engine, so
concurrent writers queue on the file lock instead of failing half-way; readers use a second engine. The
time each writer waits for the lock is counted (`journey_db_lock_wait_seconds` by process role), and a
wait over LOCK_WAIT_WARN_SECONDS is logged: writer contention between intake and the runner is visible.
"""
from __future__ import annotations

import contextvars
import json
import sqlite3
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Any

import orjson
import structlog
from sqlalchemy import (
    JSON,
    Connection,
    Dialect,
    Engine,
    Integer,
    Table,
    TableClause,
    Text,
    bindparam,
    cast,
    column,
    create_engine,
    event,
    func,
    insert,
    literal_column,
    select,
    table,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from journey import metrics
from journey.config import get_settings
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
    # 20 connections kept, 40 at most (the request threadpool): a burst from 16 senders otherwise opens and closes
    # overflow connections on every request (each runs the PRAGMAs below: ~8% of a webhook's CPU in py-spy)
    pool = {"pool_size": 20, "max_overflow": 20} if path and path != ":memory:" else {}  # else one connection
    engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False}, json_serializer=json_text,
                           json_deserializer=json_value, **pool)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record):  # type: ignore[no-untyped-def]
        dbapi_conn.isolation_level = None  # we emit BEGIN ourselves
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.close()

    @event.listens_for(engine, "handle_error")
    def _read_only_is_lost(context):  # type: ignore[no-untyped-def]
        # A connection opened while the file could not be written (made read-only, immutable) stays read-only
        # for its life, even once the file is writable again: treated as lost, the pool opens fresh ones.
        if "readonly database" in str(context.original_exception).lower():
            context.is_disconnect = True

    @event.listens_for(engine, "begin")
    def _on_begin(conn):  # type: ignore[no-untyped-def]
        if not immediate:
            conn.exec_driver_sql("BEGIN")
            return
        started = time.perf_counter()
        if _role == "server":
            _begin_immediate_polling(conn)
        else:
            conn.exec_driver_sql("BEGIN IMMEDIATE")  # SQLite's busy handler: waits while another writer holds it
        waited = time.perf_counter() - started
        metrics.lock_wait(_role, waited)
        if waited > LOCK_WAIT_WARN_SECONDS:
            log.warning("db.lock_wait", role=_role, seconds=round(waited, 2))

    return engine


BUSY_TIMEOUT_SECONDS = 30.0
POLL_TIMEOUT_MS = 2  # SQLite's busy handler, told to give up after 2 ms, tries at 0, 1 and 2 ms


def _begin_immediate_polling(conn: Connection) -> None:
    """`BEGIN IMMEDIATE` for the server's writers (intake): try for the write lock every millisecond. SQLite's
    busy handler sleeps 1, 2, 5, 10, 15, 20, 25 ... then 100 ms between tries, so a webhook that found the
    runner's transaction in progress slept on after the lock was free again (up to 100 ms). Here the handler
    is given 2 ms at a time (it sleeps in C, without the GIL) and this loop tries again, until the same 30 s
    deadline. The runner keeps the full handler, so when both wait, the request gets the lock first."""
    dbapi_conn = conn.connection.dbapi_connection
    dbapi_conn.execute(f"PRAGMA busy_timeout={POLL_TIMEOUT_MS}")  # type: ignore[union-attr]
    try:
        deadline = time.monotonic() + BUSY_TIMEOUT_SECONDS
        while time.monotonic() < deadline:
            try:
                dbapi_conn.execute("BEGIN IMMEDIATE")  # type: ignore[union-attr]
                return
            except sqlite3.OperationalError as exc:  # raw: cheap to raise ~500 times a second per waiter
                if not _is_locked(exc):
                    break  # raised again below, as SQLAlchemy's error
        dbapi_conn.execute("PRAGMA busy_timeout=0")  # type: ignore[union-attr]
        conn.exec_driver_sql("BEGIN IMMEDIATE")  # one last try: the lock, or SQLAlchemy's OperationalError
    finally:
        if not conn.invalidated:  # a read-only file's error closed it (`_read_only_is_lost`): nothing to restore
            dbapi_conn.execute(f"PRAGMA busy_timeout={int(BUSY_TIMEOUT_SECONDS * 1000)}")  # type: ignore[union-attr]


def _is_locked(exc: BaseException) -> bool:
    return getattr(exc, "sqlite_errorcode", None) == sqlite3.SQLITE_BUSY or "locked" in str(exc)


def json_text(value: Any) -> str:
    """How JSON columns are written: orjson, several times json.dumps's speed (a recompute or an evaluation
    writes five documents per account). Compact; keys that are not strings become strings, as with json.dumps;
    a NaN is written null (valid JSON, which PostgreSQL's jsonb requires). Read back with the standard json."""
    return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode()


def json_value(text: str | bytes) -> Any:
    """How JSON columns are read: orjson; a document it refuses (NaN or Infinity, which json.dumps wrote
    before `json_text`) is read by the standard json, as it always was."""
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return json.loads(text)


@lru_cache(maxsize=8)
def engine_for(url: str, *, writer: bool = True) -> Engine:
    if url.startswith("sqlite"):
        return _sqlite_engine(url, immediate=writer)
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20, json_serializer=json_text,
                         json_deserializer=json_value, connect_args={"connect_timeout": 3})


def get_engine(*, writer: bool = True) -> Engine:
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


_shared: contextvars.ContextVar[Session | None] = contextvars.ContextVar("journey_shared_session", default=None)


@contextmanager
def transaction(*, writer: bool = True) -> Iterator[Session]:
    """A session whose work is committed at the end of the block, or rolled back on error. Inside
    `one_transaction()` it is that block's session (reader or writer alike: later steps see earlier writes),
    and the outer block commits."""
    shared = _shared.get()
    if shared is not None:
        yield shared
        return
    with _own_transaction(writer=writer) as session:
        yield session


@contextmanager
def one_transaction() -> Iterator[Session]:
    """One writer transaction for every `transaction()` opened in this block (this thread): the steps of a
    flow that run as plain calls commit together, once, instead of one commit, one connection checkout and
    one round of re-reads each. All of it or none: a failure rolls every step back, and since each step is
    idempotent the retry redoes them all. Nesting joins the outer block."""
    if _shared.get() is not None:
        yield _shared.get()  # type: ignore[misc]
        return
    with _own_transaction(writer=True) as session:
        _keep_loaded_rows(session)
        token = _shared.set(session)
        try:
            yield session
        finally:
            _shared.reset(token)


def _keep_loaded_rows(session: Session) -> None:
    """Hold every row the session loads until it closes: its identity map only holds them weakly, so a row a
    step read and let go of would be read again by the next step's `get` (SQLAlchemy's strong-referencing
    recipe, for one session)."""
    kept = session.info.setdefault("kept", [])
    event.listen(session, "loaded_as_persistent", lambda _session, row: kept.append(row))
    event.listen(session, "pending_to_persistent", lambda _session, row: kept.append(row))


@contextmanager
def _own_transaction(*, writer: bool) -> Iterator[Session]:
    session = _factory(get_engine(writer=writer))()
    with _unreachable_as_unavailable():
        try:
            yield session
            session.commit()
        except Exception:
            session.rollback()
            raise
        finally:
            session.close()


@contextmanager
def core_transaction() -> Iterator[Connection]:
    """`transaction()` without an ORM session, for a hot path of Core statements (the webhook intake: one
    INSERT per request): a writer connection whose work is committed at the end of the block, or rolled back."""
    with _unreachable_as_unavailable(), get_engine().begin() as conn:
        yield conn


@contextmanager
def _unreachable_as_unavailable() -> Iterator[None]:
    """A database that cannot be reached becomes ServiceUnavailable (503 with Retry-After); other errors pass."""
    try:
        yield
    except Exception as exc:
        if is_unavailable(exc):
            raise ServiceUnavailable("the database cannot be reached; retry later") from exc
        raise


def insert_ignoring_duplicates(session: Session, model: type, **values: object):  # type: ignore[no-untyped-def]
    """`INSERT ... ON CONFLICT DO NOTHING RETURNING id` on SQLite and PostgreSQL: the new id, or None. One
    statement per table and dialect, built once: its cache key is computed once, not on every call."""
    stmt = _insert_new_row(session.get_bind().dialect.name, model)
    return session.execute(stmt, values).scalar_one_or_none()


@lru_cache(maxsize=128)
def _insert_new_row(dialect: str, model: type):  # type: ignore[no-untyped-def]
    return dialect_insert(dialect, model).on_conflict_do_nothing().returning(model.id)  # type: ignore[attr-defined]


def dialect_insert(dialect: str, target: Any) -> Any:
    """`INSERT` into `target` in the dialect's own form, the one with `on_conflict_do_nothing` and
    `on_conflict_do_update` (SQLite and PostgreSQL spell them alike)."""
    return (postgresql_insert if dialect == "postgresql" else sqlite_insert)(target)


def among(session: Session, column: Any, ids: Iterable[int]) -> Any:
    """`column IN ids` with the ids bound as ONE parameter however many they are: the text of an integer
    array on PostgreSQL (`= ANY(CAST(... AS INTEGER[]))`), a JSON array read by `json_each` on SQLite. A
    plain `IN` binds and renders one parameter per id on every execution, which costs more than the query
    itself for a batch of 2,000."""
    dialect = session.get_bind().dialect.name
    return _among(dialect, column, bindparam(None, ids_value(dialect, ids), type_=Text()))


def among_param(dialect: str, column: Any, name: str) -> Any:
    """`among` with the ids left to execution time (`ids_value`), for a statement built once and cached: building
    a large select costs more Python than running it, so hot set-based reads build theirs once per shape."""
    return _among(dialect, column, bindparam(name, type_=Text()))


def _among(dialect: str, column: Any, ids: Any) -> Any:
    if dialect == "postgresql":
        return column == func.any(cast(ids, ARRAY(Integer)))
    return column.in_(select(literal_column("value", Integer)).select_from(func.json_each(ids)))


def ids_value(dialect: str, ids: Iterable[int]) -> Any:
    """The value of an `among_param` parameter: the text of an integer array on PostgreSQL (`{1,2,3}`, cast by
    the statement; psycopg would dump a list element by element in Python, a third of a batch's binding
    time), a JSON list on SQLite (read by `json_each`). Each id goes through `int`: nothing else gets in."""
    text = ",".join([str(int(i)) for i in ids])
    return f"{{{text}}}" if dialect == "postgresql" else f"[{text}]"


def insert_rows(session: Session, model: type, rows: list[dict[str, object]]) -> None:
    """Many rows of one table by one INSERT executed for all of them (executemany: a C loop on SQLite,
    multi-row statements on PostgreSQL), not an ORM object per row. Column defaults apply; the session's
    identity map is not filled."""
    if rows:
        session.execute(insert(model.__table__), rows)  # type: ignore[attr-defined]


def insert_rows_returning_ids(session: Session, model: type, rows: list[dict[str, object]],
                              key: str) -> dict[object, int]:
    """Many rows by one cached `INSERT ... RETURNING key, id` executed for all of them: SQLAlchemy's
    "insertmanyvalues" sends them as multi-row `VALUES (...), (...)` statements on SQLite and PostgreSQL,
    without building and compiling a new statement for each set of rows as `.values(rows)` does. Each new
    id by the row's `key` column, which must tell the rows apart."""
    if not rows:
        return {}
    table = model.__table__  # type: ignore[attr-defined]
    stmt = insert(table).returning(table.c[key], table.c.id)  # rows in any order: told apart by `key`
    ids = {row[0]: row[1] for row in session.execute(stmt, rows)}
    if len(ids) != len(rows):
        raise ValueError(f"{table.name}: the rows' {key} values are not distinct")
    return ids


def insert_bound_rows(session: Session, stmt: Any, columns: tuple[str, ...], rows: Sequence[Sequence[Any]]) -> int:
    """`stmt`, an INSERT of `columns` built once (cached), executed for each of `rows`: tuples in `columns` order
    whose values are already what the driver takes (no column type converts them). On a driver with positional
    parameters (SQLite) the statement is compiled once and the tuples go to the driver's executemany as they are,
    a loop in C: SQLAlchemy's own executemany builds and reads a parameter dict per row, which cost more than
    writing the row. Elsewhere (psycopg's named parameters) it is SQLAlchemy's executemany. The rows written
    (the driver's count; on SQLite a row an ON CONFLICT clause skipped is not counted)."""
    if not rows:
        return 0
    dialect = session.get_bind().dialect
    if not dialect.positional:
        params = [dict(zip(columns, row, strict=True)) for row in rows]
        return session.connection().execute(stmt, params).rowcount  # a Core INSERT: what session.execute runs
    sql = _positional_sql(stmt, dialect, columns)
    return session.connection().exec_driver_sql(sql, list(rows)).rowcount


@lru_cache(maxsize=16)
def plain_table(model_table: Table) -> TableClause:
    """The table's name and columns without their types: rows given to a statement on it are bound as they are,
    so the values must already be what the driver takes (`bound_rows`)."""
    return table(model_table.name, *(column(c.name) for c in model_table.c))


def bound_rows(session: Session, model_table: Table, columns: Sequence[str], rows: Sequence[Sequence[Any]]
               ) -> list[tuple[Any, ...]]:
    """`rows` (tuples in `columns` order) bound as the columns' types would (UTC times, JSON) for `insert_bound_rows`,
    column by column: a scalar column's distinct values once per batch, each JSON document (empty ones once)."""
    if not rows:
        return []
    processors = _processors(model_table, session.get_bind().dialect)
    converted = [_converted(*processors[name], values) if name in processors else values
                 for name, values in zip(columns, zip(*rows, strict=True), strict=True)]
    return list(zip(*converted, strict=True))


@lru_cache(maxsize=32)
def _processors(model_table: Table, dialect: Dialect) -> dict[str, tuple[Callable[[Any], Any], bool]]:
    """Each column's bind processor, and whether it takes JSON documents (unhashable, converted each)."""
    procs = ((c, c.type._cached_bind_processor(dialect)) for c in model_table.c)
    return {c.name: (proc, isinstance(c.type, JSON)) for c, proc in procs if proc is not None}


def _converted(process: Callable[[Any], Any], documents: bool, values: Sequence[Any]) -> list[Any]:
    if documents:  # unhashable: each converted, but the empty ones ({}, [], None) once per kind
        empty = {kind: process(kind()) for kind in {type(value) for value in values if not value}}
        return [process(value) if value else empty[type(value)] for value in values]
    done = {value: process(value) for value in set(values)}
    return [done[value] for value in values]


@lru_cache(maxsize=32)
def _positional_sql(stmt: Any, dialect: Any, columns: tuple[str, ...]) -> str:
    compiled = stmt.compile(dialect=dialect, column_keys=list(columns))
    if tuple(compiled.positiontup) != columns:  # the driver binds by position: the SQL must list them in order
        raise ValueError(f"{compiled.string!r} binds {compiled.positiontup}, not {columns}")
    return str(compiled.string)


def insert_rows_ignoring_duplicates(session: Session, model: type, rows: list[dict[str, object]]) -> None:
    """Many rows by one `INSERT ... ON CONFLICT DO NOTHING` executed for all of them (executemany, batched
    into multi-row statements where the driver allows); a row already there is left alone."""
    if not rows:
        return
    stmt = dialect_insert(session.get_bind().dialect.name, model.__table__)  # type: ignore[attr-defined]
    session.execute(stmt.on_conflict_do_nothing(), rows)  # executemany: one cached statement
