"""The handoff packet as HTML and as Markdown, from Jinja2 templates in `templates/packets/`.

Every value is escaped: HTML by Jinja's autoescape, Markdown by a `finalize` hook that escapes
Markdown syntax and raw HTML in each printed value, so a customer's name can neither inject markup
nor break the document. A `JOURNEY_TEMPLATES_DIR` without `packets/` falls back to the packaged ones.
"""
from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from typing import Any

from jinja2 import ChoiceLoader, Environment, FileSystemLoader, StrictUndefined, select_autoescape

from journey.config import PROJECT_ROOT, get_settings

_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#!|~])")
_LIST_MARK = re.compile(r"^(\s*)([-+=])", re.MULTILINE)
_NUMBERED = re.compile(r"^(\s*\d+)([.)])(?=\s|$)", re.MULTILINE)
_HTML = {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;"}


def md_escape(value: Any) -> str:
    """Escape one value for Markdown: HTML characters as entities, Markdown syntax with backslashes,
    line breaks as hard breaks (a value can never start a heading or a list)."""
    if value is None:
        return ""
    text = "".join(_HTML.get(ch, ch) for ch in str(value))
    text = _MD_SPECIAL.sub(r"\\\1", text)
    text = _NUMBERED.sub(r"\1\\\2", _LIST_MARK.sub(r"\1\\\2", text))
    return "  \n".join(line.strip() for line in text.splitlines()) if "\n" in text else text


def _loader(directory: Path) -> ChoiceLoader:
    return ChoiceLoader([FileSystemLoader(str(directory / "packets")),
                         FileSystemLoader(str(PROJECT_ROOT / "templates" / "packets"))])


@lru_cache(maxsize=4)
def _environments(directory: Path) -> tuple[Environment, Environment]:
    html = Environment(loader=_loader(directory), autoescape=select_autoescape(default=True),
                       undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    md = Environment(loader=_loader(directory), autoescape=False, finalize=md_escape,  # noqa: S701 (md_escape)
                     undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    return html, md


def render_packet(context: dict[str, Any], *, fmt: str) -> str:
    """`fmt` is `html` or `md`; `context` as built by the handoff endpoints."""
    html, md = _environments(get_settings().templates_dir)
    if fmt == "html":
        return html.get_template("packet.html.j2").render(**context)
    return md.get_template("packet.md.j2").render(**context)
