"""What every webhook route shares: a bounded body read, content-type and JSON checks."""
from __future__ import annotations

import json
from typing import Any

from fastapi import Request

from journey import metrics
from journey.config import get_settings
from journey.errors import MalformedBody, PayloadTooLarge, UnsupportedMediaType

DRAIN_LIMIT = 8 * 1024 * 1024  # read (and drop) up to this much of a too-large body, so the sender gets our 413


async def limited_body(request: Request) -> bytes:
    """The request body, or 413 when it is larger than JOURNEY_MAX_BODY_BYTES (1 MiB)."""
    limit = get_settings().max_body_bytes
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > DRAIN_LIMIT:
        metrics.rejected(source_of(request), "too_large")
        raise PayloadTooLarge(f"body over {limit} bytes")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size <= limit:
            chunks.append(chunk)
        elif size > DRAIN_LIMIT:
            break
    if size > limit:
        metrics.rejected(source_of(request), "too_large")
        raise PayloadTooLarge(f"body over {limit} bytes")
    return b"".join(chunks)


def require_content_type(request: Request, *accepted: str) -> None:
    media = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if media not in accepted:
        metrics.rejected(source_of(request), "media_type")
        raise UnsupportedMediaType(f"content-type must be {' or '.join(accepted)}, not {media or 'missing'}")


def source_of(request: Request) -> str:
    """The webhook source a request is for: the path segment after /webhooks/ (events, hubspot, ...)."""
    parts = request.url.path.split("/")
    return parts[2] if len(parts) > 2 and parts[1] == "webhooks" and parts[2] else "unknown"


def parse_json_object(body: bytes) -> dict[str, Any]:
    try:
        value = json.loads(body)
    except (ValueError, RecursionError) as exc:
        raise MalformedBody(f"body is not valid JSON: {str(exc)[:120]}") from exc
    if not isinstance(value, dict):
        raise MalformedBody("body must be a JSON object")
    return value
