"""Every query about accounts, with the visibility rule of each role."""
from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Select, exists, false, or_, select
from sqlalchemy.orm import Session, aliased

from journey.kit import row_id
from journey.models import Account, Deal, TeamMember
from journey.policy import Action, Reach, reach


def visible_to(stmt: Select, member: TeamMember, action: Action = Action.view_account) -> Select:
    """The accounts the member reaches for `action`, as `journey.policy` says: all of them, those they own
    (CSM or AM), or those whose deal they sold (AE or SE)."""
    scope = reach(member.role, action)
    if scope is Reach.all:
        return stmt
    if scope is Reach.owned:
        return stmt.where(or_(Account.csm_id == member.id, Account.am_id == member.id))
    if scope is Reach.sold:  # an alias: `stmt` may select from deal itself (GET /api/journeys)
        sold = aliased(Deal)
        return stmt.where(exists().where(sold.account_id == Account.id,
                                         or_(sold.ae_id == member.id, sold.se_id == member.id)))
    return stmt.where(false())


def sellers(session: Session, account_id: int) -> set[int]:
    """The AEs and SEs of the account's deals."""
    rows = session.execute(select(Deal.ae_id, Deal.se_id).where(Deal.account_id == account_id)).all()
    return {i for row in rows for i in row if i is not None}


def by_ref(session: Session, ref: str, member: TeamMember) -> Account | None:
    """An account by our id or by `crm:<source>:<external id>`, if the member may see it."""
    stmt = select(Account)
    if ref.startswith("crm:"):
        _, source, external_id = (ref.split(":", 2) + ["", ""])[:3]
        stmt = stmt.where(Account.crm_source == source, Account.crm_external_id == external_id)
    elif (account_id := row_id(ref)) is not None:
        stmt = stmt.where(Account.id == account_id)
    else:
        return None
    return session.scalars(visible_to(stmt, member)).one_or_none()


def by_crm(session: Session, *, source: str, external_id: str) -> Account | None:
    stmt = select(Account).where(Account.crm_source == source, Account.crm_external_id == external_id)
    return session.scalars(stmt).one_or_none()


def page(session: Session, member: TeamMember, *, after_id: int, limit: int, q: str | None = None,
         segment: str | None = None) -> Sequence[Account]:
    stmt = select(Account).where(Account.id > after_id).order_by(Account.id).limit(limit)
    if q:
        stmt = stmt.where(Account.name.ilike(f"%{q}%"))
    if segment:
        stmt = stmt.where(Account.segment == segment)
    return session.scalars(visible_to(stmt, member)).all()


def members_by_id(session: Session, ids: set[int]) -> dict[int, TeamMember]:
    if not ids:
        return {}
    return {m.id: m for m in session.scalars(select(TeamMember).where(TeamMember.id.in_(ids)))}
