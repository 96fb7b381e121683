"""The FastAPI application: webhooks, API, operations routes, and the embedded flow runner."""
from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any

import structlog
from fastapi import FastAPI, Header, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from sqlalchemy import text
from starlette.exceptions import HTTPException as StarletteHTTPException

from journey import db
from journey.accounts.endpoints import router as accounts
from journey.adapters.orchestrator import server_mode
from journey.api_docs import describe_api, mount_api_docs
from journey.config import Settings, get_settings
from journey.deals.endpoints import router as journeys
from journey.errors import JourneyError
from journey.handoff.endpoints import router as handoff
from journey.health.endpoints import router as health
from journey.http_context import HEADER as REQUEST_ID_HEADER
from journey.http_context import RequestContext, current_request_id
from journey.inbox.endpoints import router as inbox
from journey.inbox.service import release_all_leases
from journey.kpis.endpoints import router as kpis
from journey.logs import install_masking, masked_path
from journey.metrics import REGISTRY, scrape_allowed
from journey.metrics_db import register
from journey.migrations import current_revision, head_revision
from journey.notify.endpoints import router as reminders
from journey.objectives.endpoints import router as objectives
from journey.onboarding.endpoints import router as plan
from journey.portal.endpoints import router as portal
from journey.portal.pages import router as portal_pages
from journey.reviews.endpoints import router as reviews
from journey.runner_process import RunnerProcess
from journey.scheduler import SchedulerService
from journey.team.endpoints import router as team
from journey.web.errors import error_page, is_page
from journey.web.routes import mount_web
from journey.webhooks.endpoints import router as webhooks
from journey.webhooks.hubspot import router as hubspot_webhooks
from journey.webhooks.pipedrive import router as pipedrive_webhooks
from journey.webhooks.salesforce import router as salesforce_webhooks
from journey.worked.endpoints import router as worked


class NullDispatcher:
    """Stands in for the runner where flows run elsewhere (JOURNEY_RUNNER=0)."""

    engine_state = "off"

    def notify(self, event_id: int | None = None) -> None:
        return None


log = structlog.get_logger("journey.app")


def problem(status: int, code: str, detail: str, headers: dict[str, str] | None = None,
            **extra: object) -> JSONResponse:
    return JSONResponse({"code": code, "detail": detail, **extra}, status_code=status, headers=headers,
                        media_type="application/problem+json")


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(JourneyError)
    async def _journey_error(request: Request, exc: JourneyError) -> Response:
        if is_page(request):
            return error_page(request, exc.status_code, exc.code, exc.detail, exc.headers)
        return problem(exc.status_code, exc.code, exc.detail, exc.headers)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [{"loc": list(e.get("loc", [])), "msg": e.get("msg")} for e in exc.errors()[:20]]
        first = errors[0] if errors else {"loc": [], "msg": "invalid request"}
        detail = f"{'.'.join(str(p) for p in first['loc'])}: {first['msg']}"
        return problem(422, "invalid", detail, errors=errors)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        codes = {404: "not_found", 405: "method_not_allowed", 401: "unauthorized", 403: "forbidden"}
        if is_page(request):
            return error_page(request, exc.status_code, codes.get(exc.status_code, "http_error"), str(exc.detail))
        return problem(exc.status_code, codes.get(exc.status_code, "http_error"), str(exc.detail),
                       getattr(exc, "headers", None))

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        if db.is_unavailable(exc):
            return problem(503, "database_unavailable", "the database cannot be reached; retry later",
                           {"Retry-After": "30"})
        log.exception("request.failed", path=masked_path(request.url.path))
        rid = current_request_id()
        return problem(500, "internal", "unexpected error; it has been logged",
                       {REQUEST_ID_HEADER: rid} if rid else None)


def _start_runner(app: FastAPI, settings: Settings) -> None:
    if not settings.runner:
        app.state.dispatcher = NullDispatcher()
        return
    if server_mode():
        from flows.runner import PrefectSubmitter  # lazy: flows load Prefect (~0.7 s); see below

        submitter = PrefectSubmitter(settings)  # flows run in `journey worker` processes
        submitter.start()
        app.state.dispatcher = submitter
        return
    if settings.is_sqlite:
        release_all_leases()  # the embedded server is the only process working this inbox
    if settings.runner_process:  # intake never waits on processing: flows run on the other core, and this
        runner: Any = RunnerProcess(settings)  # process never imports them (nor Prefect): it starts faster, smaller
    else:
        from flows.runner import EmbeddedRunner  # lazy: loads Prefect, which an app without its runner never needs

        runner = EmbeddedRunner(settings)
    runner.start()
    app.state.dispatcher = runner


