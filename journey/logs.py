"""Logging for the long-running commands (serve, scheduler, worker): structlog at JOURNEY_LOG_LEVEL, as JSON
lines (JOURNEY_LOG_FORMAT=json, the default outside development) or coloured console text.

:func:`configure` makes one pipeline for every line of the process: journey's structlog loggers and the standard
library's (uvicorn, Prefect, APScheduler, SQLAlchemy) alike end in one handler on the root logger whose
`structlog.stdlib.ProcessorFormatter` adds the time, level, logger name and the context bound with
`structlog.contextvars` (request_id, event_id, deal_id, account_id), then renders. Prefect's own logging setup
(run at its import, in this process and in its flow-run subprocesses) reads `prefect_logging.yml`, which keeps
its API handlers (the Prefect UI's logs) and sends everything else to this pipeline.

Every line goes through :func:`mask_secrets`: the Salesforce path token (it is part of the webhook URL), share
and sign-in link tokens, and the configured secrets never reach a log, and a traceback is printed without its
frames' locals (structlog's rich tracebacks would otherwise show a request's token or the settings object).
"""
from __future__ import annotations

import logging
import os
import re
import sys
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import structlog

from journey.config import get_settings

MASK = "***"
SECRET_SETTINGS = ("secret_key", "salesforce_path_token", "hubspot_client_secret", "hubspot_access_token",
                   "pipedrive_password", "pipedrive_api_token", "webhook_secret", "salesforce_client_secret",
                   "metrics_token", "slack_webhook_url", "smtp_url")
_SALESFORCE_PATH = re.compile(r"(/webhooks/salesforce/)[^/?#\s\"'<>]+")
_SHARE_PATH = re.compile(r"(/p/)sp_[^/?#\s\"'<>]+")  # a customer's share link: its token is its key
_SIGNIN_PATH = re.compile(r"(/signin/link/)[^/?#\s\"'<>]+")  # a sign-in link's token signs its holder in
_MASKED_PATHS = ((_SALESFORCE_PATH, "/webhooks/salesforce/"), (_SHARE_PATH, "/p/sp_"), (_SIGNIN_PATH, "/signin/link/"))
PREFECT_LOGGING = os.path.join(os.path.dirname(__file__), "prefect_logging.yml")
FORMATS = ("json", "console")
_HANDLER_NAME = "journey"
_PLAIN = (int, float, bool, type(None))


class _Stderr:
    """Whatever `sys.stderr` is when a line is written (a test runner swaps it), never a closed copy."""

    def write(self, text: str) -> int:
        return sys.stderr.write(text)

    def flush(self) -> None:
        sys.stderr.flush()


def _numeric(level: str) -> int:
    numeric = logging.getLevelName(level.upper())
    return numeric if isinstance(numeric, int) else logging.INFO


def _renderer(fmt: str) -> Any:
    if fmt == "console":
        return structlog.dev.ConsoleRenderer(colors=sys.stderr.isatty())
    return structlog.processors.JSONRenderer()


def formatter(fmt: str) -> logging.Formatter:
    """The formatter of the one root handler: every record, structlog's or the standard library's, rendered
    with its context, its secrets masked."""
    return structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=[structlog.contextvars.merge_contextvars, structlog.stdlib.add_logger_name,
                           structlog.stdlib.add_log_level, structlog.stdlib.ExtraAdder()],
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                    structlog.processors.TimeStamper(fmt="iso", utc=True), mask_secrets, _renderer(fmt)])


