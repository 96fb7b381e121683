"""`POST /webhooks/events`: Standard Webhooks deliveries of generic deal events."""
from __future__ import annotations

import time
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ValidationError

from journey import db, metrics
from journey.config import get_settings
from journey.deals.events import deal_id_of, parse_event_data
from journey.errors import InvalidInput, MalformedBody, NotFound, Unauthorized
from journey.inbox import service as inbox_service
from journey.kit import utcnow
from journey.webhooks import signatures
from journey.webhooks.ingress import limited_body, parse_json_object, require_content_type

router = APIRouter(prefix="/webhooks", tags=["webhooks"])


class AcceptedOut(BaseModel):
    event_id: int
    duplicate: bool


_HEADERS = ("webhook-id", "webhook-timestamp", "webhook-signature", "svix-id", "svix-timestamp", "svix-signature")
# The signature headers are read from the request itself, not declared as six FastAPI `Header` parameters
# (each one a dependency solved on every delivery); the OpenAPI document still lists them
_HEADER_DOCS = {"parameters": [{"name": name, "in": "header", "required": False, "schema": {"type": "string"}}
                               for name in _HEADERS]}


@router.post("/events", status_code=202, response_model=AcceptedOut, openapi_extra=_HEADER_DOCS,
             responses={400: {}, 401: {}, 404: {}, 413: {}, 415: {}, 422: {}, 503: {}})
def receive_event(request: Request, body: Annotated[bytes, Depends(limited_body)]) -> JSONResponse:
    settings = get_settings()
    if not settings.webhook_secret or signatures.check_secret(settings.webhook_secret):
        raise NotFound("this endpoint is off until JOURNEY_WEBHOOK_SECRET is set to a valid secret "
                       "(`journey config check` says what is wrong)")
    require_content_type(request, "application/json")
    headers = request.headers
    # Svix sends svix-* names by default; same scheme, same meaning
    webhook_id = headers.get("webhook-id") or headers.get("svix-id")
    try:
        signatures.verify(secret=settings.webhook_secret, msg_id=webhook_id,
                          timestamp=headers.get("webhook-timestamp") or headers.get("svix-timestamp"),
                          signature_header=headers.get("webhook-signature") or headers.get("svix-signature"),
                          body=body, now=time.time(), tolerance_seconds=settings.webhook_tolerance_seconds)
    except signatures.SignatureError as exc:
        metrics.rejected("events", "signature")
        raise Unauthorized(str(exc)) from exc
    assert webhook_id is not None
    if len(webhook_id) > 300:
        raise MalformedBody("webhook-id is longer than 300 characters")
    event_type, data, occurred_at = _validated(parse_json_object(body))
    with db.core_transaction() as conn:  # verify -> one INSERT -> commit -> 202: no ORM session on this path
        accepted = inbox_service.accept_delivery(
            conn, source="events", external_id=webhook_id, type=event_type, payload=body.decode(),
            subject=deal_id_of(event_type, data), occurred_at=occurred_at, now=utcnow())
    metrics.received("events", duplicate=accepted.duplicate)
    if not accepted.duplicate:
        request.app.state.dispatcher.notify(accepted.event_id)
    return JSONResponse({"event_id": accepted.event_id, "duplicate": accepted.duplicate}, status_code=202)


class _Envelope(BaseModel):
    type: str
    timestamp: datetime | None = None
    data: dict[str, Any] = {}


def _validated(raw: dict[str, Any]) -> tuple[str, dict[str, Any], datetime | None]:
    try:
        envelope = _Envelope.model_validate(raw)
    except ValidationError as exc:
        raise MalformedBody("body must be {\"type\": str, \"timestamp\": ISO time, \"data\": {...}}") from exc
    try:
        parse_event_data(envelope.type, envelope.data)
    except ValidationError as exc:
        metrics.rejected("events", "invalid")
        raise InvalidInput(_first_errors(exc)) from exc
    return envelope.type, envelope.data, envelope.timestamp


def _first_errors(exc: ValidationError) -> str:
    parts = [f"data.{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()[:5]]
    return "; ".join(parts)
