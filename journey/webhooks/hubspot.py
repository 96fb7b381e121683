"""`POST /webhooks/hubspot`: a batch of HubSpot deal events, signature v3; one inbox row per event."""
from __future__ import annotations

import json
import time
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Request
from fastapi.responses import JSONResponse

from journey import metrics
from journey.adapters.crm import hubspot
from journey.adapters.crm.intake import Row, accept_all, wake
from journey.config import get_settings
from journey.errors import MalformedBody, NotFound, Unauthorized
from journey.webhooks.ingress import limited_body, require_content_type

router = APIRouter(prefix="/webhooks", tags=["webhooks"])


def signed_uri(request: Request) -> str:
    """The URI as HubSpot saw it: JOURNEY_PUBLIC_BASE_URL (behind a proxy) + path + query."""
    base = get_settings().public_base_url
    if not base:
        return str(request.url)
    query = request.url.query
    return base.rstrip("/") + request.url.path + (f"?{query}" if query else "")


@router.post("/hubspot", status_code=202, responses={400: {}, 401: {}, 404: {}, 413: {}, 415: {}, 503: {}})
def receive_hubspot(
    request: Request,
    body: Annotated[bytes, Depends(limited_body)],
    x_hubspot_signature_v3: Annotated[str | None, Header()] = None,
    x_hubspot_request_timestamp: Annotated[str | None, Header()] = None,
) -> JSONResponse:
    """Verify, store each event of the batch (idempotent per portal, deal, property, value and time), 202."""
    settings = get_settings()
    if not settings.hubspot_client_secret:
        raise NotFound("this endpoint is off until JOURNEY_HUBSPOT_CLIENT_SECRET is set")
    try:
        hubspot.verify_signature(secret=settings.hubspot_client_secret, method=request.method,
                                 uri=signed_uri(request), body=body, signature=x_hubspot_signature_v3,
                                 timestamp=x_hubspot_request_timestamp, now_ms=int(time.time() * 1000))
    except hubspot.SignatureError as exc:
        metrics.rejected("hubspot", "signature")
        raise Unauthorized(str(exc)) from exc
    require_content_type(request, "application/json")
    events = _events(body)
    accepted = accept_all("hubspot", [
        Row(external_id=hubspot.idempotency_key(e), type=str(e["subscriptionType"])[:100], payload=hubspot.dumps(e),
            subject=str(e["objectId"])[:300], occurred_at=hubspot.occurred_at(e)) for e in events])
    wake(request.app.state.dispatcher, accepted)
    return JSONResponse({"received": len(accepted), "duplicates": sum(a.duplicate for a in accepted),
                         "event_ids": [a.event_id for a in accepted]}, status_code=202)


def _events(body: bytes) -> list[dict[str, Any]]:
    try:
        raw = json.loads(body)
    except (ValueError, RecursionError) as exc:
        metrics.rejected("hubspot", "malformed")
        raise MalformedBody(f"body is not valid JSON: {str(exc)[:120]}") from exc
    try:
        return hubspot.parse_batch(raw)
    except hubspot.MalformedBatch as exc:
        metrics.rejected("hubspot", "malformed")
        raise MalformedBody(str(exc)) from exc
