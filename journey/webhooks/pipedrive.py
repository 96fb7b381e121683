"""`POST /webhooks/pipedrive`: Pipedrive deal webhooks (v1 and v2) behind HTTP Basic credentials."""
from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Header, Request
from fastapi.responses import JSONResponse

from journey import metrics
from journey.adapters.crm import pipedrive
from journey.adapters.crm.intake import Row, accept_all, wake
from journey.config import get_settings
from journey.errors import MalformedBody, NotFound, Unauthorized
from journey.webhooks.ingress import limited_body, parse_json_object, require_content_type

router = APIRouter(prefix="/webhooks", tags=["webhooks"])


@router.post("/pipedrive", status_code=202, responses={400: {}, 401: {}, 404: {}, 413: {}, 415: {}, 503: {}})
def receive_pipedrive(request: Request, body: Annotated[bytes, Depends(limited_body)],
                      authorization: Annotated[str | None, Header()] = None) -> JSONResponse:
    """Verify the Basic credentials, store the delivery once (keyed by its meta ids and time), 202."""
    settings = get_settings()
    if not settings.pipedrive_user or not settings.pipedrive_password:
        raise NotFound("this endpoint is off until JOURNEY_PIPEDRIVE_USER and JOURNEY_PIPEDRIVE_PASSWORD are set")
    if not pipedrive.verify_basic(authorization, user=settings.pipedrive_user, password=settings.pipedrive_password):
        metrics.rejected("pipedrive", "credentials")
        raise Unauthorized("bad or missing HTTP Basic credentials",
                           headers={"WWW-Authenticate": 'Basic realm="journey"'})
    require_content_type(request, "application/json")
    try:
        raw = parse_json_object(body)
        event_type, key, deal_id = pipedrive.describe(raw)
        text = body.decode("utf-8")
    except (MalformedBody, pipedrive.MalformedWebhook, UnicodeDecodeError) as exc:
        metrics.rejected("pipedrive", "malformed")
        raise MalformedBody(str(exc)[:200]) from exc
    accepted = accept_all("pipedrive", [Row(external_id=key, type=event_type, payload=text, subject=deal_id,
                                            occurred_at=pipedrive.occurred_at(raw))])
    wake(request.app.state.dispatcher, accepted)
    return JSONResponse({"event_id": accepted[0].event_id, "duplicate": accepted[0].duplicate}, status_code=202)
