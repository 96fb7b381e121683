"""Browser sessions, CSRF and the sign-in rate limit.

- The session cookie holds a random token signed with `JOURNEY_SECRET_KEY` (itsdangerous); the server keeps
  its SHA-256 digest (`web_session`), so signing out or deactivating a member ends the session at once.
  HttpOnly, SameSite=Lax, Secure when the public base URL (or the request) is https.
- CSRF: every form carries a token. Signed in, it is an HMAC of the session token (bound to the session,
  nothing to store); signed out (the sign-in forms), it is the value of a signed cookie (double submit).
  A cross-site `Origin` header is refused too.
- Rate limit on sign-in, in memory (per process), over 15 minutes: 5 wrong passwords per address *and*
  email together (a stranger's guesses never lock the member out: the right password from another address
  still works), 30 wrong passwords or link requests per address (against one password sprayed over many
  emails), 3 link requests per email. Several web workers each keep their own count, so the effective limit
  is multiplied by the number of workers: run one web process, or put a proxy limit in front. Behind a
  proxy the address is the one uvicorn reads from `X-Forwarded-For` of a trusted proxy (loopback by default).
"""
from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
from collections import deque
from dataclasses import dataclass
from typing import Annotated
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from fastapi import Depends, Form, Request, Response
from itsdangerous import BadSignature, URLSafeTimedSerializer

from journey.config import get_settings
from journey.deps import ReadSession
from journey.errors import Forbidden, JourneyError
from journey.kit import token_digest, utcnow
from journey.models import TeamMember
from journey.policy import ANYTHING, Action, Resource, can, sees_every_account
from journey.web import repository
from journey.web.service import SESSION_LIFETIME

SESSION_COOKIE = "journey_session"
ANON_CSRF_COOKIE = "journey_csrf"


class SignInRequired(JourneyError):
    status_code = 401
    code = "sign_in_required"


class CsrfRefused(Forbidden):
    code = "csrf_failed"


class TooManyAttempts(JourneyError):
    status_code = 429
    code = "too_many_attempts"


# --------------------------------------------------------------------------------------------- viewer
@dataclass(frozen=True)
class Viewer:
    """The signed-in member as the pages see them."""

    member: TeamMember
    token: str
    csrf: str

    @property
    def tz(self) -> ZoneInfo:
        try:
            return ZoneInfo(self.member.timezone or "UTC")
        except (KeyError, ValueError):
            return ZoneInfo("UTC")

    @property
    def sees_everything(self) -> bool:
        return sees_every_account(self.member)

    def can(self, action: str, resource: Resource = ANYTHING) -> bool:
        """`journey.policy.can` for the pages: `{% if viewer.can('view_inbox') %}`."""
        return can(self.member, Action(action), resource)


