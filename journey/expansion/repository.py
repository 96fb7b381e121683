"""Every query of expansion reminders and risk alerts, each answering for a batch of accounts."""
from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from journey.db import among
from journey.expansion.domain import UpcomingReview
from journey.health.repository import _aware
from journey.kit import as_utc
from journey.models import Account, Deal, HealthScore, Reminder, Review, Signal


def account_ids_with_am(session: Session, after_id: int, limit: int) -> list[int]:
    stmt = (select(Account.id).where(Account.id > after_id, Account.am_id.is_not(None))
            .order_by(Account.id).limit(limit))
    return list(session.scalars(stmt))


def accounts(session: Session, account_ids: Sequence[int]) -> dict[int, Any]:
    stmt = (select(Account.id, Account.name, Account.csm_id, Account.am_id)
            .where(among(session, Account.id, account_ids)))
    return {r.id: r for r in session.execute(stmt)}


def last_reminder_at(session: Session, account_ids: Sequence[int], kinds: Sequence[str]
                     ) -> dict[tuple[int, str], datetime]:
    stmt = (select(Reminder.account_id, Reminder.kind, func.max(Reminder.created_at))
            .where(among(session, Reminder.account_id, account_ids), Reminder.kind.in_(kinds))
            .group_by(Reminder.account_id, Reminder.kind))
    return {(a, k): at for a, k, at in session.execute(stmt)}


def seat_usage(session: Session, account_ids: Sequence[int], *, for_days: int, now: datetime
               ) -> dict[int, tuple[float, int]]:
    """Lowest `active_users` over the period and how many days of it the data covers.

    The period is read with a week of lead so the value in force when it began counts (signals sent
    every few days still cover the whole period)."""
    since = now - timedelta(days=for_days + 7)
    stmt = (select(Signal.account_id, func.min(Signal.value), func.min(Signal.at))
            .where(among(session, Signal.account_id, account_ids), Signal.metric == "active_users", Signal.at > since,
                   Signal.at <= now).group_by(Signal.account_id))
    out = {}
    for account_id, low, first in session.execute(stmt):
        out[account_id] = (float(low), min(for_days, (now - _aware(first)).days))
    return out


def next_reviews(session: Session, account_ids: Sequence[int], *, today: date, until: date
                 ) -> dict[int, UpcomingReview]:
    stmt = (select(Review.id, Review.account_id, Review.kind, Review.title, Review.due_on)
            .where(among(session, Review.account_id, account_ids), Review.due_on >= today, Review.due_on <= until,
                   Review.status.in_(["proposed", "scheduled"])).order_by(Review.due_on, Review.id))
    out: dict[int, UpcomingReview] = {}
    for r in session.execute(stmt):
        out.setdefault(r.account_id, UpcomingReview(r.id, r.kind, r.title, r.due_on))
    return out


def contract_ends(session: Session, account_ids: Sequence[int], today: date) -> dict[int, date]:
    stmt = (select(Deal.account_id, func.min(Deal.contract_end))
            .where(among(session, Deal.account_id, account_ids), Deal.status == "won", Deal.contract_end >= today)
            .group_by(Deal.account_id))
    return dict(session.execute(stmt).tuples().all())


def review(session: Session, review_id: int) -> Review | None:
    return session.get(Review, review_id)


def stored_health(session: Session, account_ids: Sequence[int], *, band: str, or_ids: Sequence[int]) -> dict[int, Any]:
    """(band, score, band_changed_at, contributions) of the stored score of those of `account_ids` in
    `band`, and of `or_ids` whatever their band (the contributions are read only for those)."""
    stmt = (select(HealthScore.account_id, HealthScore.band, HealthScore.score, HealthScore.band_changed_at,
                   HealthScore.contributions)
            .where(among(session, HealthScore.account_id, account_ids),
                   or_(HealthScore.band == band, among(session, HealthScore.account_id, or_ids))))
    return {r.account_id: r for r in session.execute(stmt)}


def escalations_open_since(session: Session, account_ids: Sequence[int], *, now: datetime) -> dict[int, datetime]:
    """When the open escalation of each account opened: the first `escalation_open` signal at 1 after the
    last one at 0 (accounts whose latest says closed, or that never sent one, are not in the answer)."""
    escalation = (among(session, Signal.account_id, account_ids), Signal.metric == "escalation_open", Signal.at <= now)
    closed = (select(Signal.account_id, func.max(Signal.at).label("at")).where(*escalation, Signal.value < 0.5)
              .group_by(Signal.account_id).subquery())
    stmt = (select(Signal.account_id, func.min(Signal.at))
            .outerjoin(closed, closed.c.account_id == Signal.account_id)
            .where(*escalation, Signal.value >= 0.5, or_(closed.c.at.is_(None), Signal.at > closed.c.at))
            .group_by(Signal.account_id))
    return {a: as_utc(at) for a, at in session.execute(stmt)}
