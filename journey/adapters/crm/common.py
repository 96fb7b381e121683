"""What every CRM connector shares: the normalised stage change, the ordering rule, lenient validation.

Pure: no database, settings or network. A connector turns one vendor notification into a
:class:`StageChange`; :func:`decide` says what it means given the last change applied to that deal.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from pydantic import ValidationError

from journey.deals.events import DealChange, DealSigned

OWNER_ROLES = ("ae", "se", "csm", "am")


@dataclass(frozen=True)
class StageChange:
    """One CRM notification about a deal's stage, normalised. `signed` is DealSigned-shaped data when won."""

    deal_id: str
    occurred_at: datetime
    won: bool
    pipeline: str | None = None
    stage: str | None = None
    why: str = ""
    signed: dict[str, Any] | None = None
    flags: list[str] = field(default_factory=list)  # what the signed data lacks (for the inbox row)


@dataclass(frozen=True)
class FieldUpdate:
    """Deal fields one CRM notification changed, as `deal.updated` names them (`values`), and when.

    `snapshot`: the notification carries every mapped field whether it changed or not (a Salesforce
    Outbound Message), so only the values that differ from what journey holds count as changes.
    """

    deal_id: str
    occurred_at: datetime
    vendor: str  # "HubSpot": for the reason a go-live slip records
    values: dict[str, Any]
    snapshot: bool = False


@dataclass(frozen=True)
class Applied:
    """The last stage change applied to a deal (its watermark)."""

    occurred_at: datetime
    won: bool
    event_id: int | None


@dataclass(frozen=True)
class Decision:
    action: str  # "sign", "pause", "ignore"
    reason: str = ""
    flags: list[str] = field(default_factory=list)


def decide(change: StageChange, *, last: Applied | None, event_id: int, has_journey: bool) -> Decision:
    """Sign, pause or ignore: a change older than the last one applied to the deal is never applied."""
    if last is not None and last.event_id != event_id and change.occurred_at <= last.occurred_at:
        return Decision("ignore", f"older than the stage change applied at {last.occurred_at.isoformat()}")
    if change.won:
        return Decision("sign", f"stage {change.stage} is won")
    if (last is not None and last.won) or has_journey:
        return Decision("pause", f"left the won stage: now {change.why or change.stage}")
    return Decision("ignore", change.why or f"stage {change.stage} is not a won stage")


def validate_signed(data: dict[str, Any]) -> tuple[DealSigned, list[str]]:
    """The signed deal; an invalid optional field (a negative amount...) is dropped and flagged, not fatal.

    A CRM cannot fix what it already sent, so a journey still starts; the flags say what was left out.
    Raises ValidationError when a required field (deal or account id) is itself invalid.
    """
    data = _deep_copy(data)
    flags: list[str] = []
    for _ in range(20):
        try:
            return DealSigned.model_validate(data), flags
        except ValidationError as exc:
            dropped = False
            for error in exc.errors():
                loc = tuple(error["loc"])
                if loc in {("deal",), ("account",), ("deal", "id"), ("account", "id")} or not loc:
                    raise
                if _drop(data, loc[:2] if loc[0] in {"deal", "account", "notes"} else loc[:1]):
                    flags.append(f"{'.'.join(map(str, loc))}: {error['msg']} (left out)")
                    dropped = True
            if not dropped:
                raise
    raise ValueError("too many invalid fields")


def _drop(data: dict[str, Any], loc: tuple[Any, ...]) -> bool:
    target: Any = data
    for part in loc[:-1]:
        if not isinstance(target, dict) or part not in target:
            return False
        target = target[part]
    if isinstance(target, dict) and loc[-1] in target:
        del target[loc[-1]]
        return True
    return False


def _deep_copy(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _deep_copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_deep_copy(v) for v in value]
    return value


def validate_change(deal_id: str, values: dict[str, Any]) -> tuple[DealChange, list[str]]:
    """The update as `deal.updated` takes it; an invalid value (a negative amount...) is dropped and flagged."""
    data, flags = {"id": deal_id, **values}, []
    while True:
        try:
            return DealChange.model_validate(data), flags
        except ValidationError as exc:
            bad = [(str(e["loc"][0]), e["msg"]) for e in exc.errors() if e["loc"] and e["loc"][0] in values]
            if not bad or any(name not in data for name, _ in bad):
                raise
            for name, msg in bad:
                flags.append(f"deal.{name}: {msg} (left out)")
                data.pop(name, None)


# ------------------------------------------------------------------------------------------- conversions
def text(value: Any, limit: int = 500) -> str | None:
    if value is None:
        return None
    value = str(value).strip()
    return value[:limit] if value else None


def amount(value: Any) -> str | None:
    """A decimal amount as text (validation happens later, so a negative amount is flagged, not lost)."""
    if value is None or str(value).strip() == "":
        return None
    try:
        return str(Decimal(str(value).strip()).quantize(Decimal("0.01")))
    except (InvalidOperation, ValueError):
        return str(value)


