"""The CSM + AM pair of an account (`/api/accounts/{id}/owners`) and the roster (`/api/team`)."""
from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from fastapi import APIRouter
from pydantic import BaseModel, Field, model_validator
from sqlalchemy.orm import Session

from journey import db
from journey.accounts.access import account_for
from journey.accounts.endpoints import visible_account
from journey.accounts.repository import members_by_id
from journey.accounts.schemas import MemberRef
from journey.audit import Actor
from journey.deps import CurrentMember, ReadSession, RowId
from journey.errors import NotFound
from journey.kit import utcnow
from journey.models import Account, TeamMember
from journey.policy import Action, require
from journey.team import ownership, repository
from journey.team import service as team_service

router = APIRouter(prefix="/api", tags=["team"])


class OwnershipRead(BaseModel):
    role: str
    member: MemberRef
    started_at: datetime
    ended_at: datetime | None
    source: str = Field(description="crm, rules or manager")
    assigned_by: str
    reason: str


class OwnersRead(BaseModel):
    csm: MemberRef | None
    am: MemberRef | None
    history: list[OwnershipRead]


class OwnersUpdate(BaseModel):
    csm: int | str | None = Field(default=None, description="member id or email")
    am: int | str | None = None
    reason: str = Field(min_length=1, max_length=2000)

    @model_validator(mode="after")
    def _someone(self) -> OwnersUpdate:
        if self.csm is None and self.am is None:
            raise ValueError("name a csm and/or an am")
        return self


def _owners(session: Session, account: Account) -> OwnersRead:
    history = repository.ownership_history(session, account.id)
    ids = {w.member_id for w in history} | {i for i in (account.csm_id, account.am_id) if i}
    members = members_by_id(session, ids)
    return OwnersRead(
        csm=MemberRef.of(members.get(account.csm_id or 0)), am=MemberRef.of(members.get(account.am_id or 0)),
        history=[OwnershipRead(role=w.role, member=MemberRef.of(members[w.member_id]), started_at=w.started_at,
                               ended_at=w.ended_at, source=w.source, assigned_by=w.assigned_by, reason=w.reason)
                 for w in history])


@router.get("/accounts/{ref}/owners", response_model=OwnersRead)
def get_owners(ref: str, session: ReadSession, member: CurrentMember) -> OwnersRead:
    """The current CSM and AM and every ownership window, with who assigned it and why."""
    return _owners(session, visible_account(session, ref, member))


@router.put("/accounts/{ref}/owners", response_model=OwnersRead)
def put_owners(ref: str, body: OwnersUpdate, member: CurrentMember) -> OwnersRead:
    """A manager or admin sets the CSM and/or the AM, with a reason; the previous window is closed."""
    owners = {k: v for k, v in (("csm", body.csm), ("am", body.am)) if v is not None}
    with db.transaction() as session:
        account = account_for(session, ref, member, Action.reassign_owner)
        ownership.override_owners(session, account_id=account.id, manager=member, owners=owners,
                                  reason=body.reason, now=utcnow())
        return _owners(session, account)


class RosterRead(BaseModel):
    id: int
    email: str
    name: str
    role: str
    active: bool
    segments: list[str]
    regions: list[str]
    languages: list[str]
    capacity_accounts: int | None
    capacity_arr: float | None = Field(description="most ARR (sum of active deals' amounts) this member owns")
    accounts: int = Field(description="accounts owned now in this role")
    arr: float = Field(description="ARR owned now in this role")


class RosterUpdate(BaseModel):
    segments: list[str] | None = None
    regions: list[str] | None = None
    languages: list[str] | None = None
    capacity_accounts: int | None = Field(default=None, ge=0)
    capacity_arr: Decimal | None = Field(default=None, ge=0, max_digits=18, decimal_places=2)
    active: bool | None = None


def _roster_read(m: TeamMember, loads: dict[int, int], arr: dict[int, float]) -> RosterRead:
    return RosterRead(id=m.id, email=m.email, name=m.name, role=m.role.value, active=m.active,
                      segments=list(m.segments or []), regions=list(m.regions or []),
                      languages=list(m.languages or []), capacity_accounts=m.capacity_accounts,
                      capacity_arr=None if m.capacity_arr is None else float(m.capacity_arr),
                      accounts=loads.get(m.id, 0), arr=arr.get(m.id, 0.0))


@router.get("/team", response_model=list[RosterRead])
def get_roster(session: ReadSession, member: CurrentMember) -> list[RosterRead]:
    """CSMs and AMs with what the assignment rules read: segments, regions, languages, capacity (accounts,
    ARR) and current load."""
    require(member, Action.view_team)
    out = []
    for role in ownership.PAIR:
        loads, arr = repository.account_loads(session, role), repository.arr_loads(session, role)
        out += [_roster_read(m, loads, arr) for m in repository.active_with_role(session, role)]
    return out


@router.patch("/team/{member_id}", response_model=RosterRead)
def update_roster(member_id: RowId, body: RosterUpdate, member: CurrentMember) -> RosterRead:
    """Set a member's segments, regions, languages, capacity, or deactivate them: managers for AEs, SEs,
    CSMs and AMs, admins for everyone (403 otherwise). 409 `last_admin` for the last active admin."""
    with db.transaction() as session:
        target = repository.by_id(session, member_id)
        if target is None:
            raise NotFound(f"no team member {member_id}")
        changes = {k: v for k, v in body.model_dump(exclude_unset=True).items() if v is not None or k != "active"}
        team_service.update_member(session, target=target, changes=changes, by=member, actor=Actor.user(member.email))
        in_pair = target.role in ownership.PAIR
        loads = repository.account_loads(session, target.role) if in_pair else {}
        arr = repository.arr_loads(session, target.role) if in_pair else {}
        return _roster_read(target, loads, arr)
