"""Logging for the long-running commands (serve, scheduler, worker): structlog at JOURNEY_LOG_LEVEL."""
from __future__ import annotations

import logging

import structlog


def configure(level: str) -> None:
    """Drop events below `level` (INFO by default): a sweep that found nothing logs at debug."""
    numeric = logging.getLevelName(level.upper())
    if not isinstance(numeric, int):
        numeric = logging.INFO
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(numeric))