def _serializer(salt: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(get_settings().resolved_secret_key(), salt=salt)


def _hmac(purpose: str, value: str) -> str:
    key = get_settings().resolved_secret_key().encode()
    return hmac.new(key, f"{purpose}|{value}".encode(), hashlib.sha256).hexdigest()


def session_token(request: Request) -> str | None:
    raw = request.cookies.get(SESSION_COOKIE)
    if not raw:
        return None
    try:
        return str(_serializer("journey.session").loads(raw, max_age=int(SESSION_LIFETIME.total_seconds())))
    except BadSignature:
        return None


def optional_viewer(request: Request, session: ReadSession) -> Viewer | None:
    token = session_token(request)
    if token is None:
        return None
    member = repository.member_for_session(session, token_digest(token), utcnow())
    if member is None:
        return None
    session.expunge(member)
    return Viewer(member=member, token=token, csrf=csrf_for(token))


def csrf_for(token: str) -> str:
    """The CSRF token of the forms of the session whose token this is."""
    return _hmac("csrf", token)


def session_cookie_value(token: str) -> str:
    """What the session cookie holds: the session token, signed."""
    return _serializer("journey.session").dumps(token)


def current_viewer(request: Request, viewer: Annotated[Viewer | None, Depends(optional_viewer)]) -> Viewer:
    if viewer is None:
        raise SignInRequired("sign in to see this page")
    return viewer


def _check_origin(request: Request) -> None:
    origin = request.headers.get("origin")
    if origin and origin != "null" and urlsplit(origin).netloc != request.headers.get("host", ""):
        raise CsrfRefused("this form was sent from another site")


def form_viewer(request: Request, viewer: Annotated[Viewer, Depends(current_viewer)],
                csrf_token: Annotated[str, Form()] = "") -> Viewer:
    """The signed-in viewer of a form post whose CSRF token matches their session."""
    _check_origin(request)
    if not csrf_token or not hmac.compare_digest(csrf_token, viewer.csrf):
        raise CsrfRefused("the form has expired or did not come from journey: reload the page and try again")
    return viewer


PageViewer = Annotated[Viewer, Depends(current_viewer)]
MaybeViewer = Annotated[Viewer | None, Depends(optional_viewer)]
FormViewer = Annotated[Viewer, Depends(form_viewer)]


# ------------------------------------------------------------------------------ anonymous forms' CSRF
def anon_csrf(request: Request) -> tuple[str, str | None]:
    """(token for the form, signed cookie value to set or None when the browser already has one)."""
    raw = request.cookies.get(ANON_CSRF_COOKIE)
    if raw:
        try:
            return str(_serializer("journey.csrf").loads(raw, max_age=86400)), None
        except BadSignature:
            pass
    token = secrets.token_urlsafe(24)
    return token, _serializer("journey.csrf").dumps(token)


def check_anon_csrf(request: Request, csrf_token: Annotated[str, Form()] = "") -> None:
    _check_origin(request)
    raw = request.cookies.get(ANON_CSRF_COOKIE, "")
    try:
        expected = str(_serializer("journey.csrf").loads(raw, max_age=86400)) if raw else ""
    except BadSignature:
        expected = ""
    if not expected or not csrf_token or not hmac.compare_digest(expected, csrf_token):
        raise CsrfRefused("the sign-in form has expired: reload the page and try again")


AnonCsrf = Annotated[None, Depends(check_anon_csrf)]


# ------------------------------------------------------------------------------------------- cookies
def secure_cookies(request: Request) -> bool:
    base = get_settings().public_base_url
    return (base or str(request.base_url)).startswith("https")


def set_session_cookie(response: Response, request: Request, token: str) -> None:
    response.set_cookie(SESSION_COOKIE, session_cookie_value(token),
                        max_age=int(SESSION_LIFETIME.total_seconds()), httponly=True, samesite="lax",
                        secure=secure_cookies(request), path="/")


def set_anon_csrf_cookie(response: Response, request: Request, value: str | None) -> None:
    if value is not None:
        response.set_cookie(ANON_CSRF_COOKIE, value, max_age=86400, httponly=True, samesite="lax",
                            secure=secure_cookies(request), path="/")


def clear_session_cookie(response: Response) -> None:
    response.delete_cookie(SESSION_COOKIE, path="/")


# ---------------------------------------------------------------------------------------- rate limit
class RateLimiter:
    """At most `limit` hits per key in a sliding window of `window` seconds (in memory, per process)."""

    def __init__(self, limit: int, window: float) -> None:
        self.limit, self.window = limit, window
        self._hits: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def retry_after(self, key: str, now: float | None = None) -> int:
        """Seconds until `key` may try again; 0 when it may now."""
        now = time.monotonic() if now is None else now
        with self._lock:
            hits = self._recent(key, now)
            if len(hits) < self.limit:
                return 0
            return max(1, int(hits[0] + self.window - now) + 1)

    def hit(self, key: str, now: float | None = None) -> None:
        now = time.monotonic() if now is None else now
        with self._lock:
            self._recent(key, now).append(now)
            if len(self._hits) > 50_000:  # bound memory under a spray of keys
                for stale in [k for k, v in self._hits.items() if not v or v[-1] < now - self.window]:
                    del self._hits[stale]

    def reset(self, key: str) -> None:
        with self._lock:
            self._hits.pop(key, None)

    def release(self, key: str) -> None:
        """Take back one hit (an attempt counted before it turned out to be a right password)."""
        with self._lock:
            hits = self._hits.get(key)
            if hits:
                hits.pop()

    def _recent(self, key: str, now: float) -> deque[float]:
        hits = self._hits.setdefault(key, deque())
        while hits and hits[0] <= now - self.window:
            hits.popleft()
        return hits


FAILED_PASSWORDS = RateLimiter(limit=5, window=15 * 60)  # key: password_key(address, email)
ATTEMPTS_PER_IP = RateLimiter(limit=30, window=15 * 60)  # wrong passwords and link requests per address
LINK_REQUESTS = RateLimiter(limit=3, window=15 * 60)  # per email


def client_ip(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def password_key(ip: str, email: str) -> str:
    return f"{ip} {email}"


def refuse_if_limited(*checks: tuple[RateLimiter, str]) -> None:
    wait = max(limiter.retry_after(key) for limiter, key in checks)
    if wait:
        minutes = max(1, round(wait / 60))
        raise TooManyAttempts(f"too many sign-in attempts: try again in {minutes} minute{'s' * (minutes > 1)}",
                              headers={"Retry-After": str(wait)})
