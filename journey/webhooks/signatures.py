"""Standard Webhooks signatures (https://www.standardwebhooks.com), pure: no I/O, `now` passed in.

The signed content is `{webhook-id}.{webhook-timestamp}.{body}`, HMAC-SHA256 with the base64 secret; the
header holds one or more space-separated `v1,<base64>` signatures (key rotation).

Secrets are read as the reference library (`standardwebhooks` on PyPI, which `svix` wraps) reads them: an
optional `whsec_` prefix, then base64, padded or not. A URL-safe secret (`-`, `_`) is also read as URL-safe
base64; the reference library instead drops those characters, so both readings are tried.
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
from functools import lru_cache

PREFIX = "whsec_"
_BASE64 = re.compile(r"[A-Za-z0-9+/_-]+={0,3}")


class SignatureError(Exception):
    """The delivery is not proven to come from the sender; the message says why (safe to show)."""


@lru_cache(maxsize=16)
def secret_keys(secret: str) -> tuple[bytes, ...]:
    """The HMAC keys a secret may stand for (one, or two for URL-safe base64); ValueError saying why not.
    Decoded once per secret (every delivery checks the same one or two), not once per request."""
    raw = secret.strip().removeprefix(PREFIX)
    if not _BASE64.fullmatch(raw):
        raise ValueError("the webhook secret must be base64 (standard or URL-safe, padded or not), "
                         f"optionally prefixed with '{PREFIX}'")
    keys = []
    for text in (raw, raw.replace("-", "+").replace("_", "/")):
        try:
            key = base64.b64decode(text.rstrip("=") + "==")  # the reference library's reading
        except (binascii.Error, ValueError):
            continue
        if key and key not in keys:
            keys.append(key)
    if not keys:
        raise ValueError("the webhook secret is not valid base64 (its length is wrong) or is empty")
    return tuple(keys)


def check_secret(secret: str | None) -> str | None:
    """None when the secret (or its absence: the route is off) is usable; else what is wrong with it."""
    if secret is None:
        return None
    try:
        secret_keys(secret)
    except ValueError as exc:
        return f"JOURNEY_WEBHOOK_SECRET: {exc}"
    return None


def _digest(key: bytes, msg_id: str, timestamp: int, body: bytes) -> bytes:
    return base64.b64encode(hmac.new(key, f"{msg_id}.{timestamp}.".encode() + body, hashlib.sha256).digest())


def sign(*, secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    return "v1," + _digest(secret_keys(secret)[0], msg_id, timestamp, body).decode()


def verify(*, secret: str, msg_id: str | None, timestamp: str | None, signature_header: str | None,
           body: bytes, now: float, tolerance_seconds: int = 300) -> None:
    """Raise SignatureError unless one of the header's v1 signatures matches, within the time window."""
    if not msg_id or not timestamp or not signature_header:
        raise SignatureError("missing webhook-id, webhook-timestamp or webhook-signature header "
                             "(or svix-id, svix-timestamp, svix-signature)")
    try:
        ts = int(timestamp)
    except ValueError as exc:
        raise SignatureError("webhook-timestamp is not a Unix time in seconds") from exc
    if abs(now - ts) > tolerance_seconds:
        raise SignatureError(f"webhook-timestamp is more than {tolerance_seconds} s away from now")
    expected = [_digest(key, msg_id, ts, body) for key in secret_keys(secret)]
    matched = False
    for candidate in signature_header.split():
        version, _, value = candidate.partition(",")
        for digest in expected:
            if hmac.compare_digest(value.encode(), digest) and version == "v1":
                matched = True  # keep comparing: same work whichever entry matches
    if not matched:
        raise SignatureError("no webhook-signature entry matches the body")
