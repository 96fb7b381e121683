"""`POST /webhooks/salesforce/{token}`: Salesforce Outbound Messages on Opportunity (SOAP).

The Ack is sent only once every notification is committed to the inbox; any error is a SOAP fault with
its HTTP status, so Salesforce keeps the message in its queue and retries (for up to 24 hours).
"""
from __future__ import annotations

import hmac
from typing import Annotated

import structlog
from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from journey import db, metrics
from journey.adapters.crm import salesforce
from journey.adapters.crm.common import to_datetime
from journey.adapters.crm.intake import Row, accept_all, wake
from journey.config import get_settings
from journey.errors import JourneyError, MalformedBody, NotFound, ServiceUnavailable, Unauthorized
from journey.logs import masked_path
from journey.webhooks.ingress import limited_body, require_content_type

router = APIRouter(prefix="/webhooks", tags=["webhooks"])
XML = "text/xml; charset=utf-8"
log = structlog.get_logger("journey.webhooks.salesforce")


class Internal(JourneyError):
    """An unexpected failure, answered as a SOAP Server fault (Salesforce retries the message)."""

    status_code = 500
    code = "internal"


async def _body_or_error(request: Request) -> bytes | JourneyError:
    try:
        return await limited_body(request)
    except JourneyError as exc:
        return exc


@router.post("/salesforce/{token}", response_class=Response,
             responses={200: {"content": {"text/xml": {}}}, 400: {}, 401: {}, 404: {}, 413: {}, 415: {}, 500: {},
                        503: {}})
def receive_salesforce(token: str, request: Request,
                       body: Annotated[bytes | JourneyError, Depends(_body_or_error)]) -> Response:
    """Store each notification once (keyed by its Id), then answer the SOAP Ack."""
    try:
        if isinstance(body, JourneyError):
            raise body
        accepted = _accept(token, request, body)
    except JourneyError as exc:
        return _fault(exc)
    except Exception as exc:  # noqa: BLE001 - Salesforce reads a SOAP fault, never a JSON problem
        if db.is_unavailable(exc):
            return _fault(ServiceUnavailable("the database cannot be reached; retry later"))
        log.exception("request.failed", path=masked_path(request.url.path))
        return _fault(Internal("unexpected error; it has been logged"))
    wake(request.app.state.dispatcher, accepted)
    return Response(salesforce.ACK, media_type=XML)


def _fault(exc: JourneyError) -> Response:
    return Response(salesforce.fault(exc.detail, server=exc.status_code >= 500), status_code=exc.status_code,
                    media_type=XML, headers=exc.headers)


def _accept(token: str, request: Request, body: bytes) -> list:  # type: ignore[type-arg]
    settings = get_settings()
    if not settings.salesforce_path_token or not settings.salesforce_org_id:
        raise NotFound("this endpoint is off until JOURNEY_SALESFORCE_ORG_ID and JOURNEY_SALESFORCE_PATH_TOKEN are set")
    if not hmac.compare_digest(token.encode(), settings.salesforce_path_token.encode()):
        metrics.rejected("salesforce", "token")
        raise Unauthorized("unknown path token")
    require_content_type(request, "text/xml", "application/soap+xml", "application/xml")
    try:
        org_id, notifications = salesforce.parse_message(body)
    except salesforce.MalformedMessage as exc:
        metrics.rejected("salesforce", "malformed")
        raise MalformedBody(str(exc)) from exc
    if not salesforce.same_org(settings.salesforce_org_id, org_id):
        metrics.rejected("salesforce", "organization")
        raise Unauthorized("OrganizationId is not the configured JOURNEY_SALESFORCE_ORG_ID")
    return accept_all("salesforce", [
        Row(external_id=n["notification_id"], type=salesforce.EVENT_TYPE if n["sobject_type"] == "Opportunity"
            else f"outbound.{n['sobject_type'] or 'unknown'}"[:100], payload=salesforce.dumps(n, org_id),
            subject=str(n["fields"]["Id"])[:300],
            occurred_at=to_datetime(n["fields"].get("LastModifiedDate"))) for n in notifications])
