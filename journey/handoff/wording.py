"""The packet's version history as sentences a person reads: "Objective 'Halve onboarding time': target
7 → 5 days", "Risks: added 'Data migration'", never JSON or field paths. Pure."""
from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import date
from decimal import Decimal
from typing import Any

SECTION_NAMES = {"deal_terms": "Deal terms", "why_bought": "Why they bought", "alternatives": "Alternatives",
                 "stakeholders": "Stakeholders", "objectives": "Objectives", "promises": "Promises",
                 "risks": "Risks", "technical_scope": "Technical scope", "se_notes": "SE notes"}
FIELD_NAMES = {"amount": "amount", "currency": "currency", "contract_start": "contract start",
               "contract_end": "contract end", "seats": "seats", "expected_go_live": "expected go-live",
               "kpi": "KPI", "baseline": "baseline", "target": "target", "unit": "unit", "due": "due date",
               "source": "source", "metric": "measured by", "title": "title", "name": "name", "email": "email",
               "role": "role"}
VALUE_WORDS = {"executive_sponsor": "Executive sponsor", "champion": "Champion", "day_to_day": "Day-to-day contact",
               "technical": "Technical contact", "billing": "Billing contact", "other": "Other",
               "customer_validated": "validated by the customer", "sales_assumed": "assumed by sales"}
_ITEM = re.compile(r"^(objectives|stakeholders)\[(.+?)\](?:\.(\w+))?$")
_LONG = 80


def sentences(changes: Iterable[Mapping[str, Any]], units: Mapping[str, str | None] | None = None) -> list[str]:
    """One sentence per change; `units`: each objective's unit by title ("days"), said after its numbers."""
    return [sentence(c.get("path", ""), c.get("old"), c.get("new"), units or {}) for c in changes]


def sentence(path: str, old: Any, new: Any, units: Mapping[str, str | None] | None = None) -> str:
    item = _ITEM.match(path)
    if item is not None:
        section, key, field = item.groups()
        noun = "Objective" if section == "objectives" else "Stakeholder"
        key = re.sub(r"#\d+$", "", key)
        if field is None:
            name = (new or old or {}).get("name") or (new or old or {}).get("title") or key
            return f"{noun} '{name}' {'added' if old is None else 'removed'}"
        unit = (units or {}).get(key) if field in ("baseline", "target") else None
        return f"{noun} '{key}': {FIELD_NAMES.get(field, field)} {_from_to(old, new)}{' ' + unit if unit else ''}"
    if path.startswith("deal_terms."):
        field = path.split(".", 1)[1]
        return f"Deal terms: {FIELD_NAMES.get(field, field)} {_from_to(old, new)}"
    name = SECTION_NAMES.get(path, path.replace("_", " ").capitalize())
    if isinstance(old, list) or isinstance(new, list):
        return f"{name}: {_list_change(old or [], new or [])}"
    return f"{name}: {_from_to(old, new)}"


def _from_to(old: Any, new: Any) -> str:
    if old is None or old == "":
        return f"set to {value(new)}"
    if new is None or new == "":
        return f"cleared (was {value(old)})"
    return f"{value(old)} → {value(new)}"


def _list_change(old: list[Any], new: list[Any]) -> str:
    added = [x for x in new if x not in old]
    removed = [x for x in old if x not in new]
    parts = []
    if added:
        parts.append("added " + ", ".join(value(x) for x in added))
    if removed:
        parts.append("removed " + ", ".join(value(x) for x in removed))
    return "; ".join(parts) or "reordered"


def value(v: Any) -> str:
    """A value as words: 48,000; 53 %; 1 Dec 2026; 'quoted text' (shortened); labels as words."""
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, int | float | Decimal) or (isinstance(v, str) and re.fullmatch(r"-?\d+(\.\d+)?", v)):
        number = float(v)
        return f"{number:,.0f}" if number == int(number) else f"{number:,.2f}".rstrip("0")
    if isinstance(v, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", v):
        return f"{date.fromisoformat(v):%-d %b %Y}"
    if isinstance(v, str):
        if v in VALUE_WORDS:
            return VALUE_WORDS[v]
        text = " ".join(v.split())
        return f"'{text[:_LONG]}…'" if len(text) > _LONG else f"'{text}'"
    if isinstance(v, Mapping):
        return ", ".join(f"{FIELD_NAMES.get(k, k)} {value(x)}" for k, x in v.items() if x not in (None, ""))
    if isinstance(v, list):
        return ", ".join(value(x) for x in v)
    return "—" if v is None else str(v)
