"""Test fixtures: every database test runs on SQLite and on PostgreSQL, schema from the migrations.

`session` is a transaction rolled back after the test (service tests). Code that opens its own
transactions (routes, flow steps) runs against `db_url`; its rows are deleted after the test.
PostgreSQL is the real server on 127.0.0.1:5432 (a fresh database per test session): skipped locally if it is down,
required where CI=true.
"""
from __future__ import annotations

import base64
import os
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session

# CI runs the unit, API and integration tiers a second time with the clock this many days ahead, so a test that
# silently depends on today's date fails the day it is written, not months later (see .ci/run).
CLOCK_SHIFT_DAYS = int(os.environ.get("TEST_CLOCK_SHIFT_DAYS", "0") or 0)
PG_SERVER = os.environ.get("JOURNEY_TEST_PG_SERVER", "postgresql+psycopg://postgres@127.0.0.1:5432")
PG_URL = f"{PG_SERVER}/test"
WEBHOOK_SECRET = "whsec_" + base64.b64encode(b"journey-test-secret-0123456789ab").decode()


def _pg_reachable() -> bool:
    try:
        engine = create_engine(PG_URL, connect_args={"connect_timeout": 3})
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        engine.dispose()
        return True
    except Exception:  # noqa: BLE001
        return False


def _create_pg_database() -> str:
    """A database of its own for this test session (parallel runs never share one); dropped at exit."""
    import atexit
    import uuid

    name = f"journey_test_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    admin = create_engine(f"{PG_SERVER}/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))

    def drop() -> None:
        from journey.db import engine_for

        engine_for.cache_clear()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    atexit.register(drop)
    return f"{PG_SERVER}/{name}"


@pytest.fixture(scope="session", autouse=True)
def _shifted_clock() -> Iterator[None]:
    """With TEST_CLOCK_SHIFT_DAYS set, every test runs that many days in the future (the clock keeps ticking)."""
    if not CLOCK_SHIFT_DAYS:
        yield
        return
    import time_machine

    with time_machine.travel(datetime.now(UTC) + timedelta(days=CLOCK_SHIFT_DAYS), tick=True):
        yield


@pytest.fixture(autouse=True)
def _clock_from_marker(request) -> Iterator[None]:
    """`@pytest.mark.clock("2026-11-21T10:00:00Z")`: the test runs at that instant (ticking from there).

    Every test whose assertions depend on the date sets the clock it needs this way, or with the `clock`
    fixture when it moves time during the test.
    """
    marker = request.node.get_closest_marker("clock")
    if marker is None and CLOCK_SHIFT_DAYS and request.node.get_closest_marker("real_clock"):
        marker = pytest.mark.clock(datetime.now(UTC) - timedelta(days=CLOCK_SHIFT_DAYS)).mark
    if marker is None:
        yield
        return
    import time_machine

    with time_machine.travel(_instant(marker.args[0]), tick=marker.kwargs.get("tick", True)):
        yield


@pytest.fixture
def clock():  # type: ignore[no-untyped-def]
    """A clock the test moves: `clock.move_to("2027-01-04T09:00:00Z")`, `clock.shift(timedelta(days=3))`.

    It starts where the test already is (a `clock` marker's instant, or now), ticking.
    """
    import time_machine

    with time_machine.travel(datetime.now(UTC), tick=True) as traveller:
        yield traveller


def _instant(value: str | datetime) -> datetime:
    moment = datetime.fromisoformat(value.replace("Z", "+00:00")) if isinstance(value, str) else value
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@pytest.fixture(autouse=True)
def _isolated_settings(monkeypatch, tmp_path) -> Iterator[None]:
    """No test reads the developer's .env or ./var: settings come from here, caches cleared."""
    from journey.config import get_settings

    for key in list(os.environ):
        if key.startswith("JOURNEY_"):
            monkeypatch.delenv(key)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("JOURNEY_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("JOURNEY_DATABASE_URL", f"sqlite:///{tmp_path / 'unused.db'}")
    monkeypatch.setenv("JOURNEY_WEBHOOK_SECRET", WEBHOOK_SECRET)
    monkeypatch.setenv("JOURNEY_ORCHESTRATOR", "inline")
    monkeypatch.setenv("JOURNEY_DEMO", "0")
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


@pytest.fixture(autouse=True)
def _logging_restored(monkeypatch) -> Iterator[None]:
    """A test that configures logging (`journey serve` run in-process, the log tests) leaves nothing behind:
    structlog's configuration, the root logger's handlers and level, the bound context, Prefect's settings path."""
    import logging

    import structlog

    config, root = structlog.get_config(), logging.getLogger()
    handlers, level = list(root.handlers), root.level
    monkeypatch.delenv("PREFECT_LOGGING_SETTINGS_PATH", raising=False)
    yield
    structlog.configure(**config)
    structlog.contextvars.clear_contextvars()
    root.handlers, root.level = handlers, level


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def database_url(request, tmp_path_factory) -> str:
    """A migrated database of each kind, once per test session."""
    from journey import migrations

    if request.param == "postgresql":
        if not _pg_reachable():
            if os.environ.get("CI") == "true":
                pytest.fail(f"CI=true but PostgreSQL is not reachable at {PG_URL}")
            pytest.skip("PostgreSQL not reachable on 127.0.0.1:5432")
        url = _create_pg_database()
    else:
        url = f"sqlite:///{Path(tmp_path_factory.mktemp('db')) / 'journey.db'}"
    engine = create_engine(url)
    with engine.connect() as conn:
        migrations.upgrade(conn)
        conn.commit()
    engine.dispose()
    return url


@pytest.fixture
def db_url(database_url, monkeypatch) -> Iterator[str]:
    """Point journey at the migrated database; delete what the test wrote afterwards."""
    from journey.config import get_settings
    from journey.db import engine_for
    from journey.models import Base

    monkeypatch.setenv("JOURNEY_DATABASE_URL", database_url)
    get_settings.cache_clear()
    yield database_url
    engine = engine_for(database_url)
    with engine.begin() as conn:
        for table in reversed(Base.metadata.sorted_tables):
            conn.execute(table.delete())


@pytest.fixture
def session(db_url) -> Iterator[Session]:
    """A session whose work is rolled back at the end (services flush, never commit)."""
    from journey.db import engine_for

    engine = engine_for(db_url)
    with engine.connect() as conn:
        trans = conn.begin()
        s = Session(bind=conn, join_transaction_mode="create_savepoint", expire_on_commit=False)
        try:
            yield s
        finally:
            s.close()
            trans.rollback()


@pytest.fixture
def client(db_url):  # type: ignore[no-untyped-def]
    """The app without its background runner: tests drive processing with `drain()`."""
    from fastapi.testclient import TestClient

    from journey.app import create_app

    with TestClient(create_app(start_runner=False)) as c:
        yield c


@pytest.fixture
def admin(db_url) -> dict[str, str]:
    """Headers of an admin's API token."""
    from tests.builders import member_with_token

    return member_with_token("admin@test.example", "admin")


def pytest_collection_modifyitems(config, items) -> None:  # type: ignore[no-untyped-def]
    for item in items:
        if "database_url" in getattr(item, "fixturenames", ()):
            backend = item.callspec.params.get("database_url") if hasattr(item, "callspec") else None
            if backend == "postgresql":
                item.add_marker(pytest.mark.postgres)


def wait_until(predicate, timeout: float = 10.0, step: float = 0.05):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(step)
    return predicate()