def _start_scheduler(app: FastAPI, settings: Settings) -> None:
    """The embedded default (SQLite) runs the one scheduler as a thread of this process.

    `app.state.evaluate_soon` tells that scheduler, wherever it runs, that accounts were marked for
    evaluation; elsewhere (a scheduler in another process) its sweep finds them at its next poll."""
    app.state.scheduler = None
    app.state.evaluate_soon = None
    if getattr(app.state.dispatcher, "runs_scheduler", False):
        app.state.evaluate_soon = app.state.dispatcher.evaluate_soon
        return  # the runner's child process runs it, away from the requests
    if settings.is_sqlite and settings.scheduler:
        app.state.scheduler = SchedulerService(settings, wake=app.state.dispatcher.notify)
        app.state.scheduler.start()
        app.state.evaluate_soon = app.state.scheduler.evaluate_soon


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    settings = get_settings()
    _start_runner(app, settings)
    _start_scheduler(app, settings)
    yield
    dispatcher = app.state.dispatcher
    if hasattr(dispatcher, "signal_stop"):
        dispatcher.signal_stop()  # the runner's child finishes its batch while the scheduler stops
    if app.state.scheduler is not None:
        app.state.scheduler.stop(timeout=10)
    if hasattr(dispatcher, "stop"):
        dispatcher.stop()


class MetricsRefused(JourneyError):
    status_code = 401
    code = "metrics_unauthorized"


def create_app(*, start_runner: bool = True, bind_host: str | None = None) -> FastAPI:
    """The app; `bind_host` is the interface `journey serve` listens on (None: unknown), which decides who may
    read `/metrics` without JOURNEY_METRICS_TOKEN."""

    install_masking()
    app = FastAPI(title="journey", version="0.1.0", lifespan=_lifespan if start_runner else None,
                  description="Post-signature customer journeys: onboarding plans, handoff packets, "
                              "reviews and health, started by CRM webhooks.", docs_url=None, redoc_url=None)
    app.state.bind_host = bind_host
    app.add_middleware(RequestContext)
    mount_api_docs(app)
    describe_api(app)
    if not start_runner:
        app.state.dispatcher = NullDispatcher()
    _install_error_handlers(app)
    for router in (webhooks, hubspot_webhooks, salesforce_webhooks, pipedrive_webhooks,
                   accounts, plan, handoff, reviews, journeys, inbox, health, reminders, objectives, team, kpis,
                   worked, portal, portal_pages):
        app.include_router(router)

    mount_web(app)
    _operations(app)
    return app


def _operations(app: FastAPI) -> None:
    @app.get("/healthz", tags=["operations"])
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/readyz", tags=["operations"])
    def readyz() -> JSONResponse:
        try:
            with db.get_engine(writer=False).connect() as conn:
                conn.execute(text("SELECT 1"))
                current = current_revision(conn)
        except Exception:  # noqa: BLE001 - any failure means not ready
            return problem(503, "database_unavailable", "the database cannot be reached", {"Retry-After": "5"})
        head = head_revision()
        if current != head:
            return problem(503, "migrations_pending", f"database at {current}, code at {head}: journey db upgrade")
        dispatcher = getattr(app.state, "dispatcher", None)
        return JSONResponse({"status": "ready", "revision": current,
                             "flow_engine": getattr(dispatcher, "engine_state", None),
                             "runner_process": getattr(dispatcher, "process_state", None)})

    @app.get("/metrics", tags=["operations"], response_class=PlainTextResponse,
             responses={401: {"description": "no JOURNEY_METRICS_TOKEN bearer (or not a loopback scrape)"}})
    def metrics(request: Request, authorization: Annotated[str | None, Header()] = None) -> PlainTextResponse:
        """Prometheus text, for `Authorization: Bearer $JOURNEY_METRICS_TOKEN`; without that setting, only
        from loopback to a server bound to loopback."""
        from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

        if not scrape_allowed(authorization=authorization, token=get_settings().metrics_token,
                              bind_host=app.state.bind_host, client_host=request.client.host if request.client
                              else None):
            raise MetricsRefused("send 'Authorization: Bearer <JOURNEY_METRICS_TOKEN>' (set it on the server), "
                                 "or scrape from loopback a server bound to loopback",
                                 headers={"WWW-Authenticate": "Bearer"})
        register()
        return PlainTextResponse(generate_latest(REGISTRY), media_type=CONTENT_TYPE_LATEST)
