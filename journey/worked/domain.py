"""Plans worked together: pure rules for comments, @mentions and which side of a plan task is responsible."""
from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any, Literal

from journey.onboarding.playbook import CUSTOMER_ROLES

Side = Literal["customer", "vendor"]
MAX_COMMENT = 4000
_MENTION = re.compile(r"(?<![\w.])@([A-Za-z0-9._%+-]+(?:@[A-Za-z0-9.-]+\.[A-Za-z]{2,})?)")


def mentions_in(body: str, members: Iterable[str]) -> list[str]:
    """The emails of `members` that `body` @mentions, by full email (`@ana@vendor.example`) or by the part
    before the @ (`@ana`), each once, in order of first mention. Unknown names are plain text."""
    emails = list(members)
    by_local = {e.split("@", 1)[0].lower(): e for e in emails}
    by_email = {e.lower(): e for e in emails}
    found: list[str] = []
    for name in _MENTION.findall(body):
        name = name.rstrip(".").lower()
        email = by_email.get(name) or by_local.get(name)
        if email is not None and email not in found:
            found.append(email)
    return found


def side_of(raci: Mapping[str, Any]) -> Side:
    """The side Responsible for a task: the customer's when its `responsible` is a customer role."""
    return "customer" if raci.get("responsible") in CUSTOMER_ROLES else "vendor"


def clean_comment(body: str) -> str | None:
    """The comment as stored: stripped plain text; None when empty or too long."""
    text = body.strip()
    return text if 0 < len(text) <= MAX_COMMENT else None


def valid_document_url(url: str) -> bool:
    """A task's document link: an http(s) URL, no script or data scheme."""
    return bool(re.fullmatch(r"https?://[^\s<>\"']{3,990}", url))
