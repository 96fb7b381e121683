"""Email bodies from Jinja2 templates (templates/emails/, overridable with JOURNEY_TEMPLATES_DIR), HTML
autoescaped (journey/rendering.py), with a plain-text twin for clients that do not show HTML."""
from __future__ import annotations

from typing import Any

from journey import rendering
from journey.config import get_settings
from journey.notify.service import Message


def render(template: str, *, subject: str, attachments: list[dict[str, Any]] | None = None,
           **context: Any) -> Message:
    """`<template>.html` and `<template>.txt` rendered with `context` (plus `subject` and `base_url`)."""
    settings = get_settings()
    env = rendering.environment("emails", strict=True)
    context |= {"subject": subject, "base_url": (settings.public_base_url or "http://127.0.0.1:8000").rstrip("/")}
    return Message(subject=subject, body_text=env.get_template(f"{template}.txt").render(**context),
                   body_html=env.get_template(f"{template}.html").render(**context), attachments=attachments or [])
