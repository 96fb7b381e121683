"""`/api/accounts`: the accounts a member may see."""
from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from journey.accounts import repository
from journey.accounts.access import account_for
from journey.accounts.schemas import AccountRead, Page
from journey.deps import CurrentMember, ReadSession
from journey.health.repository import health_refs
from journey.kit import decode_cursor, encode_cursor
from journey.models import Account, TeamMember

router = APIRouter(prefix="/api/accounts", tags=["accounts"])
Limit = Annotated[int, Query(ge=1, le=1000)]


@router.get("", response_model=Page[AccountRead])
def list_accounts(session: ReadSession, member: CurrentMember, limit: Limit = 50, cursor: str | None = None,
                  q: str | None = None, segment: str | None = None) -> Page[AccountRead]:
    rows = repository.page(session, member, after_id=decode_cursor(cursor), limit=limit, q=q, segment=segment)
    members = repository.members_by_id(session, _owner_ids(rows))
    health = health_refs(session, [a.id for a in rows])
    return Page(items=[AccountRead.of(a, members, health) for a in rows],
                next=encode_cursor(rows[-1].id) if len(rows) == limit else None)


@router.get("/{ref}", response_model=AccountRead)
def get_account(ref: str, session: ReadSession, member: CurrentMember) -> AccountRead:
    account = visible_account(session, ref, member)
    return AccountRead.of(account, repository.members_by_id(session, _owner_ids([account])),
                          health_refs(session, [account.id]))


def visible_account(session, ref: str, member: TeamMember) -> Account:  # type: ignore[no-untyped-def]
    """The account, or 404 whether it does not exist or is outside the member's book (no leak)."""
    return account_for(session, ref, member)


def _owner_ids(accounts) -> set[int]:  # type: ignore[no-untyped-def]
    return {i for a in accounts for i in (a.csm_id, a.am_id) if i}
