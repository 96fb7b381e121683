"""Account shapes of the API (docs/reference.md, API)."""
from __future__ import annotations

from typing import Generic, TypeVar

from pydantic import BaseModel

from journey.models import Account, TeamMember


class CrmRef(BaseModel):
    source: str
    external_id: str


class MemberRef(BaseModel):
    id: int
    email: str
    name: str

    @classmethod
    def of(cls, member: TeamMember | None) -> MemberRef | None:
        return None if member is None else cls(id=member.id, email=member.email, name=member.name)


class HealthRef(BaseModel):
    score: float
    band: str


class AccountRead(BaseModel):
    id: int
    name: str
    crm: CrmRef
    domain: str | None
    segment: str | None
    region: str | None
    timezone: str
    csm: MemberRef | None
    am: MemberRef | None
    health: HealthRef | None = None

    @classmethod
    def of(cls, account: Account, members: dict[int, TeamMember],
           health: dict[int, tuple[float, str]] | None = None) -> AccountRead:
        score_band = (health or {}).get(account.id)
        return cls(id=account.id, name=account.name,
                   crm=CrmRef(source=account.crm_source, external_id=account.crm_external_id),
                   domain=account.domain, segment=account.segment, region=account.region,
                   timezone=account.timezone,
                   csm=MemberRef.of(members.get(account.csm_id or 0)),
                   am=MemberRef.of(members.get(account.am_id or 0)),
                   health=HealthRef(score=score_band[0], band=score_band[1]) if score_band else None)


T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    items: list[T]
    next: str | None
