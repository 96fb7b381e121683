"""The weekly review as JSON (`GET /api/kpis/weekly`) and an account's expansion opportunities."""
from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from journey import db
from journey.accounts.access import account_for, facts
from journey.accounts.endpoints import visible_account
from journey.accounts.schemas import Page
from journey.audit import Actor
from journey.deps import CurrentMember, ReadSession, RowId
from journey.errors import Conflict, NotFound
from journey.kit import utcnow
from journey.kpis import opportunities, reads, repository
from journey.models import Account, Opportunity
from journey.policy import Action, require

router = APIRouter(prefix="/api", tags=["kpis"])
Stage = Annotated[str, Field(pattern="^(open|proposed|won|lost)$", description="open, proposed, won or lost")]
Amount = Annotated[Decimal, Field(ge=0, lt=Decimal("1e15"), decimal_places=2)]


class OpportunityRead(BaseModel):
    id: int
    account_id: int
    title: str
    amount: Decimal | None
    stage: str
    source: str = Field(description="review, rule or manual")
    review_id: int | None
    created_at: datetime
    closed_at: datetime | None


class OpportunityCreate(BaseModel):
    title: str = Field(min_length=1, max_length=300)
    amount: Amount | None = None
    stage: Stage = "open"


class OpportunityUpdate(BaseModel):
    title: str | None = Field(default=None, min_length=1, max_length=300)
    amount: Amount | None = None
    stage: Stage | None = None


def _read(o: Opportunity) -> OpportunityRead:
    return OpportunityRead(id=o.id, account_id=o.account_id, title=o.title, amount=o.amount, stage=o.stage,
                           source=o.source, review_id=o.review_id, created_at=o.created_at, closed_at=o.closed_at)


@router.get("/kpis/weekly")
def weekly_kpis(session: ReadSession, member: CurrentMember,
                week: Annotated[str | None, Query(max_length=8, description="ISO week, e.g. 2027-W05")] = None,
                owner: Annotated[int | None, Query(ge=1, description="a CSM's or AM's member id")] = None,
                segment: Annotated[str, Query(max_length=64)] = "", region: Annotated[str, Query(max_length=16)] = "",
                period_days: Annotated[int, Query(ge=7, le=730, description="retention period, in days")] = 90,
                ) -> dict[str, Any]:
    """The weekly review: the five KPIs with last week's value and the change, per-CSM and per-AM rows,
    ARR at risk, the expansion pipeline in money, GRR / NRR over `period_days`, 12 weeks of history and
    the accounts needing attention. Filter by one of owner, segment or region."""
    require(member, Action.view_team)
    scope = reads.scope_for(owner_id=owner, segment=segment, region=region)
    return reads.weekly(session, viewer=member, week=week, scope=scope, now=utcnow(), period_days=period_days)


@router.get("/accounts/{ref}/opportunities", response_model=Page[OpportunityRead])
def list_opportunities(ref: str, session: ReadSession, member: CurrentMember) -> Page[OpportunityRead]:
    """The account's expansion opportunities (raised at reviews, by expansion rules, or by hand)."""
    account = visible_account(session, ref, member)
    return Page(items=[_read(o) for o in repository.opportunities_of(session, account.id)], next=None)


@router.post("/accounts/{ref}/opportunities", response_model=OpportunityRead, status_code=201)
def create_opportunity(ref: str, body: OpportunityCreate, member: CurrentMember) -> OpportunityRead:
    """Add an opportunity (the AM of the account, managers and admins)."""
    now = utcnow()
    with db.transaction() as session:
        account = account_for(session, ref, member, Action.edit_opportunity)
        row = opportunities.raise_opportunity(session, account_id=account.id, title=body.title, source="manual",
                                              amount=body.amount, stage=body.stage, now=now,
                                              actor=Actor.user(member.email))
        if row is None:
            raise Conflict("an open opportunity with this title is already on the account")
        return _read(row)


@router.patch("/opportunities/{opportunity_id}", response_model=OpportunityRead)
def update_opportunity(opportunity_id: RowId, body: OpportunityUpdate, member: CurrentMember) -> OpportunityRead:
    """Set an opportunity's amount, stage (open, proposed, won, lost) or title."""
    now = utcnow()
    with db.transaction() as session:
        row = repository.opportunity(session, opportunity_id)
        account = session.get(Account, row.account_id) if row is not None else None
        if row is None or account is None:
            raise NotFound(f"no opportunity {opportunity_id}")
        resource = facts(session, account)
        require(member, Action.edit_opportunity, resource)
        opportunities.update_opportunity(session, opportunity=row, amount=body.amount, stage=body.stage,
                                         title=body.title, actor=Actor.user(member.email), now=now)
        return _read(row)
