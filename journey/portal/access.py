"""How a portal request is let in: the share link's token (a bearer header for the API, the path for the
page), rate limited per link, then resolved (404 never issued, 410 revoked or expired)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from journey.errors import LinkRateLimited, Unauthorized
from journey.models import ShareLink
from journey.portal import domain, links
from journey.web.auth import RateLimiter

PER_LINK = RateLimiter(limit=120, window=60)  # requests per link per minute (in memory, per process)


def bearer_token(authorization: str | None) -> str:
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("send the token of your share link: Authorization: Bearer <token>")
    return token.strip()


def link_for(session: Session, token: str, *, now: datetime) -> ShareLink:
    key = domain.digest_of(token)
    wait = PER_LINK.retry_after(key)
    if wait:
        raise LinkRateLimited(f"too many requests through this link: try again in {wait} s", retry_after=wait)
    PER_LINK.hit(key)
    return links.resolve(session, token, now=now)