def configure(level: str, fmt: str = "json") -> logging.Handler:
    """Route every log line of this process through one pipeline at `level` (a sweep that found nothing logs
    at debug), rendered as `fmt` (json or console) on stderr. Idempotent: the handler is replaced."""
    numeric = _numeric(level)
    structlog.configure(
        processors=[structlog.contextvars.merge_contextvars, structlog.stdlib.add_logger_name,
                    structlog.stdlib.add_log_level,  # masked once, by the handler's formatter (as stdlib lines are)
                    structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(), wrapper_class=structlog.make_filtering_bound_logger(numeric),
        cache_logger_on_first_use=False)
    handler = logging.StreamHandler(_Stderr())  # type: ignore[arg-type]
    handler.set_name(_HANDLER_NAME)
    handler.setFormatter(formatter(fmt))
    root = logging.getLogger()
    # ours replaced; Prefect's console handler, which its default logging config puts on the root logger when
    # Prefect was set up before this pipeline, dropped (its lines would be printed twice, once not as JSON)
    root.handlers = [h for h in root.handlers if h.get_name() != _HANDLER_NAME
                     and not type(h).__module__.startswith("prefect.")] + [handler]
    root.setLevel(numeric)
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access", "apscheduler"):
        logger = logging.getLogger(name)
        logger.handlers, logger.propagate = [], True
    logging.getLogger("apscheduler").setLevel(max(numeric, logging.WARNING))  # "Running job ..." every second
    # a line per call to Prefect's API at INFO; kept at DEBUG, where every request is wanted
    logging.getLogger("httpx").setLevel(logging.WARNING if numeric >= logging.INFO else numeric)
    # Prefect reads it when imported, here and in the flow-run subprocesses it starts (they inherit it)
    os.environ.setdefault("PREFECT_LOGGING_SETTINGS_PATH", PREFECT_LOGGING)
    return handler


def prefect_handler() -> logging.Handler:
    """The root handler `prefect_logging.yml` names: this process's pipeline, configured from the settings if
    nothing configured it yet (a flow-run subprocess Prefect started)."""
    for handler in logging.getLogger().handlers:
        if handler.get_name() == _HANDLER_NAME:
            return handler
    settings = get_settings()
    return configure(settings.log_level, settings.resolved_log_format)


@contextmanager
def on_stderr(level: str) -> Iterator[None]:
    """Log to stderr at `level` for the length of a command whose stdout is its result; the previous
    configuration is back afterwards (a command run in-process, by a test, leaves nothing behind)."""
    before = structlog.get_config()
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(_numeric(level)),
                        logger_factory=structlog.PrintLoggerFactory(_Stderr()))  # type: ignore[arg-type]
    install_masking()
    try:
        yield
    finally:
        structlog.configure(**before)


def install_masking() -> None:
    """Put :func:`mask_secrets` just before the renderer (idempotent); not when lines go on to :func:`formatter`,
    which masks every line it renders (masking twice cost a webhook's `http.request` line ~40% of its time)."""
    processors = list(structlog.get_config()["processors"])
    handed_on = bool(processors) and processors[-1] is structlog.stdlib.ProcessorFormatter.wrap_for_formatter
    if mask_secrets not in processors and not handed_on:
        structlog.configure(processors=[*processors[:-1], mask_secrets, *processors[-1:]])


def masked_path(path: str) -> str:
    """A URL or path with the Salesforce webhook's secret path segment, or a share or sign-in link's token,
    replaced by ***."""
    for pattern, marker in _MASKED_PATHS:
        if marker in path:  # the pattern cannot match without it: no regex run on every value of every line
            path = pattern.sub(rf"\g<1>{MASK}", path)
    return path


def mask(text: str, secrets: list[str]) -> str:
    text = masked_path(text)
    for secret in secrets:
        text = text.replace(secret, MASK)
    return text


def mask_secrets(_logger: Any, _method: str, event: dict[str, Any]) -> dict[str, Any]:
    """structlog processor: the traceback as plain text (no locals), every value with its secrets masked."""
    exc_info = event.pop("exc_info", None)
    if exc_info is True:
        exc_info = sys.exc_info()
    elif isinstance(exc_info, BaseException):
        exc_info = (type(exc_info), exc_info, exc_info.__traceback__)
    if isinstance(exc_info, tuple) and exc_info[0] is not None:
        event["exception"] = "".join(traceback.format_exception(*exc_info))
    secrets = _configured_secrets()
    masked: dict[str, Any] = {}
    for key, value in event.items():
        if isinstance(value, str):
            masked[key] = mask(value, secrets)
        elif isinstance(value, _PLAIN):
            masked[key] = value
        else:
            shown = repr(value)
            hidden = mask(shown, secrets)
            masked[key] = value if hidden == shown else hidden
    return masked


def _configured_secrets() -> list[str]:
    try:
        settings = get_settings()
    except Exception:  # noqa: BLE001 - logging must work even with settings that do not load
        return []
    values = (getattr(settings, name, None) for name in SECRET_SETTINGS)
    return [v for v in values if isinstance(v, str) and len(v) >= 4]
