"""Handoff packet rules: content, completeness, version diffs, patches and acknowledgements.

Pure: no database, no settings, no clock. Text is kept exactly as given (no Unicode normalisation,
no trimming); blank text only counts as missing when completeness is measured.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator


class StakeholderRole(StrEnum):
    """The canonical roles; other role strings are kept as given and read as `other`."""

    EXECUTIVE_SPONSOR = "executive_sponsor"
    CHAMPION = "champion"
    DAY_TO_DAY = "day_to_day"
    TECHNICAL = "technical"
    BILLING = "billing"
    OTHER = "other"


_CANONICAL_ROLES = frozenset(r.value for r in StakeholderRole)


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class DealTerms(_Model):
    amount: Decimal | None = None
    currency: str | None = None
    contract_start: date | None = None
    contract_end: date | None = None
    seats: int | None = Field(default=None, ge=0)
    expected_go_live: date | None = None

    @model_validator(mode="after")
    def _contract_in_order(self) -> DealTerms:
        if self.contract_start and self.contract_end and self.contract_end < self.contract_start:
            raise ValueError("contract_end is before contract_start")
        return self


class Stakeholder(_Model):
    name: str | None = None
    email: str | None = None
    title: str | None = None
    role: str = StakeholderRole.OTHER.value

    @field_validator("role", mode="before")
    @classmethod
    def _normalise_role(cls, value: Any) -> str:
        """`Executive Sponsor` and `executive-sponsor` both become `executive_sponsor`."""
        if value is None or not str(value).strip():
            return StakeholderRole.OTHER.value
        return "_".join(str(value).strip().lower().replace("-", " ").split())

    @property
    def canonical_role(self) -> StakeholderRole:
        return StakeholderRole(self.role) if self.role in _CANONICAL_ROLES else StakeholderRole.OTHER


class Objective(_Model):
    title: str
    kpi: str | None = None
    baseline: float | None = None
    target: float | None = None
    unit: str | None = None
    due: date | None = None
    source: Literal["customer_validated", "sales_assumed"] = "sales_assumed"
    metric: str | None = Field(default=None, max_length=64)  # signals of this metric are measured progress

    @field_validator("metric")
    @classmethod
    def _blank_metric_is_none(cls, value: str | None) -> str | None:
        return value.strip() or None if value is not None else None

    @field_validator("title")
    @classmethod
    def _title_not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("an objective needs a title")
        return value


class PacketContent(_Model):
    deal_terms: DealTerms = Field(default_factory=DealTerms)
    why_bought: str | None = None
    alternatives: str | None = None
    stakeholders: list[Stakeholder] = Field(default_factory=list)
    objectives: list[Objective] = Field(default_factory=list)
    promises: list[str] = Field(default_factory=list)
    risks: list[str] = Field(default_factory=list)
    technical_scope: str | None = None
    se_notes: str | None = None

    @field_validator("deal_terms", "stakeholders", "objectives", mode="before")
    @classmethod
    def _null_is_empty(cls, value: Any, info: ValidationInfo) -> Any:
        """A null section (`{"objectives": null}` in a patch) means an empty one."""
        if value is None:
            return {} if info.field_name == "deal_terms" else []
        return value

    @field_validator("promises", "risks", mode="before")
    @classmethod
    def _text_list(cls, value: Any) -> Any:
        """A single string becomes a one-item list; None and blank entries are dropped."""
        if value is None:
            return []
        if isinstance(value, str):
            value = [value]
        if isinstance(value, list | tuple):
            return [item for item in value if not _blank(item)]
        return value


SECTIONS: tuple[str, ...] = tuple(PacketContent.model_fields)
DEAL_TERM_KEYS: tuple[str, ...] = tuple(DealTerms.model_fields)
NOTE_KEYS = ("why_bought", "alternatives", "promises", "risks", "technical_scope", "se_notes")


def _blank(item: Any) -> bool:
    return item is None or (isinstance(item, str) and not item.strip())


def _has_text(value: str | None) -> bool:
    return value is not None and bool(value.strip())


def packet_from_deal_event(data: dict[str, Any]) -> PacketContent:
    """The first packet version from a `deal.signed` event's `data` (the generic event shape).

    Keys the packet does not know are dropped; pydantic's ValidationError (a ValueError) is raised
    when a known value has the wrong type.
    """
    deal = data.get("deal") or {}
    notes = data.get("notes") or {}
    return PacketContent.model_validate({
        "deal_terms": {key: deal.get(key) for key in DEAL_TERM_KEYS},
        "stakeholders": _known_fields(data.get("stakeholders"), Stakeholder),
        "objectives": _known_fields(data.get("objectives"), Objective),
        **{key: notes.get(key) for key in NOTE_KEYS},
    })


def _known_fields(items: Any, model: type[BaseModel]) -> Any:
    """CRMs add keys of their own (ids, phone numbers): keep the ones the packet knows."""
    if not isinstance(items, list):
        return items
    return [{k: v for k, v in item.items() if k in model.model_fields} if isinstance(item, dict) else item
            for item in items]


# --- completeness -------------------------------------------------------------------------------

@dataclass(frozen=True)
class Completeness:
    score: int
    missing: list[str]
    reasons: dict[str, str] = field(default_factory=dict)


def _check_deal_terms(c: PacketContent) -> str | None:
    absent = [k for k in ("amount", "contract_start") if getattr(c.deal_terms, k) is None]
    return f"deal terms have no {' or '.join(absent)}" if absent else None


def _check_stakeholders(c: PacketContent) -> str | None:
    if any(s.canonical_role is StakeholderRole.EXECUTIVE_SPONSOR for s in c.stakeholders):
        return None
    return "no stakeholder is the executive sponsor"


def _check_objectives(c: PacketContent) -> str | None:
    if not c.objectives:
        return "no objective"
    vague = [o.title for o in c.objectives if not _has_text(o.kpi) or o.target is None]
    return f"no KPI or target for: {', '.join(vague)}" if vague else None


def _text_check(name: str) -> Callable[[PacketContent], str | None]:
    def check(c: PacketContent) -> str | None:
        return None if _has_text(getattr(c, name)) else f"{name} is empty"
    return check


def _list_check(name: str) -> Callable[[PacketContent], str | None]:
    def check(c: PacketContent) -> str | None:
        return None if any(_has_text(item) for item in getattr(c, name)) else f"no {name} listed"
    return check


_CHECKS: dict[str, Callable[[PacketContent], str | None]] = {
    "deal_terms": _check_deal_terms,
    "why_bought": _text_check("why_bought"),
    "alternatives": _text_check("alternatives"),
    "stakeholders": _check_stakeholders,
    "objectives": _check_objectives,
    "promises": _list_check("promises"),
    "risks": _list_check("risks"),
    "technical_scope": _text_check("technical_scope"),
    "se_notes": _text_check("se_notes"),
}


def completeness(content: PacketContent, required: list[str]) -> Completeness:
    """Score the required sections; `missing` lists the absent ones in `required` order.

    =================  ====================================================================
    section            counts as present when
    =================  ====================================================================
    deal_terms         amount and contract_start are both set
    why_bought         text with at least one non-blank character
    alternatives       same
    technical_scope    same
    se_notes           same
    stakeholders       at least one stakeholder has the role executive_sponsor
    objectives         at least one objective, and every objective has a KPI and a target
    promises           at least one non-blank entry
    risks              at least one non-blank entry
    =================  ====================================================================

    score = round(100 * present / required), half up, but never 100 while anything is missing;
    nothing required scores 100. An unknown section name raises ValueError (a playbook error).
    """
    wanted = list(dict.fromkeys(required))
    unknown = [name for name in wanted if name not in _CHECKS]
    if unknown:
        raise ValueError(f"unknown packet section(s) {unknown}; known: {', '.join(_CHECKS)}")
    reasons = {name: reason for name in wanted if (reason := _CHECKS[name](content)) is not None}
    missing = list(reasons)
    if not missing:
        return Completeness(score=100, missing=[])
    present, total = len(wanted) - len(missing), len(wanted)
    score = (200 * present + total) // (2 * total)  # round half up in integers
    return Completeness(score=min(score, 99), missing=missing, reasons=reasons)


# --- version history ----------------------------------------------------------------------------

@dataclass(frozen=True)
class FieldChange:
    """One changed field; `old` / `new` are JSON values, None when added / removed."""

    path: str
    old: Any
    new: Any


def _keyed(items: Iterable[BaseModel], key: Callable[[Any], str]) -> _Dumps:
    """JSON dumps keyed by `key`; the second item with the same key is keyed `key#2`, and so on."""
    out: _Dumps = {}
    for item in items:
        base = key(item)
        name, n = base, 1
        while name in out:
            n += 1
            name = f"{base}#{n}"
        out[name] = item.model_dump(mode="json")
    return out


_Dumps = dict[str, dict[str, Any]]


def _diff_items(section: str, old: _Dumps, new: _Dumps) -> list[FieldChange]:
    changes: list[FieldChange] = []
    for name in [*old, *(k for k in new if k not in old)]:
        before, after = old.get(name), new.get(name)
        path = f"{section}[{name}]"
        if before is None or after is None:
            changes.append(FieldChange(path, before, after))
            continue
        changes.extend(FieldChange(f"{path}.{k}", v, after[k]) for k, v in before.items() if v != after[k])
    return changes


def _stakeholder_key(s: Stakeholder) -> str:
    return (s.email or "").strip().lower() or s.name or s.title or "stakeholder"


def diff_packets(old: PacketContent, new: PacketContent) -> list[FieldChange]:
    """What changed between two versions, section by section, in section order.

    deal_terms field by field (`deal_terms.amount`); objectives matched by title
    (`objectives[<title>].target`); stakeholders by email, else name, else title; other sections whole.
    """
    before, after = old.model_dump(mode="json"), new.model_dump(mode="json")
    changes: list[FieldChange] = []
    for section in SECTIONS:
        if before[section] == after[section]:
            continue
        if section == "deal_terms":
            changes.extend(FieldChange(f"deal_terms.{k}", before[section][k], after[section][k])
                           for k in DEAL_TERM_KEYS if before[section][k] != after[section][k])
        elif section == "objectives":
            key = lambda o: o.title  # noqa: E731
            changes.extend(_diff_items(section, _keyed(old.objectives, key), _keyed(new.objectives, key)))
        elif section == "stakeholders":
            changes.extend(_diff_items(section, _keyed(old.stakeholders, _stakeholder_key),
                                       _keyed(new.stakeholders, _stakeholder_key)))
        else:
            changes.append(FieldChange(section, before[section], after[section]))
    return changes


def apply_patch(content: PacketContent, patch: dict[str, Any]) -> PacketContent:
    """A new content with the patched top-level sections replaced whole, validated."""
    unknown = sorted(set(patch) - set(SECTIONS))
    if unknown:
        raise ValueError(f"unknown packet section(s) {unknown}; known: {', '.join(SECTIONS)}")
    return PacketContent.model_validate({**content.model_dump(), **patch})


# --- acknowledgements ---------------------------------------------------------------------------

class AckDecision(StrEnum):
    ACCEPT = "accept"
    RETURN = "return"


AckRole = Literal["csm", "am"]
PacketState = Literal["draft", "awaiting_ack", "returned", "accepted"]


@dataclass(frozen=True)
class Ack:
    role: AckRole
    decision: AckDecision
    version: int


def can_acknowledge(completeness: Completeness) -> bool:
    """A packet is acknowledged (accepted or returned) only once nothing required is missing."""
    return not completeness.missing


def packet_state(acks: list[Ack], version: int, *, complete: bool = True) -> PacketState:
    """Where the current version stands; `acks` in the order given, the latest per role wins.

    draft: not complete yet. returned: the CSM's or the AM's latest word on this version is
    `return`. accepted: both accepted this version. Otherwise awaiting_ack. Acks of earlier
    versions do not count.
    """
    if not complete:
        return "draft"
    latest: dict[str, AckDecision] = {}
    for ack in acks:
        if ack.version == version:
            latest[ack.role] = AckDecision(ack.decision)
    if AckDecision.RETURN in latest.values():
        return "returned"
    if latest.get("csm") == AckDecision.ACCEPT and latest.get("am") == AckDecision.ACCEPT:
        return "accepted"
    return "awaiting_ack"


# --- reminders to the AE ------------------------------------------------------------------------

DEFAULT_REMIND_EVERY_BUSINESS_DAYS = 2


def ae_reminder_due(*, today: date, last_reminded_on: date | None, every_business_days: int,
                    is_business_day: Callable[[date], bool],
                    business_days_between: Callable[[date, date], int]) -> bool:
    """Whether the AE gets a reminder about an incomplete packet today (the account's local date).

    Only on the account's business days; the first one as soon as the packet is incomplete, then one
    every `every_business_days` business days, so a sweep that runs every minute sends one a day at most.
    """
    if not is_business_day(today):
        return False
    if last_reminded_on is None:
        return True
    return business_days_between(last_reminded_on, today) >= max(1, every_business_days)


def missing_sentence(score: Completeness) -> str:
    """`objectives (no objective), risks (no risks listed)`: what is missing and why, for people."""
    return ", ".join(f"{name} ({score.reasons[name]})" if name in score.reasons else name for name in score.missing)
