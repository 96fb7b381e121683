"""The reminders as the pages list them: a member's, and an account's open ones."""
from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from journey.models import Account, Reminder, TeamMember


def reminders_for(session: Session, member: TeamMember, *, status: str, limit: int = 200
                  ) -> Sequence[tuple[Reminder, Account | None]]:
    stmt = (select(Reminder, Account).outerjoin(Account, Account.id == Reminder.account_id)
            .where(Reminder.assignee_id == member.id, Reminder.status == status)
            .order_by(Reminder.due_at if status == "open" else Reminder.closed_at.desc()).limit(limit))
    return [(r, a) for r, a in session.execute(stmt)]


def reminders_of_account(session: Session, account_id: int) -> Sequence[tuple[Reminder, TeamMember]]:
    stmt = (select(Reminder, TeamMember).join(TeamMember, TeamMember.id == Reminder.assignee_id)
            .where(Reminder.account_id == account_id, Reminder.status == "open").order_by(Reminder.due_at))
    return [(r, m) for r, m in session.execute(stmt)]
