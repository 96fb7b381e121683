"""Every query of the digests. A person's accounts are those they own as CSM or AM; a task is theirs when
it is assigned to them, or, unassigned, when its RACI `responsible` role is theirs on the account."""
from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, case, func, or_, select, union
from sqlalchemy.orm import Session

from journey.models import (
    Account,
    HealthScore,
    Journey,
    JourneyStatus,
    PlanTask,
    Reminder,
    Review,
    Role,
    TaskStatus,
    TeamMember,
)

OPEN_TASK = (TaskStatus.todo, TaskStatus.in_progress)
UPCOMING_REVIEW = ("proposed", "scheduled")


def digest_members(session: Session) -> Sequence[TeamMember]:
    """Active members who own at least one account as CSM or AM."""
    owns = select(Account.id).where(or_(Account.csm_id == TeamMember.id, Account.am_id == TeamMember.id)).exists()
    return session.scalars(select(TeamMember).where(TeamMember.active.is_(True), owns).order_by(TeamMember.id)).all()


def managers(session: Session) -> Sequence[TeamMember]:
    stmt = select(TeamMember).where(TeamMember.active.is_(True), TeamMember.role == Role.manager)
    return session.scalars(stmt.order_by(TeamMember.id)).all()


def book_with_health(session: Session, member_id: int) -> list[Any]:
    stmt = (select(Account.id, Account.name, HealthScore.score, HealthScore.band, HealthScore.previous_band,
                   HealthScore.band_changed_at)
            .outerjoin(HealthScore, HealthScore.account_id == Account.id)
            .where(or_(Account.csm_id == member_id, Account.am_id == member_id)).order_by(Account.name))
    return list(session.execute(stmt))


def open_reminders_due(session: Session, member_id: int, *, until: datetime) -> Sequence[Reminder]:
    stmt = (select(Reminder).where(Reminder.assignee_id == member_id, Reminder.status == "open",
                                   Reminder.due_at <= until).order_by(Reminder.due_at).limit(50))
    return session.scalars(stmt).all()


def _task_owner() -> ColumnElement[Any]:
    responsible = PlanTask.raci["responsible"].as_string()
    return func.coalesce(PlanTask.assignee_id, case((responsible == "csm", Account.csm_id),
                                                    (responsible == "am", Account.am_id), else_=None))


def _overdue(today: date, *columns: Any) -> Select[Any]:
    return (select(*columns).join(Journey, Journey.id == PlanTask.journey_id)
            .join(Account, Account.id == Journey.account_id)
            .where(PlanTask.status.in_(OPEN_TASK), PlanTask.due_on < today, Journey.status == JourneyStatus.active))


def overdue_tasks(session: Session, member_id: int, *, today: date, limit: int = 50) -> list[Any]:
    """The member's open tasks past their due date, oldest first: (title, due_on, account_id, account_name)."""
    stmt = (_overdue(today, PlanTask.title, PlanTask.due_on, Account.id.label("account_id"),
                     Account.name.label("account_name"))
            .where(or_(PlanTask.assignee_id == member_id, Account.csm_id == member_id, Account.am_id == member_id),
                   _task_owner() == member_id)
            .order_by(PlanTask.due_on, PlanTask.id).limit(limit))
    return list(session.execute(stmt))


def overdue_counts(session: Session, *, today: date) -> dict[int, int]:
    owner = _task_owner().label("owner")
    stmt = _overdue(today, owner, func.count()).group_by(owner)
    return {o: int(n) for o, n in session.execute(stmt) if o is not None}


def _owned() -> Any:
    """(person, account_id) of every account with its CSM and its AM (once for a person who is both)."""
    return union(*(select(owner.label("person"), Account.id.label("account_id")).where(owner.is_not(None))
                   for owner in (Account.csm_id, Account.am_id))).subquery()


def reviews_due(session: Session, member_id: int, *, today: date, until: date) -> list[Any]:
    """Open reviews of the member's accounts due between `today` and `until`: (title, due_on, status,
    starts_at, account_id, account_name)."""
    stmt = (select(Review.title, Review.due_on, Review.status, Review.starts_at, Account.id.label("account_id"),
                   Account.name.label("account_name"))
            .join(Account, Account.id == Review.account_id)
            .where(or_(Account.csm_id == member_id, Account.am_id == member_id),
                   Review.status.in_(UPCOMING_REVIEW), Review.due_on >= today, Review.due_on <= until)
            .order_by(Review.due_on, Review.id).limit(50))
    return list(session.execute(stmt))


def review_counts(session: Session, *, today: date, until: date) -> dict[int, int]:
    owned = _owned()
    stmt = (select(owned.c.person, func.count()).join(Review, Review.account_id == owned.c.account_id)
            .where(Review.status.in_(UPCOMING_REVIEW), Review.due_on >= today, Review.due_on <= until)
            .group_by(owned.c.person))
    return {p: int(n) for p, n in session.execute(stmt)}


def team_totals(session: Session, *, today: date, until: date) -> dict[str, int]:
    """The team's accounts by band and its reviews due, each counted once (an account has a CSM and an AM)."""
    owned = or_(Account.csm_id.is_not(None), Account.am_id.is_not(None))
    band = func.coalesce(HealthScore.band, "unknown")
    stmt = (select(band, func.count()).select_from(Account).outerjoin(HealthScore, HealthScore.account_id == Account.id)
            .where(owned).group_by(band))
    bands = {name: int(n) for name, n in session.execute(stmt)}
    reviews = session.scalar(select(func.count()).select_from(Review).join(Account, Account.id == Review.account_id)
                             .where(owned, Review.status.in_(UPCOMING_REVIEW), Review.due_on >= today,
                                    Review.due_on <= until)) or 0
    return {"accounts": sum(bands.values()), "red": bands.get("red", 0), "yellow": bands.get("yellow", 0),
            "unknown": bands.get("unknown", 0), "reviews": reviews}


def band_counts(session: Session) -> dict[int, dict[str, int]]:
    """{person: {band: accounts}}; an account never scored counts as `unknown`."""
    owned = _owned()
    band = func.coalesce(HealthScore.band, "unknown").label("band")
    stmt = (select(owned.c.person, band, func.count())
            .outerjoin(HealthScore, HealthScore.account_id == owned.c.account_id).group_by(owned.c.person, band))
    out: dict[int, dict[str, int]] = {}
    for person, name, n in session.execute(stmt):
        out.setdefault(person, {})[name] = int(n)
    return out


def open_expansion_counts(session: Session) -> dict[int, int]:
    """Open expansion reminders (rules and review outcomes) per assignee."""
    stmt = (select(Reminder.assignee_id, func.count())
            .where(Reminder.status == "open", Reminder.kind.like("expansion%")).group_by(Reminder.assignee_id))
    return {a: int(n) for a, n in session.execute(stmt)}
