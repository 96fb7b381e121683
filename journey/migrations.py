"""Alembic from code: `journey db upgrade`, `journey db current`, and the test schema."""
from __future__ import annotations

from alembic.config import Config
from sqlalchemy import Connection, inspect, text

from alembic import command
from journey.config import PROJECT_ROOT


def alembic_config(connection: Connection | None = None) -> Config:
    cfg = Config(str(PROJECT_ROOT / "alembic.ini"))
    cfg.set_main_option("script_location", str(PROJECT_ROOT / "alembic"))
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


def upgrade(connection: Connection | None = None, revision: str = "head") -> None:
    command.upgrade(alembic_config(connection), revision)


def head_revision() -> str | None:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config()).get_current_head()


VERSION_TABLE = "alembic_version"


def current_revision(connection: Connection) -> str | None:
    """The revision the database is at (None before its first upgrade), read from alembic's version table: what
    `MigrationContext.get_current_revision` answers, without the two INFO lines alembic logs each time it is
    configured ("Context impl ...", "Will assume ... DDL"), which a readiness probe every few seconds turned
    into most of a quiet server's log."""
    if not inspect(connection).has_table(VERSION_TABLE):
        return None
    return connection.execute(text(f"SELECT version_num FROM {VERSION_TABLE}")).scalar_one_or_none()  # noqa: S608
