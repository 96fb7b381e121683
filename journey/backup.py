"""`journey db backup PATH` and `journey db restore PATH`: the whole database, safe while journey serves.

SQLite: the sqlite3 online backup API, page by page from a live connection (writers are not stopped; the copy is
one consistent snapshot). PostgreSQL: `pg_dump --format=custom` and `pg_restore`, the tools of the server's own
distribution (a missing tool is a clear error, not a traceback).
"""
from __future__ import annotations

import shutil
import sqlite3
import subprocess
from pathlib import Path

from sqlalchemy import inspect, text
from sqlalchemy.engine import make_url

from journey.db import engine_for
from journey.errors import JourneyError

SKIPPED_TABLES = frozenset({"alembic_version"})  # present in a migrated, still empty database


class BackupError(JourneyError):
    code = "backup_failed"
    status_code = 500


def _libpq_url(url: str) -> str:
    """`postgresql+psycopg://...` as the plain `postgresql://...` pg_dump and pg_restore accept."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def _sqlite_path(url: str) -> Path:
    path = make_url(url).database
    if not path or path == ":memory:" or path.startswith("file:"):
        raise BackupError(f"cannot back up the SQLite database {path or '(in memory)'!r}: give it a file")
    return Path(path)


def _tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise BackupError(f"{name} is not installed: install PostgreSQL's client tools (Debian: "
                          f"apt-get install postgresql-client, the server's major version or newer)")
    return found


def _run(args: list[str]) -> None:
    done = subprocess.run(args, capture_output=True, text=True, check=False)  # noqa: S603 - our own arguments
    if done.returncode != 0:
        detail = (done.stderr or done.stdout).strip().splitlines()
        raise BackupError(f"{Path(args[0]).name} failed: {detail[-1] if detail else f'exit {done.returncode}'}")


def backup(url: str, destination: Path) -> None:
    """Copy the database at `url` into `destination` (a new file; an existing one is replaced)."""
    destination.parent.mkdir(parents=True, exist_ok=True)
    if url.startswith("sqlite"):
        source = _sqlite_path(url)
        if not source.exists():
            raise BackupError(f"no database at {source}")
        src = sqlite3.connect(source)
        tmp = destination.with_name(destination.name + ".partial")
        tmp.unlink(missing_ok=True)
        dst = sqlite3.connect(tmp)
        try:
            src.backup(dst)  # the online backup API: consistent while other connections write
        finally:
            dst.close()
            src.close()
        tmp.chmod(0o600)
        tmp.replace(destination)
        return
    _run([_tool("pg_dump"), "--format=custom", "--no-owner", "--file", str(destination),
          "--dbname", _libpq_url(url)])
    destination.chmod(0o600)


def has_rows(url: str) -> bool:
    """True when any table of the database (but Alembic's own) holds a row."""
    engine = engine_for(url)
    with engine.connect() as conn:
        for name in inspect(conn).get_table_names():
            if name in SKIPPED_TABLES:
                continue
            quoted = conn.dialect.identifier_preparer.quote(name)
            if conn.execute(text(f"SELECT 1 FROM {quoted} LIMIT 1")).first():  # noqa: S608 - a reflected name
                return True
    return False


def restore(url: str, source: Path, *, force: bool) -> None:
    """Replace the database at `url` with the backup `source`; refused over rows unless `force`."""
    if not source.is_file():
        raise BackupError(f"no backup file at {source}")
    if url.startswith("sqlite"):
        _check_sqlite_backup(source)
    if not force and _target_exists(url) and has_rows(url):
        raise BackupError("the database is not empty: restoring would replace its data; stop journey and "
                          "add --force to do it anyway")
    engine_for.cache_clear()  # pooled connections must not outlive the old contents
    if url.startswith("sqlite"):
        target = _sqlite_path(url)
        target.parent.mkdir(parents=True, exist_ok=True)
        src, dst = sqlite3.connect(source), sqlite3.connect(target)
        try:
            src.backup(dst)
        finally:
            dst.close()
            src.close()
        return
    _run([_tool("pg_restore"), "--clean", "--if-exists", "--no-owner", "--single-transaction",
          "--dbname", _libpq_url(url), str(source)])


def _target_exists(url: str) -> bool:
    return _sqlite_path(url).exists() if url.startswith("sqlite") else True


def _check_sqlite_backup(source: Path) -> None:
    try:
        with sqlite3.connect(f"file:{source}?mode=ro", uri=True) as conn:
            conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
    except sqlite3.DatabaseError as exc:
        raise BackupError(f"{source} is not a SQLite backup ({exc})") from exc
