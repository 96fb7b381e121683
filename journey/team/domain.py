"""Pure rules of API tokens: whether one still works, how it is shown without its secret."""
from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime, timedelta

HINT_CHARS = 4  # the last characters kept to tell tokens apart (of 43 random ones: no help to a guesser)
TOUCH_EVERY = timedelta(hours=1)  # how stale `last_used_at` may be: one write per token per hour at most


class TokenState(enum.StrEnum):
    active = "active"
    expired = "expired"
    revoked = "revoked"


def token_state(*, expires_at: datetime, revoked_at: datetime | None, now: datetime) -> TokenState:
    """Revoked wins over expired: an operator's decision is the more useful thing to report."""
    if revoked_at is not None:
        return TokenState.revoked
    return TokenState.active if now < expires_at else TokenState.expired


def token_hint(token: str) -> str:
    return token[-HINT_CHARS:]


def shown(hint: str | None) -> str:
    """How a token is printed in lists: its prefix and last characters, never the secret."""
    return f"jt_...{hint}" if hint else "jt_..."


def needs_touch(last_used_at: datetime | None, now: datetime) -> bool:
    return last_used_at is None or now - last_used_at >= TOUCH_EVERY


@dataclass(frozen=True)
class TokenView:
    """One token as `journey tokens list` shows it."""

    id: int
    email: str
    label: str
    token: str
    created_at: datetime
    expires_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None
    state: TokenState
