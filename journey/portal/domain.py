"""The customer's shared success plan: pure rules of share links and of what a customer may do.

A link's token is random and shown once; only its SHA-256 digest is stored. A link is usable until it is
revoked or expires (60 days by default, renewable). A customer stakeholder marks only tasks their side is
Responsible for; they comment on any task and validate or comment on any objective.
"""
from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

DEFAULT_LIFETIME = timedelta(days=60)
MAX_LIFETIME = timedelta(days=365)
LinkState = Literal["active", "revoked", "expired"]


@dataclass(frozen=True)
class NewToken:
    token: str  # in the link, never stored
    digest: str


def new_token() -> NewToken:
    token = "sp_" + secrets.token_urlsafe(32)
    return NewToken(token=token, digest=digest_of(token))


def digest_of(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def plausible(token: str) -> bool:
    """A token this server could have issued (cheap refusal before any query)."""
    return token.startswith("sp_") and 20 <= len(token) <= 100


def state_of(*, expires_at: datetime, revoked_at: datetime | None, now: datetime) -> LinkState:
    if revoked_at is not None:
        return "revoked"
    return "expired" if now >= expires_at else "active"


def lifetime(days: int | None) -> timedelta:
    """The lifetime asked for (1 to 365 days), else the default."""
    if days is None:
        return DEFAULT_LIFETIME
    return min(max(timedelta(days=days), timedelta(days=1)), MAX_LIFETIME)


def link_url(base_url: str, token: str) -> str:
    return f"{base_url.rstrip('/')}/p/{token}"
