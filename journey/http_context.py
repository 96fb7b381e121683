"""Per request: a request id (the caller's `X-Request-ID` when it is sane, else a new one) bound to every log
line written while the request runs and returned in the response's `X-Request-ID`; one `http.request` log line
(method, route template, masked path, status, duration) and the HTTP histogram by route template and status
class. A pure ASGI middleware: the route is the one the router matched (`scope["route"]`), never the raw path."""
from __future__ import annotations

import re
import time
import uuid
from typing import Any

import structlog
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from journey import metrics
from journey.logs import masked_path

log = structlog.get_logger("journey.http")
HEADER = "X-Request-ID"
_SANE_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,127}")
QUIET = ("/healthz", "/readyz", "/metrics", "/static", "/docs/assets")  # logged at debug: probes and assets


def current_request_id() -> str | None:
    return structlog.contextvars.get_contextvars().get("request_id")


def request_id(given: str | None) -> str:
    """The caller's id if it is 1-128 letters, digits and `._:-` (it ends up in logs), else a new uuid4 hex."""
    if given and _SANE_ID.fullmatch(given):
        return given
    return uuid.uuid4().hex


def route_template(scope: Scope) -> str:
    """The matched route's path template (`/api/accounts/{ref}`); a mount's prefix (`/static`); the path of a
    plain route without parameters (FastAPI's `/openapi.json`); else `unmatched` (never a raw path)."""
    path = getattr(scope.get("route"), "path", None)
    if isinstance(path, str) and path:
        return path
    if scope.get("endpoint") is not None:
        if scope.get("root_path"):
            return str(scope["root_path"])
        if not scope.get("path_params"):
            return str(scope.get("path", "unmatched"))
    return "unmatched"


class RequestContext:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        rid = request_id(headers.get(HEADER.lower()))
        started = time.perf_counter()
        status = [500]

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                status[0] = message["status"]
                message["headers"] = [*message.get("headers", []), (HEADER.lower().encode(), rid.encode())]
            await send(message)

        # Each request runs in a task of its own (its own copy of the context): the id stays bound through the
        # error handlers outside this middleware (the 500 handler logs `request.failed` with it) and goes with
        # the task. Clearing first drops anything the task inherited.
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(request_id=rid)
        try:
            await self.app(scope, receive, send_with_id)
        finally:
            self._record(scope, status[0], time.perf_counter() - started)

    @staticmethod
    def _record(scope: Scope, status: int, seconds: float) -> None:
        route, path = route_template(scope), scope.get("path", "")
        metrics.http_request(scope.get("method", "GET"), route, status, seconds)
        fields: dict[str, Any] = {"method": scope.get("method"), "route": route, "path": masked_path(path),
                                  "status": status, "duration_ms": round(seconds * 1000, 1)}
        quiet = path.startswith(QUIET) and status < 400
        (log.debug if quiet else log.info)("http.request", **fields)
