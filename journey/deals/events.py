"""The internal deal events every connector normalises to: DealSigned, DealUpdated, DealLost.

The generic `/webhooks/events` payload (docs/crm.md, "The generic route") is validated against these at the door,
so a sender gets a 422 for a negative amount instead of a silent dead letter; CRM adapters build them from
their own formats.
"""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator

from journey.calendar import valid_timezone

Text = str


def _int_as_text(value: Any) -> Any:
    return str(value) if isinstance(value, int) else value


# CRM ids arrive as numbers or strings; we keep them as text.
ExternalId = Annotated[str, BeforeValidator(_int_as_text), Field(min_length=1, max_length=200)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)


class Person(_Model):
    email: str = Field(min_length=3, max_length=320, pattern=r"^[^@\s]+@[^@\s]+$")
    name: str | None = Field(default=None, max_length=200)

    @field_validator("email")
    @classmethod
    def _lower(cls, value: str) -> str:
        return value.lower()


class Owners(_Model):
    ae: Person | None = None
    se: Person | None = None
    csm: Person | None = None
    am: Person | None = None


class DealFields(_Model):
    id: ExternalId
    name: str | None = Field(default=None, max_length=500)
    amount: Decimal | None = Field(default=None, ge=0, max_digits=18, decimal_places=2)
    currency: str | None = Field(default=None, min_length=3, max_length=3)
    signed_at: datetime | None = None
    contract_start: date | None = None
    contract_end: date | None = None
    expected_go_live: date | None = None
    seats: int | None = Field(default=None, ge=0, le=10_000_000)
    stage: str | None = Field(default=None, max_length=200)


class AccountFields(_Model):
    id: ExternalId
    name: str | None = Field(default=None, max_length=500)
    domain: str | None = Field(default=None, max_length=255)
    segment: str | None = Field(default=None, max_length=64)
    region: str | None = Field(default=None, max_length=16)
    timezone: str | None = Field(default=None, max_length=64)
    language: str | None = Field(default=None, max_length=16, pattern=r"^[A-Za-z]{2,3}([-_][A-Za-z0-9]{2,8})*$",
                                 description="e.g. fr or pt-BR: a tie-break when the roster assigns the CSM and AM")

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str | None) -> str | None:
        if value is not None and not valid_timezone(value):
            raise ValueError(f"{value!r} is not an IANA time zone such as Europe/Paris")
        return value

    @field_validator("region")
    @classmethod
    def _upper(cls, value: str | None) -> str | None:
        return value.upper() if value else value


class Objective(_Model):
    title: str = Field(min_length=1, max_length=500)
    kpi: str | None = Field(default=None, max_length=300)
    baseline: float | None = None
    target: float | None = None
    unit: str | None = Field(default=None, max_length=50)
    due: date | None = None
    source: Literal["customer_validated", "sales_assumed"] = "sales_assumed"
    metric: str | None = Field(default=None, max_length=64,
                               description="a signal metric whose values POST /api/signals records as progress")


class StakeholderFields(_Model):
    name: str = Field(min_length=1, max_length=300)
    email: str | None = Field(default=None, max_length=320)
    title: str | None = Field(default=None, max_length=200)
    role: str | None = Field(default=None, max_length=64)


class Notes(_Model):
    why_bought: str | None = None
    alternatives: str | None = None
    promises: list[str] = Field(default_factory=list)
    risks: list[str] = Field(default_factory=list)
    technical_scope: str | None = None
    se_notes: str | None = None


class DealSigned(_Model):
    """A deal was won: everything a journey starts from."""

    deal: DealFields
    account: AccountFields
    owners: Owners = Field(default_factory=Owners)
    objectives: list[Objective] = Field(default_factory=list, max_length=100)
    stakeholders: list[StakeholderFields] = Field(default_factory=list, max_length=200)
    notes: Notes = Field(default_factory=Notes)


class AccountRef(_Model):
    id: str | None = Field(default=None, max_length=200)


class DealChange(_Model):
    """Fields of the deal that changed; absent fields are left alone."""

    id: ExternalId
    name: str | None = Field(default=None, max_length=500)
    amount: Decimal | None = Field(default=None, ge=0, max_digits=18, decimal_places=2)
    expected_go_live: date | None = None
    contract_start: date | None = None
    contract_end: date | None = None
    seats: int | None = Field(default=None, ge=0, le=10_000_000)
    reason: str | None = Field(default=None, max_length=1000)


class DealUpdated(_Model):
    deal: DealChange
    account: AccountRef | None = None


class LostDeal(_Model):
    id: ExternalId
    reason: str | None = Field(default=None, max_length=1000)


class DealLost(_Model):
    deal: LostDeal


EVENT_MODELS: dict[str, type[_Model]] = {
    "deal.signed": DealSigned,
    "deal.updated": DealUpdated,
    "deal.lost": DealLost,
}


def parse_event_data(event_type: str, data: Any) -> _Model | None:
    """The typed event for a known type (raises pydantic.ValidationError), None for an unknown type."""
    model = EVENT_MODELS.get(event_type)
    return None if model is None else model.model_validate(data)


def deal_id_of(event_type: str, data: Any) -> str | None:
    """The deal id a payload is about, for the inbox's `subject` column (no validation)."""
    deal = data.get("deal") if isinstance(data, dict) else None
    value = deal.get("id") if isinstance(deal, dict) else None
    return str(value)[:300] if value is not None else None
