"""Every query about team members and API tokens."""
from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Row, delete, func, select, update
from sqlalchemy.orm import Session

from journey.db import insert_ignoring_duplicates
from journey.models import (
    Account,
    AccountOwner,
    ApiToken,
    Deal,
    DealStatus,
    Role,
    SigninLink,
    TeamMember,
    WebSession,
)


def by_email(session: Session, email: str) -> TeamMember | None:
    return session.scalars(select(TeamMember).where(TeamMember.email == email.lower())).one_or_none()


def insert_if_new(session: Session, *, email: str, name: str, role: Role, can_sign_in: bool) -> None:
    insert_ignoring_duplicates(session, TeamMember, email=email.lower(), name=name, role=role, timezone="UTC",
                               segments=[], regions=[], languages=[], active=True, can_sign_in=can_sign_in)


def token_by_digest(session: Session, digest: str) -> tuple[ApiToken, TeamMember] | None:
    """The token with this digest and its member, whatever their state (the caller says why it is refused)."""
    stmt = select(ApiToken, TeamMember).join(TeamMember, TeamMember.id == ApiToken.member_id).where(
        ApiToken.digest == digest)
    return session.execute(stmt).tuples().one_or_none()


def tokens(session: Session, *, member_id: int | None = None) -> Sequence[tuple[ApiToken, str]]:
    """Every token (of one member), oldest first, with its member's email."""
    stmt = select(ApiToken, TeamMember.email).join(TeamMember, TeamMember.id == ApiToken.member_id)
    if member_id is not None:
        stmt = stmt.where(ApiToken.member_id == member_id)
    return session.execute(stmt.order_by(ApiToken.id)).tuples().all()


def token_by_id(session: Session, token_id: int) -> ApiToken | None:
    return session.get(ApiToken, token_id)


def revoke_member_tokens(session: Session, member_id: int, now: datetime) -> int:
    stmt = (update(ApiToken).where(ApiToken.member_id == member_id, ApiToken.revoked_at.is_(None))
            .values(revoked_at=now))
    return session.execute(stmt).rowcount or 0  # type: ignore[attr-defined]


def touch_token(session: Session, token_id: int, now: datetime) -> None:
    session.execute(update(ApiToken).where(ApiToken.id == token_id).values(last_used_at=now))


def end_member_sign_ins(session: Session, member_id: int) -> None:
    """Delete the member's browser sessions and unused sign-in links."""
    session.execute(delete(WebSession).where(WebSession.member_id == member_id))
    session.execute(delete(SigninLink).where(SigninLink.member_id == member_id))


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


def by_ids(session: Session, ids: set[int]) -> dict[int, TeamMember]:
    if not ids:
        return {}
    return {m.id: m for m in session.scalars(select(TeamMember).where(TeamMember.id.in_(ids)))}


def names(session: Session, ids: set[int]) -> dict[int, Row]:
    """(id, name) of team members, for pages that only print who someone is."""
    if not ids:
        return {}
    return {m.id: m for m in session.execute(select(TeamMember.id, TeamMember.name).where(TeamMember.id.in_(ids)))}
