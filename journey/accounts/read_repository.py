"""The book of accounts as the pages read it: the rows of a book page (filtered, one page at a time), counts
for the summary cards, what an account's row shows. Each reads only a page's worth of rows, so a page costs
the same with 10 accounts or 10,000."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy import Row, Select, and_, case, func, or_, select
from sqlalchemy.orm import Session

from journey.accounts.repository import visible_to
from journey.models import (
    Account,
    Deal,
    HandoffPacket,
    HealthScore,
    Journey,
    PacketAcknowledgement,
    PlanTask,
    Reminder,
    Review,
    TaskStatus,
    TeamMember,
)
from journey.policy import Action, Reach, reach, sees_every_account

OPEN_TASK = (TaskStatus.todo, TaskStatus.in_progress)
OPEN_REVIEW = ("proposed", "scheduled", "missed")
ATTENTION = {"overdue": "Overdue tasks", "packet": "Packet not accepted", "reviews": "Review in 30 days"}


@dataclass(frozen=True)
class BookFilter:
    q: str = ""
    segment: str = ""
    attention: str = ""
    owner: str = ""  # "mine" narrows a manager's view to the accounts they own
    health: str = ""  # a band in force (`unknown`: too little data for a band)


def book_stmt(member: TeamMember, f: BookFilter, today: date) -> Select:
    stmt = visible_to(select(Account), member)
    if f.q:
        stmt = stmt.where(Account.name.ilike(f"%{_like(f.q)}%", escape="\\"))
    if f.segment:
        stmt = stmt.where(Account.segment == f.segment)
    if f.owner == "mine":
        stmt = stmt.where(or_(Account.csm_id == member.id, Account.am_id == member.id))
    if f.health:
        stmt = stmt.where(Account.id.in_(select(HealthScore.account_id).where(HealthScore.band == f.health)))
    if f.attention == "overdue":
        late = _open_tasks(member, select(PlanTask.journey_id)).where(PlanTask.due_on < today)
        stmt = stmt.where(Account.id.in_(select(Journey.account_id).where(Journey.id.in_(late))))
    elif f.attention == "packet":
        stmt = stmt.where(Account.id.in_(select(HandoffPacket.account_id).where(HandoffPacket.state != "accepted")))
    elif f.attention == "reviews":
        soon = select(Review.account_id).where(in_book(Review.account_id, member), Review.status.in_(OPEN_REVIEW),
                                               Review.due_on.between(today, date.fromordinal(today.toordinal() + 30)))
        stmt = stmt.where(Account.id.in_(soon))
    return stmt


def _like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def book_page(session: Session, member: TeamMember, f: BookFilter, today: date, *, offset: int,
              limit: int) -> tuple[Sequence[Row], int]:
    """A page of the book as plain rows (id, name, segment, region, csm_id, am_id), and the total."""
    stmt = book_stmt(member, f, today)
    total = session.scalar(select(func.count()).select_from(stmt.with_only_columns(Account.id).subquery())) or 0
    columns = (Account.id, Account.name, Account.segment, Account.region, Account.csm_id, Account.am_id)
    rows = session.execute(stmt.with_only_columns(*columns).order_by(Account.name, Account.id)
                           .offset(offset).limit(limit)).all()
    return rows, total


def segments(session: Session, member: TeamMember) -> list[str]:
    stmt = visible_to(select(Account.segment).where(Account.segment.is_not(None)).distinct(), member)
    return sorted(s for s in session.scalars(stmt) if s)


def regions(session: Session, member: TeamMember) -> list[str]:
    stmt = visible_to(select(Account.region).where(Account.region.is_not(None)).distinct(), member)
    return sorted(r for r in session.scalars(stmt) if r)


def task_counts(session: Session, account_ids: Sequence[int], today: date) -> dict[int, tuple[int, int]]:
    """(open, overdue) tasks per account. The status is tested in the sums, not in WHERE: the page's ~1,000
    tasks are then found through their journey, never by walking every open task of the database (which a
    planner without statistics picks through the (status, due_on) index)."""
    if not account_ids:
        return {}
    is_open = PlanTask.status.in_(OPEN_TASK)
    stmt = (select(Journey.account_id, func.sum(case((is_open, 1), else_=0)),
                   func.sum(case((and_(is_open, PlanTask.due_on < today), 1), else_=0)))
            .join(PlanTask, PlanTask.journey_id == Journey.id)
            .where(Journey.account_id.in_(account_ids)).group_by(Journey.account_id))
    return {a: (int(n or 0), int(late or 0)) for a, n, late in session.execute(stmt)}


def next_reviews(session: Session, account_ids: Sequence[int], today: date) -> dict[int, Row]:
    """The earliest open review of each account as (account_id, title, due_on) (by account id: the status
    is filtered here, so the database walks the page's ~150 reviews instead of every open review)."""
    if not account_ids:
        return {}
    stmt = (select(Review.account_id, Review.title, Review.due_on, Review.status)
            .where(Review.account_id.in_(account_ids)).order_by(Review.due_on, Review.id))
    out: dict[int, Row] = {}
    for review in session.execute(stmt):
        if review.status in OPEN_REVIEW:
            out.setdefault(review.account_id, review)
    return out


def open_reminder_counts(session: Session, account_ids: Sequence[int]) -> dict[int, int]:
    if not account_ids:
        return {}
    stmt = (select(Reminder.account_id, func.count()).where(Reminder.account_id.in_(account_ids),
                                                             Reminder.status == "open")
            .group_by(Reminder.account_id))
    return {a: int(n) for a, n in session.execute(stmt)}


def packet_states(session: Session, account_ids: Sequence[int]) -> dict[int, Row]:
    """(account_id, state, completeness) of each account's latest packet."""
    if not account_ids:
        return {}
    stmt = (select(HandoffPacket.account_id, HandoffPacket.state, HandoffPacket.completeness)
            .where(HandoffPacket.account_id.in_(account_ids)).order_by(HandoffPacket.id))
    return {p.account_id: p for p in session.execute(stmt)}


def journeys(session: Session, account_ids: Sequence[int]) -> dict[int, tuple[Journey, Deal]]:
    """The latest journey of each account, with its deal."""
    if not account_ids:
        return {}
    stmt = (select(Journey, Deal).join(Deal, Deal.id == Journey.deal_id)
            .where(Journey.account_id.in_(account_ids)).order_by(Journey.id))
    return {j.account_id: (j, d) for j, d in session.execute(stmt)}


def in_book(column, member: TeamMember):  # type: ignore[no-untyped-def]
    """`column IN (the member's accounts)`, or nothing to check for those who see every account."""
    if sees_every_account(member):
        return column.is_not(None)
    return column.in_(book_ids(member).scalar_subquery())


# ------------------------------------------------------------------------------------- summary cards
def book_summary(session: Session, member: TeamMember, today: date) -> dict[str, int]:
    """Counts over the whole visible book, for the cards above the table."""
    overdue = session.scalar(_open_tasks(member).where(PlanTask.due_on < today)) or 0
    in_30 = date.fromordinal(today.toordinal() + 30)
    reviews = session.scalar(
        select(func.count()).select_from(Review)
        .where(in_book(Review.account_id, member), Review.status.in_(OPEN_REVIEW),
               Review.due_on.between(today, in_30))) or 0
    reminders = session.scalar(select(func.count()).select_from(Reminder)
                               .where(Reminder.assignee_id == member.id, Reminder.status == "open")) or 0
    return {"overdue_tasks": overdue, "reviews_30d": reviews, "my_reminders": reminders,
            "packets_to_ack": packets_waiting_for(session, member)}


def _open_tasks(member: TeamMember, stmt: Select | None = None) -> Select:
    """Open tasks of the book (counted, unless `stmt` selects something else): every one through the
    (status, due_on) index for those who see everything, else the book's journeys' tasks through the
    (journey_id, status, due_on) index (a CSM's 250 accounts, not every open task of the database)."""
    stmt = (stmt if stmt is not None else select(func.count()).select_from(PlanTask)).where(
        PlanTask.status.in_(OPEN_TASK))
    if sees_every_account(member):
        return stmt
    return stmt.where(PlanTask.journey_id.in_(select(Journey.id).where(in_book(Journey.account_id, member))))


def packets_waiting_for(session: Session, member: TeamMember) -> int:
    """Packets of the member's accounts, complete, that they have not answered in their current version."""
    if reach(member.role, Action.acknowledge_packet) is not Reach.owned:
        return 0
    answered = (select(PacketAcknowledgement.id)
                .where(PacketAcknowledgement.packet_id == HandoffPacket.id,
                       PacketAcknowledgement.version == HandoffPacket.version,
                       PacketAcknowledgement.member_id == member.id).exists())
    stmt = (select(func.count()).select_from(HandoffPacket).join(Account, Account.id == HandoffPacket.account_id)
            .where(or_(Account.csm_id == member.id, Account.am_id == member.id),
                   HandoffPacket.state.in_(("awaiting_ack", "returned")), ~answered))
    return session.scalar(stmt) or 0


def packets_to_complete(session: Session, member: TeamMember, *, limit: int = 20) -> Sequence[Row]:
    """(account_id, name, completeness, state) of the draft or returned packets of the deals the member sold
    as AE: the packets they must complete before the CSM and AM can accept them."""
    if reach(member.role, Action.edit_packet) is not Reach.sold:
        return []
    stmt = (select(Account.id.label("account_id"), Account.name, HandoffPacket.completeness, HandoffPacket.state)
            .join(HandoffPacket, HandoffPacket.account_id == Account.id)
            .join(Deal, Deal.account_id == Account.id)
            .where(Deal.ae_id == member.id, HandoffPacket.state.in_(("draft", "returned")))
            .distinct().order_by(HandoffPacket.completeness, Account.name).limit(limit))
    return session.execute(stmt).all()


def book_ids(member: TeamMember) -> Select:
    return visible_to(select(Account.id), member)
