"""Logging for the long-running commands (serve, scheduler, worker): structlog at JOURNEY_LOG_LEVEL.

Every line goes through :func:`mask_secrets`: the Salesforce path token (it is part of the webhook URL)
and the configured secrets never reach a log, and a traceback is printed without its frames' locals
(structlog's rich tracebacks would otherwise show a request's token or the settings object).
"""
from __future__ import annotations

import logging
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
                   "pipedrive_password", "pipedrive_api_token", "webhook_secret")
_SALESFORCE_PATH = re.compile(r"(/webhooks/salesforce/)[^/?#\s\"'<>]+")
_SHARE_PATH = re.compile(r"(/p/)sp_[^/?#\s\"'<>]+")  # a customer's share link: its token is its key
_PLAIN = (int, float, bool, type(None))


class _Stderr:
    """Whatever `sys.stderr` is when a line is written (a test runner swaps it), never a closed copy."""

    def write(self, text: str) -> int:
        return sys.stderr.write(text)

    def flush(self) -> None:
        sys.stderr.flush()


def configure(level: str) -> None:
    """Drop events below `level` (INFO by default): a sweep that found nothing logs at debug."""
    numeric = logging.getLevelName(level.upper())
    if not isinstance(numeric, int):
        numeric = logging.INFO
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(numeric))
    install_masking()


@contextmanager
def on_stderr(level: str) -> Iterator[None]:
    """Log to stderr at `level` for the length of a command whose stdout is its result; the previous
    configuration is back afterwards (a command run in-process, by a test, leaves nothing behind)."""
    before = structlog.get_config()
    configure(level)
    structlog.configure(logger_factory=structlog.PrintLoggerFactory(_Stderr()))  # type: ignore[arg-type]
    try:
        yield
    finally:
        structlog.configure(**before)


def install_masking() -> None:
    """Put :func:`mask_secrets` just before the renderer (idempotent)."""
    processors = list(structlog.get_config()["processors"])
    if mask_secrets not in processors:
        structlog.configure(processors=[*processors[:-1], mask_secrets, *processors[-1:]])


def masked_path(path: str) -> str:
    """A URL or path with the Salesforce webhook's secret path segment, or a share link's token, replaced by ***."""
    return _SHARE_PATH.sub(rf"\g<1>{MASK}", _SALESFORCE_PATH.sub(rf"\g<1>{MASK}", path))


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
