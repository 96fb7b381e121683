"""Every query about accounts, with the visibility rule of each role."""
from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Select, exists, or_, select
from sqlalchemy.orm import Session

from journey.kit import row_id
from journey.models import Account, Deal, Role, TeamMember


def visible_to(stmt: Select, member: TeamMember) -> Select:
    """Managers and admins see every account; a CSM or AM their book; an AE or SE the deals they sold."""
    if member.role in (Role.admin, Role.manager):
        return stmt
    if member.role in (Role.csm, Role.am):
        return stmt.where(or_(Account.csm_id == member.id, Account.am_id == member.id))
    sold = exists().where(Deal.account_id == Account.id, or_(Deal.ae_id == member.id, Deal.se_id == member.id))
    return stmt.where(sold)


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
