"""Email bodies from Jinja2 templates (templates/emails/, overridable with JOURNEY_TEMPLATES_DIR), HTML
autoescaped, with a plain-text twin for clients that do not show HTML."""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from journey.config import get_settings
from journey.notify.service import Message


@lru_cache(maxsize=4)
def _env(directory: Path) -> Environment:
    return Environment(loader=FileSystemLoader(str(directory)), autoescape=select_autoescape(["html"]),
                       undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)


def render(template: str, *, subject: str, attachments: list[dict[str, Any]] | None = None,
           **context: Any) -> Message:
    """`<template>.html` and `<template>.txt` rendered with `context` (plus `subject` and `base_url`)."""
    settings = get_settings()
    env = _env(settings.templates_dir / "emails")
    context |= {"subject": subject, "base_url": (settings.public_base_url or "http://127.0.0.1:8000").rstrip("/")}
    return Message(subject=subject, body_text=env.get_template(f"{template}.txt").render(**context),
                   body_html=env.get_template(f"{template}.html").render(**context), attachments=attachments or [])
