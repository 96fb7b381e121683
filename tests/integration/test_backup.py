"""`journey db backup` and `journey db restore`: a round trip gives back every table's rows, on both databases."""
from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect, text
from typer.testing import CliRunner

from journey import backup
from journey.config import get_settings
from journey.db import engine_for
from tests.builders import deal_signed, drain, post_event
from tests.conftest import PG_SERVER

runner = CliRunner()


def _snapshot(url: str) -> dict[str, list[tuple]]:
    """Every table's rows, sorted, as plain tuples."""
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            tables = sorted(inspect(conn).get_table_names())
            return {t: sorted((tuple(r) for r in conn.execute(text(f'SELECT * FROM "{t}"'))), key=repr)  # noqa: S608
                    for t in tables}
    finally:
        engine.dispose()


@pytest.fixture
def empty_database(db_url, tmp_path) -> Iterator[str]:
    """A second database of the same kind, created empty (no schema): where a backup is restored."""
    if db_url.startswith("sqlite"):
        yield f"sqlite:///{tmp_path / 'restored.db'}"
        return
    name = f"journey_restore_{uuid.uuid4().hex[:8]}"
    admin = create_engine(f"{PG_SERVER}/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield f"{PG_SERVER}/{name}"
    finally:
        engine_for.cache_clear()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _use(monkeypatch, url: str) -> None:
    monkeypatch.setenv("JOURNEY_DATABASE_URL", url)
    get_settings.cache_clear()


def test_backup_and_restore_give_back_every_table(db_url, client, empty_database, tmp_path, monkeypatch) -> None:
    assert post_event(client, deal_signed()).status_code == 202
    assert drain() == ["processed"]
    before = _snapshot(db_url)
    assert before["journey"] and before["plan_task"] and before["alembic_version"]

    file = tmp_path / "backups" / "journey.backup"
    from journey.cli import app

    done = runner.invoke(app, ["db", "backup", str(file)])
    assert done.exit_code == 0, done.output
    assert file.stat().st_mode & 0o077 == 0  # the backup holds what the database holds: owner-only

    refused = runner.invoke(app, ["db", "restore", str(file)])  # over the live, non-empty database
    assert refused.exit_code == 1 and "not empty" in refused.output and "--force" in refused.output

    _use(monkeypatch, empty_database)
    restored = runner.invoke(app, ["db", "restore", str(file)])
    assert restored.exit_code == 0, restored.output
    assert _snapshot(empty_database) == before

    _use(monkeypatch, db_url)  # --force over the original after rows changed there: the backup's rows again
    with engine_for(db_url).begin() as conn:
        conn.execute(text("DELETE FROM review"))
    assert _snapshot(db_url) != before
    forced = runner.invoke(app, ["db", "restore", "--force", str(file)])
    assert forced.exit_code == 0, forced.output
    assert _snapshot(db_url) == before


def test_restore_refuses_a_file_that_is_not_a_backup(db_url, tmp_path) -> None:
    from journey.cli import app

    bogus = tmp_path / "notes.txt"
    bogus.write_text("not a database " * 100)
    missing = runner.invoke(app, ["db", "restore", str(tmp_path / "absent.backup")])
    assert missing.exit_code == 1 and "no backup file at" in missing.output
    wrong = runner.invoke(app, ["db", "restore", "--force", str(bogus)])
    assert wrong.exit_code == 1 and "error:" in wrong.output and "Traceback" not in wrong.output


def test_a_missing_pg_dump_is_a_clear_error(monkeypatch, tmp_path) -> None:
    monkeypatch.setattr(backup.shutil, "which", lambda name: None)
    with pytest.raises(backup.BackupError, match="pg_dump is not installed: install PostgreSQL's client tools"):
        backup.backup("postgresql+psycopg://postgres@127.0.0.1:5432/anything", tmp_path / "x.backup")
    assert not Path(tmp_path / "x.backup").exists()


def test_libpq_url_drops_the_driver_and_keeps_credentials() -> None:
    assert backup._libpq_url("postgresql+psycopg://u:p%40ss@db:5433/journey") == "postgresql://u:p%40ss@db:5433/journey"


def test_a_sqlite_backup_runs_beside_a_writer_and_holds_only_what_was_committed(tmp_path) -> None:
    import sqlite3

    source = tmp_path / "live.db"
    writer = sqlite3.connect(source, isolation_level=None)
    try:
        writer.execute("PRAGMA journal_mode=WAL")  # as journey opens it
        writer.execute("CREATE TABLE t (v TEXT)")
        writer.execute("INSERT INTO t VALUES ('committed')")
        writer.execute("BEGIN IMMEDIATE")  # a write in flight, holding the write lock, while the backup runs
        writer.execute("INSERT INTO t VALUES ('uncommitted')")
        backup.backup(f"sqlite:///{source}", tmp_path / "copy.db")
    finally:
        writer.execute("ROLLBACK")
        writer.close()
    copy = sqlite3.connect(tmp_path / "copy.db")
    try:
        assert copy.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        assert copy.execute("SELECT v FROM t").fetchall() == [("committed",)]
    finally:
        copy.close()
