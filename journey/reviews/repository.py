"""Every query of reviews and of their reminder rows."""
from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from functools import lru_cache
from typing import Any, NamedTuple, cast

from sqlalchemy import Dialect, Table, and_, bindparam, case, delete, exists, func, select, type_coerce, update
from sqlalchemy.orm import Session
from sqlalchemy.sql.sqltypes import NULLTYPE

from journey.db import among_param, ids_value, insert_ignoring_duplicates, insert_rows_ignoring_duplicates
from journey.models import Account, Deal, Journey, Review, ReviewReminder, Role, Stakeholder, TeamMember

ACTIVE = ("proposed", "scheduled")
_REMINDERS = cast(Table, ReviewReminder.__table__)


def _pg(session: Session) -> bool:
    return _dialect(session) == "postgresql"


def _dialect(session: Session) -> str:
    return session.get_bind().dialect.name


def has_reviews(session: Session, journey_id: int) -> bool:
    return bool(session.scalar(select(exists().where(Review.journey_id == journey_id))))


def get(session: Session, review_id: int) -> Review | None:
    return session.get(Review, review_id)


def of_journeys(session: Session, journey_ids: Sequence[int]) -> Sequence[Review]:
    stmt = select(Review).where(Review.journey_id.in_(journey_ids)).order_by(Review.due_on, Review.kind)
    return session.scalars(stmt).all()


def of_account(session: Session, account_id: int) -> Sequence[Review]:
    stmt = select(Review).where(Review.account_id == account_id).order_by(Review.due_on, Review.kind)
    return session.scalars(stmt).all()


def by_ids(session: Session, review_ids: Iterable[int]) -> dict[int, Review]:
    """The reviews as the database has them now, even those loaded earlier in the session (a bulk UPDATE
    does not refresh them)."""
    stmt = select(Review).where(Review.id.in_(list(review_ids))).execution_options(populate_existing=True)
    return {r.id: r for r in session.scalars(stmt)}


def account_of(session: Session, review: Review) -> Account:
    return session.get_one(Account, review.account_id)


def parties(session: Session, review: Review) -> tuple[Account, Deal]:
    """The review's account and the deal of its journey (whose AE and SE attend)."""
    stmt = (select(Account, Deal).join(Journey, Journey.account_id == Account.id).join(Deal, Deal.id == Journey.deal_id)
            .where(Journey.id == review.journey_id, Account.id == review.account_id))
    account, deal = session.execute(stmt).one()
    return account, deal


def accounts_by_ids(session: Session, account_ids: Iterable[int]) -> dict[int, Account]:
    return {a.id: a for a in session.scalars(select(Account).where(Account.id.in_(list(account_ids))))}


def members_by_ids(session: Session, member_ids: Iterable[int | None]) -> dict[int, TeamMember]:
    ids = [i for i in member_ids if i is not None]
    return {m.id: m for m in session.scalars(select(TeamMember).where(TeamMember.id.in_(ids)))} if ids else {}


def active_managers(session: Session) -> Sequence[TeamMember]:
    stmt = select(TeamMember).where(TeamMember.role == Role.manager, TeamMember.active.is_(True))
    return session.scalars(stmt.order_by(TeamMember.id)).all()


def held_of_account(session: Session, account_id: int) -> Sequence[Review]:
    """Held reviews of the account, latest first (their outcomes carry objective progress)."""
    stmt = (select(Review).where(Review.account_id == account_id, Review.status == "held")
            .order_by(Review.held_at.desc(), Review.id.desc()))
    return session.scalars(stmt).all()


# --- reminder rows ---

def replace_pending_reminders(session: Session, *, review_id: int, sequence: int,
                              moments: Iterable[tuple[int, datetime]]) -> None:
    """Drop the review's pending reminders and plan one per lead time for the current sequence."""
    session.execute(delete(ReviewReminder).where(ReviewReminder.review_id == review_id,
                                                 ReviewReminder.status == "pending"))
    for lead, due_at in moments:
        insert_ignoring_duplicates(session, ReviewReminder, review_id=review_id, sequence=sequence,
                                   lead_days=lead, due_at=due_at, status="pending")


def add_reminders(session: Session, plans: Iterable[tuple[int, int, Iterable[tuple[int, datetime]]]]) -> None:
    """Pending reminders of new reviews, (review id, sequence, moments) each, in one multi-row INSERT."""
    insert_rows_ignoring_duplicates(session, ReviewReminder, [
        {"review_id": review_id, "sequence": sequence, "lead_days": lead, "due_at": due_at, "status": "pending"}
        for review_id, sequence, moments in plans for lead, due_at in moments])


def reminders_of(session: Session, review_id: int) -> Sequence[ReviewReminder]:
    stmt = select(ReviewReminder).where(ReviewReminder.review_id == review_id)
    return session.scalars(stmt.order_by(ReviewReminder.sequence, ReviewReminder.lead_days.desc())).all()


def claim_due_reminders(session: Session, *, now: datetime, limit: int) -> list[tuple[int, int, int, int]]:
    """Claim up to `limit` due pending reminders in one statement: (id, review id, lead days, sequence).

    `FOR UPDATE SKIP LOCKED` on PostgreSQL; on SQLite the writer's `BEGIN IMMEDIATE` serialises claimers.
    Claimed rows are marked sent in the caller's transaction, so they are sent once or not at all.
    """
    session.flush()  # Core statements do not autoflush: what the caller added is written first, as the ORM's did
    claimed = session.execute(_claim_statement(_dialect(session)), {"now": now, "limit": limit}).all()
    return sorted((r[0], r[1], r[2], r[3]) for r in claimed)


