"""What every job is given: the time it runs for, who acts (the scheduler or `journey jobs run`), whether
it is a dry run, and where to report progress.

A job opens its transactions with `ctx.transaction()`, never `db.transaction()`: live, each is a real
transaction committed at the end of its block (one per batch, as before); in a dry run they are all the
same session, flushed (so the job's own claims and counts move on batch after batch) and rolled back
when the job ends. Nothing leaves a job but through the database (notifications are outbox rows), so a
rolled-back dry run has done nothing; the few jobs that reach outside (the outbox drain, the inbox
submitter) check `ctx.dry_run` and only count what they would do.
"""
from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.orm import Session

from journey import db
from journey.audit import Actor


@dataclass
class JobContext:
    now: datetime
    actor: Actor
    dry_run: bool = False
    debounce: bool = True  # the evaluate-on-change sweep waits for a burst to end (the scheduler's runs)
    wake: Callable[[], None] | None = None  # the embedded server's runner, for the inbox sweep
    on_total: Callable[[int], None] | None = None
    on_advance: Callable[[int], None] | None = None
    _dry_session: Session | None = field(default=None, repr=False)

    @contextmanager
    def transaction(self, *, writer: bool = True) -> Iterator[Session]:
        """`writer=False`: only reads (on SQLite, no write lock taken)."""
        if self._dry_session is None:
            with db.transaction(writer=writer) as session:
                yield session
            return
        yield self._dry_session
        self._dry_session.flush()

    def total(self, n: int) -> None:
        if self.on_total is not None:
            self.on_total(n)

    def advance(self, n: int = 1) -> None:
        if self.on_advance is not None:
            self.on_advance(n)


@contextmanager
def dry_run_session() -> Iterator[Session]:
    """The one session of a dry run: everything the job wrote is rolled back when it ends."""
    with db.transaction() as session:
        try:
            yield session
        finally:
            session.rollback()
