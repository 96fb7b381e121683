"""Small helpers used everywhere: time, cursors, hashing."""
from __future__ import annotations

import base64
import hashlib
import secrets
from datetime import UTC, datetime

from journey.errors import InvalidInput


def utcnow() -> datetime:
    return datetime.now(UTC)


def as_utc(value: datetime) -> datetime:
    """SQLite hands back naive datetimes; everything we store is UTC."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


MAX_ROW_ID = 2**31 - 1  # primary keys are 32-bit integers on PostgreSQL


def row_id(text: str | int | None) -> int | None:
    """The row id that `text` names (ASCII digits within a primary key's range), else None: an id that
    cannot exist is simply not found, never a database error."""
    raw = str(text) if text is not None else ""
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 10:
        return None
    value = int(raw)
    return value if 0 < value <= MAX_ROW_ID else None


def encode_cursor(last_id: int) -> str:
    return base64.urlsafe_b64encode(str(last_id).encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> int:
    if not cursor:
        return 0
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        last_id = int(base64.urlsafe_b64decode(padded.encode()).decode())
        if not 0 <= last_id <= MAX_ROW_ID:
            raise ValueError(last_id)
        return last_id
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidInput("cursor is not one this API gave out") from exc


def new_token() -> str:
    return "jt_" + secrets.token_urlsafe(32)


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
