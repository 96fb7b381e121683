"""Every Jinja2 environment of journey, built here: the web pages (`pages`), the e-mails (`emails`), the handoff
packets as HTML and Markdown (`packets`) and the review agendas (`reviews`).

- HTML is always autoescaped: every template is escaped but the plain-text ones (`.txt`, `.md.j2`, `.md`),
  and so is a template built from a string.
- Markdown meant to be rendered as Markdown (`markdown=True`: the packet's `.md.j2`) is not HTML-escaped by
  Jinja; its `finalize` hook, `md_escape`, escapes Markdown syntax and raw HTML in every printed value, so a
  customer's name can neither inject markup nor break the document.
- Plain text (the e-mails' `.txt` twins, the review agendas' `.md.j2`, which invitations carry as text) is
  printed as it is.
- Templates are looked up in `JOURNEY_TEMPLATES_DIR/<folder>` first, then in the packaged `templates/<folder>`.
- One set of filters everywhere (FILTERS): numbers, dates, labels and roles read the same on a page, in an
  e-mail and in an agenda.
"""
from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any

from jinja2 import ChoiceLoader, Environment, FileSystemLoader, StrictUndefined, Undefined, select_autoescape

from journey.config import PROJECT_ROOT, get_settings
from journey.words import WORDS, label, money

PACKAGED = PROJECT_ROOT / "templates"
TEXT_EXTENSIONS = ("txt", "md.j2", "md")
INTERNAL_ROLES = frozenset({"ae", "se", "csm", "am", "manager", "admin"})

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


def num(value: Any) -> Any:
    """A count or an amount, whole, with thousands separators: 12345.6 -> 12,346."""
    return f"{value:,.0f}" if isinstance(value, int | float) else value


def amount(value: Any, currency: str | None = None) -> str:
    """Money in the given currency (a deal's), else the workspace's (JOURNEY_CURRENCY): 190000 -> €190,000."""
    return money(value, currency or get_settings().currency)


def measure(value: Any) -> Any:
    """A measured value as it was given, without trailing zeros: 12.50 -> 12.5, 40.0 -> 40."""
    return f"{value:g}" if isinstance(value, int | float) else value


def to_date(value: object) -> date | None:
    """An ISO date string from a JSON document (a packet) as a date; None when it is not one."""
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value)[:10]) if value else None
    except ValueError:
        return None


def role(value: Any) -> str:
    """A role as people say it: `csm` -> CSM, `executive_sponsor` -> Executive sponsor; none -> a dash."""
    if not value:
        return "—"
    return WORDS.get(value) or (value.upper() if value in INTERNAL_ROLES else str(value).replace("_", " "))


def plain(value: Any) -> Any:
    """A list or a mapping (from a JSON document) as compact JSON text; anything else as it is."""
    return json.dumps(value, ensure_ascii=False, default=str) if isinstance(value, dict | list) else value


FILTERS: dict[str, Callable[[Any], Any]] = {"num": num, "money": amount, "measure": measure, "todate": to_date,
                                            "role": role, "label": label, "plain": plain}


def environment(folder: str, *, markdown: bool = False, strict: bool = False, trim: bool = True) -> Environment:
    """The environment of one folder of templates. `strict`: an undefined name is an error (e-mails and
    packets, which leave the building); `trim`: `trim_blocks` and `lstrip_blocks` (the review agendas are
    written without them: their `-` modifiers place every line)."""
    return _build(get_settings().templates_dir, folder, markdown=markdown, strict=strict, trim=trim)


@lru_cache(maxsize=16)
def _build(templates_dir: Path, folder: str, *, markdown: bool, strict: bool, trim: bool) -> Environment:
    loaders = [FileSystemLoader(str(PACKAGED / folder))]
    override = templates_dir / folder
    if override.is_dir() and override.resolve() != (PACKAGED / folder).resolve():
        loaders.insert(0, FileSystemLoader(str(override)))
    common: dict[str, Any] = {"loader": ChoiceLoader(loaders), "undefined": StrictUndefined if strict else Undefined,
                              "trim_blocks": trim, "lstrip_blocks": trim}
    if markdown:  # every printed value goes through md_escape instead
        env = Environment(autoescape=False, finalize=md_escape, **common)  # noqa: S701
    else:
        env = Environment(autoescape=select_autoescape(disabled_extensions=TEXT_EXTENSIONS, default=True,
                                                       default_for_string=True), **common)
    env.filters.update(FILTERS)
    return env