def integer(value: Any) -> int | str | None:
    if value is None or str(value).strip() == "":
        return None
    try:
        return int(Decimal(str(value).strip()))
    except (InvalidOperation, ValueError):
        return str(value)


def to_date(value: Any) -> str | None:
    """An ISO date from a date, a datetime text or epoch milliseconds (HubSpot date properties)."""
    if value is None or str(value).strip() == "":
        return None
    raw = str(value).strip()
    if raw.isdigit() and len(raw) >= 11:
        return datetime.fromtimestamp(int(raw) / 1000, tz=UTC).date().isoformat()
    return raw[:10]


def to_datetime(value: Any) -> datetime | None:
    """An aware UTC time from ISO text ('Z', offsets, or naive = UTC), epoch seconds or milliseconds."""
    if value is None or str(value).strip() == "":
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    raw = str(value).strip()
    if re.fullmatch(r"\d{9,16}", raw):
        number = int(raw)
        try:
            return datetime.fromtimestamp(number / 1000 if number > 10**11 else number, tz=UTC)
        except (OverflowError, OSError, ValueError):
            return None
    try:
        parsed = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def person(email: Any, name: Any = None) -> dict[str, Any] | None:
    email = text(email, 320)
    if not email or "@" not in email:
        return None
    return {"email": email, "name": text(name, 200)}


def objectives_from_text(value: Any) -> list[dict[str, Any]]:
    """One objective per line: `title | kpi | baseline | target | unit | due (YYYY-MM-DD)`; only the title is needed."""
    result: list[dict[str, Any]] = []
    for line in str(value or "").splitlines():
        parts = [p.strip() for p in line.split("|")]
        if not parts[0]:
            continue
        item: dict[str, Any] = {"title": parts[0][:500], "source": "sales_assumed"}
        for key, raw in zip(("kpi", "baseline", "target", "unit", "due"), parts[1:], strict=False):
            if raw:
                item[key] = _number(raw) if key in {"baseline", "target"} else raw
        result.append(item)
    return result[:100]


def lines(value: Any) -> list[str]:
    return [line.strip() for line in str(value or "").splitlines() if line.strip()][:50]


def _number(raw: str) -> float | str:
    try:
        return float(raw)
    except ValueError:
        return raw


DATE_TARGETS = {"deal.contract_start", "deal.contract_end", "deal.expected_go_live"}


def apply_mapped_fields(data: dict[str, Any], *, fields: dict[str, str], get: Any, owner: Any,
                        segment: Any) -> None:
    """Fill DealSigned-shaped `data` from the mapping's `journey field: CRM field` pairs.

    `get(crm_field)` reads a CRM value (None when absent); `owner(raw)` turns an owner value (an id or an
    email, per CRM) into {"email", "name"} or None; `segment(raw)` maps a segment value.
    """
    for target, source in fields.items():
        raw = get(source)
        if raw is None or (isinstance(raw, str) and not raw.strip()):
            continue
        section, _, name = target.partition(".")
        if section == "owners":
            found = owner(raw)
            if found:
                data.setdefault("owners", {})[name] = found
        elif target == "objectives":
            data["objectives"] = objectives_from_text(raw)
        elif target in {"notes.promises", "notes.risks"}:
            data.setdefault("notes", {})[name] = lines(raw)
        else:
            data.setdefault(section, {})[name] = _convert(target, raw, segment)


UPDATE_TARGETS = {"deal.name": "name", "deal.amount": "amount", "deal.expected_go_live": "expected_go_live",
                  "deal.contract_start": "contract_start", "deal.contract_end": "contract_end",
                  "deal.seats": "seats"}  # journey field: its name in `deal.updated` (DealChange)


def mapped_updates(fields: dict[str, str], *, get: Any, changed: Any) -> dict[str, Any]:
    """DealChange-shaped values of the mapped deal fields a notification changed (`changed(crm_field)`).

    A field emptied in the CRM is left alone, as an absent field of `deal.updated` is.
    """
    values: dict[str, Any] = {}
    for target, source in fields.items():
        name = UPDATE_TARGETS.get(target)
        if name is None or not changed(source):
            continue
        raw = get(source)
        if raw is None or (isinstance(raw, str) and not raw.strip()):
            continue
        values[name] = _convert(target, raw, None)
    return values


def _convert(target: str, raw: Any, segment: Any) -> Any:
    if target in DATE_TARGETS:
        return to_date(raw)
    if target == "deal.signed_at":
        moment = to_datetime(raw)
        return moment.isoformat() if moment else text(raw)
    if target == "deal.amount":
        return amount(raw)
    if target == "deal.seats":
        return integer(raw)
    if target == "account.segment":
        return segment(raw)
    if target == "account.region":
        value = text(raw, 16)
        return value.upper() if value else None
    return text(raw, 2000 if target.startswith("notes.") else 500)
