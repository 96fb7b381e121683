"""Every query about deals and journeys."""
from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from journey.accounts.repository import visible_to
from journey.db import insert_ignoring_duplicates
from journey.models import Account, Deal, Journey, Stakeholder, TeamMember


def deal_by_crm(session: Session, *, source: str, external_id: str) -> Deal | None:
    stmt = select(Deal).where(Deal.crm_source == source, Deal.crm_external_id == external_id)
    return session.scalars(stmt).one_or_none()


def insert_account_if_new(session: Session, **values: object) -> None:
    insert_ignoring_duplicates(session, Account, **values)


def insert_deal_if_new(session: Session, **values: object) -> None:
    insert_ignoring_duplicates(session, Deal, **values)


def insert_journey_if_new(session: Session, **values: object) -> int | None:
    return insert_ignoring_duplicates(session, Journey, **values)


def journey_for_deal(session: Session, deal_id: int) -> Journey | None:
    return session.scalars(select(Journey).where(Journey.deal_id == deal_id)).one_or_none()


def stakeholders_of(session: Session, account_id: int) -> Sequence[Stakeholder]:
    return session.scalars(select(Stakeholder).where(Stakeholder.account_id == account_id)).all()


def journeys_page(session: Session, member: TeamMember, *, after_id: int, limit: int,
                  deal_source: str | None = None, deal_external_id: str | None = None,
                  account_id: int | None = None) -> Sequence[tuple[Journey, Deal]]:
    stmt = (select(Journey, Deal).join(Deal, Deal.id == Journey.deal_id)
            .join(Account, Account.id == Journey.account_id)
            .where(Journey.id > after_id).order_by(Journey.id).limit(limit))
    if deal_source is not None:
        stmt = stmt.where(Deal.crm_source == deal_source, Deal.crm_external_id == deal_external_id)
    if account_id is not None:
        stmt = stmt.where(Journey.account_id == account_id)
    return [(j, d) for j, d in session.execute(visible_to(stmt, member)).all()]
