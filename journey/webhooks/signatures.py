"""Standard Webhooks signatures (https://www.standardwebhooks.com), pure: no I/O, `now` passed in.

The signed content is `{webhook-id}.{webhook-timestamp}.{body}`, HMAC-SHA256 with the base64 secret after
`whsec_`; the header holds one or more space-separated `v1,<base64>` signatures (key rotation).
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import hmac


class SignatureError(Exception):
    """The delivery is not proven to come from the sender; the message says why (safe to show)."""


def secret_key(secret: str) -> bytes:
    raw = secret.removeprefix("whsec_")
    try:
        return base64.b64decode(raw, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ValueError("the webhook secret must be 'whsec_' followed by base64") from exc


def sign(*, secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    digest = hmac.new(secret_key(secret), f"{msg_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def verify(*, secret: str, msg_id: str | None, timestamp: str | None, signature_header: str | None,
           body: bytes, now: float, tolerance_seconds: int = 300) -> None:
    """Raise SignatureError unless one of the header's v1 signatures matches, within the time window."""
    if not msg_id or not timestamp or not signature_header:
        raise SignatureError("missing webhook-id, webhook-timestamp or webhook-signature header")
    try:
        ts = int(timestamp)
    except ValueError as exc:
        raise SignatureError("webhook-timestamp is not a Unix time in seconds") from exc
    if abs(now - ts) > tolerance_seconds:
        raise SignatureError(f"webhook-timestamp is more than {tolerance_seconds} s away from now")
    expected = sign(secret=secret, msg_id=msg_id, timestamp=ts, body=body).split(",", 1)[1].encode()
    matched = False
    for candidate in signature_header.split():
        version, _, value = candidate.partition(",")
        if version == "v1" and hmac.compare_digest(value.encode(), expected):
            matched = True  # keep comparing: same work whichever entry matches
    if not matched:
        raise SignatureError("no webhook-signature entry matches the body")
