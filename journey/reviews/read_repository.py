"""The reviews as the pages list them: the next or latest reviews of a member's book."""
from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from journey.accounts.read_repository import OPEN_REVIEW, in_book
from journey.models import Account, Review, TeamMember


def reviews_in_book(session: Session, member: TeamMember, *, upcoming: bool, limit: int = 100
                    ) -> Sequence[tuple[Review, Account]]:
    """The next (or latest) reviews of the book. One query per status, each an ordered walk of the
    (status, due_on) index that stops at `limit`, merged here: no sort of every open review."""
    statuses = OPEN_REVIEW if upcoming else ("held", "cancelled")
    found: list[tuple[Review, Account]] = []
    for status in statuses:
        stmt = (select(Review, Account).join(Account, Account.id == Review.account_id)
                .where(Review.status == status, in_book(Review.account_id, member))
                .order_by(Review.due_on if upcoming else Review.due_on.desc()).limit(limit))
        found += [(r, a) for r, a in session.execute(stmt)]
    found.sort(key=lambda ra: (ra[0].due_on, ra[0].id), reverse=not upcoming)
    return found[:limit]
