"""The handoff packet as HTML and as Markdown, from Jinja2 templates in `templates/packets/`.

Every value is escaped (the environments of journey/rendering.py): HTML by Jinja's autoescape, Markdown by a
`finalize` hook, `md_escape`, that escapes Markdown syntax and raw HTML in each printed value, so a customer's
name can neither inject markup nor break the document. A `JOURNEY_TEMPLATES_DIR` without `packets/` falls
back to the packaged ones.
"""
from __future__ import annotations

from typing import Any

from journey import rendering


def render_packet(context: dict[str, Any], *, fmt: str) -> str:
    """`fmt` is `html` or `md`; `context` as built by the handoff endpoints."""
    env = rendering.environment("packets", strict=True, markdown=fmt != "html")
    return env.get_template("packet.html.j2" if fmt == "html" else "packet.md.j2").render(**context)
