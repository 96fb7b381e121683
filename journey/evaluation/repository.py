"""Every query of the evaluate-on-change work list (`pending_evaluation`)."""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete, exists, func, or_, select
from sqlalchemy.orm import Session, aliased

from journey.db import dialect_insert
from journey.models import Account, PendingEvaluation


def mark(session: Session, account_ids: Iterable[int], *, now: datetime) -> int:
    """Put accounts on the work list (one multi-row upsert); how many were given.

    A row already there keeps its `first_marked_at` (the sweep's bound on waiting) and takes the later
    `last_marked_at`. The upsert locks the row on PostgreSQL until this transaction ends, so a sweep
    never deletes a mark whose change it cannot see yet: it skips the row and takes it next time."""
    ids = sorted(set(account_ids))  # one lock order for every writer
    if not ids:
        return 0
    stmt = dialect_insert(session.get_bind().dialect.name, PendingEvaluation)
    stmt = stmt.on_conflict_do_update(index_elements=[PendingEvaluation.account_id],
                                      set_={"last_marked_at": stmt.excluded.last_marked_at,
                                            "marks": PendingEvaluation.marks + 1})
    for start in range(0, len(ids), 1000):
        session.execute(stmt, [{"account_id": a, "first_marked_at": now, "last_marked_at": now, "marks": 1}
                               for a in ids[start:start + 1000]])
    return len(ids)


def _due(quiet_since: datetime, waiting_since: datetime, settled_since: datetime | None) -> Any:
    due = [PendingEvaluation.last_marked_at <= quiet_since, PendingEvaluation.first_marked_at <= waiting_since]
    if settled_since is not None:  # nothing at all marked since: the burst is over, every account is due
        newer = aliased(PendingEvaluation)
        due.append(~exists().where(newer.last_marked_at > settled_since))
    return or_(*due)


def any_due(session: Session, *, quiet_since: datetime, waiting_since: datetime,
            settled_since: datetime | None = None) -> bool:
    """A read before the claim: the sweep runs several times a second, and an empty list must not take
    SQLite's write lock from the requests each time."""
    stmt = select(PendingEvaluation.account_id).where(_due(quiet_since, waiting_since, settled_since)).limit(1)
    return session.scalar(stmt) is not None


def settled(session: Session, *, since: datetime) -> bool:
    """Nothing at all was marked after `since`: the burst is over."""
    return session.scalar(select(PendingEvaluation.account_id).where(PendingEvaluation.last_marked_at > since)
                          .limit(1)) is None


def claim(session: Session, *, quiet_since: datetime, waiting_since: datetime, limit: int,
          settled_since: datetime | None = None, account_ids: Sequence[int] | None = None) -> list[int]:
    """Take up to `limit` accounts off the list, in one statement: every account once nothing at all was
    marked since `settled_since` (a burst is over), else those unchanged since `quiet_since` (a busy list
    does not hold a quiet account) or waiting since `waiting_since` (a long burst does not starve them).

    The caller evaluates them in the same transaction: a rollback puts them back. PostgreSQL: `FOR
    UPDATE SKIP LOCKED`, so concurrent sweeps take disjoint sets; SQLite: `BEGIN IMMEDIATE` serialises."""
    due = (select(PendingEvaluation.account_id).where(_due(quiet_since, waiting_since, settled_since))
           .order_by(PendingEvaluation.first_marked_at, PendingEvaluation.account_id).limit(limit))
    if account_ids is not None:
        due = due.where(PendingEvaluation.account_id.in_(account_ids))
    if session.get_bind().dialect.name == "postgresql":
        due = due.with_for_update(skip_locked=True)
    stmt = (delete(PendingEvaluation).where(PendingEvaluation.account_id.in_(due.scalar_subquery()))
            .returning(PendingEvaluation.account_id).execution_options(synchronize_session=False))
    return sorted(session.scalars(stmt))


def any_account(session: Session) -> int | None:
    """One account's id (the warm-up's), or None in an empty database."""
    return session.scalar(select(Account.id).order_by(Account.id).limit(1))


def count_pending(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(PendingEvaluation)) or 0