class ReminderFact(NamedTuple):
    """What sending a review's reminders reads of it and of its account. A named tuple, not SQLAlchemy's row:
    reading a row's fields by name cost more than deciding and rendering the reminder."""

    id: int
    status: str
    sequence: int
    starts_at: datetime | None
    title: str
    account_id: int
    account_name: str
    region: str | None
    timezone: str
    owner_id: int | None  # the account's CSM, else its AM
    owner_email: str | None
    nearest_due_lead: int | None  # the smallest lead time of its current sequence due by `now` (pending or sent)


def reminder_facts(session: Session, review_ids: Iterable[int], *, now: datetime) -> dict[int, ReminderFact]:
    """The `ReminderFact` of each review, by id, in one query of plain rows (no ORM objects): the review, its
    account, the account's owner and the nearest due lead time. Start times are read as the driver gives them
    and converted once per distinct time of the batch (most reviews share a few), not once per row."""
    dialect = session.get_bind().dialect
    params = {"ids": ids_value(dialect.name, review_ids), "now": now}
    rows = session.execute(_facts_statement(dialect.name), params).all()
    convert = _starts_at_converter(dialect)
    starts = {raw: convert(raw) for raw in {row[3] for row in rows}}
    return {row[0]: ReminderFact(row[0], row[1], row[2], starts[row[3]], *row[4:]) for row in rows}


@lru_cache(maxsize=2)
def _starts_at_converter(dialect: Dialect) -> Callable[[Any], datetime | None]:
    convert = Review.__table__.c.starts_at.type._cached_result_processor(dialect, None)
    return convert or (lambda value: value)


# The sweep's statements are Core (no ORM rows nor bulk-update bookkeeping, which cost more than the queries),
# built once per dialect (building them per batch cost about as much as running them), and their results are
# fetched with all() (iterating a result fetches one row at a time).

@lru_cache(maxsize=2)
def _claim_statement(dialect: str) -> Any:
    rows = _REMINDERS
    due = (select(rows.c.id).where(rows.c.status == "pending", rows.c.due_at <= bindparam("now"))
           .order_by(rows.c.due_at, rows.c.id).limit(bindparam("limit")))
    if dialect == "postgresql":
        due = due.with_for_update(skip_locked=True)
    return (update(rows).where(rows.c.id.in_(due.scalar_subquery())).values(status="sent", sent_at=bindparam("now"))
            .returning(rows.c.id, rows.c.review_id, rows.c.lead_days, rows.c.sequence))


@lru_cache(maxsize=2)
def _facts_statement(dialect: str) -> Any:
    """The facts, with the nearest due lead time as a sub-select per review. It reads the review's rows of its
    current sequence by the unique (review, sequence, lead) index, and tests status and due time in the
    aggregate: in its WHERE clause, PostgreSQL with stale statistics ANDed the status index into every
    review's lookup (11.6 s per batch of 500 at 100k rows), and SQLite without statistics searched the
    (status, due_at) index instead, every due row of every review per batch."""
    review, account, due = Review.__table__, Account.__table__, _REMINDERS.alias("due")
    owner, owner_id = TeamMember.__table__, func.coalesce(account.c.csm_id, account.c.am_id)
    is_due = and_(due.c.due_at <= bindparam("now"), due.c.status.in_(("pending", "sent")))
    nearest = (select(func.min(case((is_due, due.c.lead_days))))
               .where(due.c.review_id == review.c.id, due.c.sequence == review.c.sequence).scalar_subquery())
    return (select(review.c.id, review.c.status, review.c.sequence, type_coerce(review.c.starts_at, NULLTYPE),
                   review.c.title,  # the start as the driver reads it: `reminder_facts` converts it
                   review.c.account_id, account.c.name, account.c.region, account.c.timezone, owner_id,
                   owner.c.email, nearest)
            .join(account, account.c.id == review.c.account_id).outerjoin(owner, owner.c.id == owner_id)
            .where(among_param(dialect, review.c.id, "ids")))


def set_reminder_status(session: Session, reminder_ids: Sequence[int], status: str) -> None:
    if reminder_ids:
        session.execute(update(ReviewReminder).where(ReviewReminder.id.in_(list(reminder_ids)))
                        .values(status=status, sent_at=None).execution_options(synchronize_session=False))


# --- missed reviews ---

def claim_missed(session: Session, *, ended_before: datetime, now: datetime, limit: int) -> list[int]:
    """Mark active reviews that ended before `ended_before` as missed, in one statement; their ids."""
    due = (select(Review.id).where(Review.status.in_(ACTIVE), Review.ends_at < ended_before)
           .order_by(Review.ends_at, Review.id).limit(limit))
    if _pg(session):
        due = due.with_for_update(skip_locked=True)
    rows = session.execute(
        update(Review).where(Review.id.in_(due.scalar_subquery()))
        .values(status="missed", missed_at=now).returning(Review.id)
        .execution_options(synchronize_session=False)
    ).all()
    return sorted(r[0] for r in rows)


def stakeholders_of(session: Session, account_id: int) -> list[Stakeholder]:
    """The customer's people on the account, in the order they were recorded."""
    return list(session.scalars(select(Stakeholder).where(Stakeholder.account_id == account_id)
                                .order_by(Stakeholder.id)))
