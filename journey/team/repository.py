"""Every query about team members and API tokens."""
from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from journey.db import insert_ignoring_duplicates
from journey.models import Account, AccountOwner, ApiToken, Deal, DealStatus, Role, TeamMember


def by_email(session: Session, email: str) -> TeamMember | None:
    return session.scalars(select(TeamMember).where(TeamMember.email == email.lower())).one_or_none()


def insert_if_new(session: Session, *, email: str, name: str, role: Role, can_sign_in: bool) -> None:
    insert_ignoring_duplicates(session, TeamMember, email=email.lower(), name=name, role=role, timezone="UTC",
                               segments=[], regions=[], languages=[], active=True, can_sign_in=can_sign_in)


def by_token_digest(session: Session, digest: str) -> TeamMember | None:
    stmt = (select(TeamMember).join(ApiToken, ApiToken.member_id == TeamMember.id)
            .where(ApiToken.digest == digest, ApiToken.revoked_at.is_(None), TeamMember.active.is_(True),
                   TeamMember.can_sign_in.is_(True)))
    return session.scalars(stmt).one_or_none()


def everyone(session: Session) -> Sequence[TeamMember]:
    """Every member, those waiting for sign-in rights first, then by name."""
    stmt = select(TeamMember).order_by(TeamMember.can_sign_in, TeamMember.name, TeamMember.id)
    return session.scalars(stmt).all()


def active_with_role(session: Session, role: Role) -> Sequence[TeamMember]:
    stmt = select(TeamMember).where(TeamMember.role == role, TeamMember.active.is_(True)).order_by(TeamMember.id)
    return session.scalars(stmt).all()


def account_loads(session: Session, role: Role) -> dict[int, int]:
    """How many accounts each member owns now in `role` (csm or am)."""
    column = Account.csm_id if role == Role.csm else Account.am_id
    stmt = select(column, func.count()).where(column.is_not(None)).group_by(column)
    return {member_id: count for member_id, count in session.execute(stmt).all()}


def arr_loads(session: Session, role: Role) -> dict[int, float]:
    """The ARR each member owns now in `role`: the sum of the amounts of their accounts' won deals."""
    column = Account.csm_id if role == Role.csm else Account.am_id
    stmt = (select(column, func.sum(Deal.amount)).join(Deal, Deal.account_id == Account.id)
            .where(column.is_not(None), Deal.status == DealStatus.won).group_by(column))
    return {member_id: float(total or 0) for member_id, total in session.execute(stmt).all()}


def account_arr(session: Session, account_id: int) -> float:
    """The account's ARR: the sum of the amounts of its won deals."""
    stmt = select(func.sum(Deal.amount)).where(Deal.account_id == account_id, Deal.status == DealStatus.won)
    return float(session.scalar(stmt) or 0)


def open_windows(session: Session, account_id: int) -> Sequence[AccountOwner]:
    stmt = select(AccountOwner).where(AccountOwner.account_id == account_id, AccountOwner.ended_at.is_(None))
    return session.scalars(stmt).all()


def ownership_history(session: Session, account_id: int) -> Sequence[AccountOwner]:
    stmt = (select(AccountOwner).where(AccountOwner.account_id == account_id)
            .order_by(AccountOwner.started_at, AccountOwner.id))
    return session.scalars(stmt).all()


def active_admin_ids(session: Session) -> list[int]:
    """The active admins, locked until the transaction ends (PostgreSQL), so two admins deactivating each
    other at once cannot both see the other still active."""
    stmt = (select(TeamMember.id).where(TeamMember.role == Role.admin, TeamMember.active.is_(True))
            .with_for_update())
    return list(session.scalars(stmt))


def by_id(session: Session, member_id: int) -> TeamMember | None:
    return session.get(TeamMember, member_id)
