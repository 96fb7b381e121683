"""Declarative base, shared column types and enums."""
from __future__ import annotations

import enum
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, DateTime, MetaData, String, TypeDecorator
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC on the way in and out, on SQLite (naive storage) as on PostgreSQL."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


JSONType = JSON().with_variant(JSONB(), "postgresql")


class StrEnumType(TypeDecorator[str]):
    """A StrEnum stored as its value in a VARCHAR (no native enum types to migrate)."""

    impl = String(32)
    cache_ok = True

    def __init__(self, enum_cls: type[enum.StrEnum]) -> None:
        super().__init__()
        self.enum_cls = enum_cls

    def process_bind_param(self, value: Any, dialect: Any) -> str | None:
        return None if value is None else self.enum_cls(value).value

    def process_result_value(self, value: str | None, dialect: Any) -> Any:
        return None if value is None else self.enum_cls(value)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {datetime: UTCDateTime(), dict[str, Any]: JSONType, list[Any]: JSONType}


class Role(enum.StrEnum):
    ae = "ae"
    se = "se"
    csm = "csm"
    am = "am"
    manager = "manager"
    admin = "admin"
    revops = "revops"  # revenue operations: reads every book, the team dashboard and the inbox; acts on none


class JourneyStatus(enum.StrEnum):
    active = "active"
    paused = "paused"
    completed = "completed"


class EventStatus(enum.StrEnum):
    pending = "pending"
    processed = "processed"
    ignored = "ignored"
    dead = "dead"


class DealStatus(enum.StrEnum):
    open = "open"
    won = "won"
    lost = "lost"


class TaskStatus(enum.StrEnum):
    todo = "todo"
    in_progress = "in_progress"
    done = "done"
    skipped = "skipped"


class ActorKind(enum.StrEnum):
    user = "user"
    crm = "crm"
    flow = "flow"
    scheduler = "scheduler"
    cli = "cli"
    customer = "customer"  # a customer stakeholder, through their share link
