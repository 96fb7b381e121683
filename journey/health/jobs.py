"""Entry points that own their transactions (scheduler jobs, CLI): one transaction per batch of accounts,
so a 100k-account recompute never holds the write lock for long and a crash loses one batch at most.

On PostgreSQL two batches are in flight at once, each in its own transaction on its own connection: while
one thread waits for the server (about 40 % of a batch's time), the other scores in Python, so the
recompute uses both the database's core and ours. Batches are disjoint sets of accounts and write only
their own rows (scores, history, reminders by dedupe key), so they never wait for each other's locks.
SQLite allows one writer: there, and in a dry run (one shared session), batches run one after the other."""
from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TypeVar

from journey.health import repository, service
from journey.health.scorecards import Scorecard
from journey.job_context import JobContext

BATCH = 2000
IN_FLIGHT = 2  # batches at once on PostgreSQL: one scoring while the other waits on the server
T = TypeVar("T")


def recompute_all_health(ctx: JobContext, *, batch_size: int = BATCH) -> dict[str, int]:
    """Rescore every account and raise its risk alerts (nightly: the safety net of evaluate-on-change for
    what time alone moves: overdue tasks, stale data, red for a week); counts of accounts and band changes."""
    cards = service.all_scorecards()
    with ctx.transaction(writer=False) as session:
        ctx.total(repository.count_accounts(session))
        concurrent = session.get_bind().dialect.name == "postgresql" and not ctx.dry_run
    batches = _id_batches(ctx, batch_size)
    if concurrent:
        done = list(_in_flight(batches, lambda ids: _rescore(ctx, ids, cards), IN_FLIGHT))
    else:
        done = [_rescore(ctx, ids, cards) for ids in batches]
    return {"accounts": sum(n for n, _ in done), "band_changes": sum(c for _, c in done)}


def _in_flight(batches: Iterable[list[int]], work: Callable[[list[int]], T], n: int) -> Iterator[T]:
    """`work` of each batch, in order, with at most `n` batches submitted at once: a batch that fails stops the
    job after the ones already running (as one at a time would), not after every batch of the night."""
    with ThreadPoolExecutor(n, thread_name_prefix="recompute") as pool:
        running: deque[Future[T]] = deque()
        for ids in batches:
            running.append(pool.submit(work, ids))
            if len(running) == n:
                yield running.popleft().result()
        while running:
            yield running.popleft().result()


def _id_batches(ctx: JobContext, batch_size: int) -> Iterator[list[int]]:
    """The account ids in order, `batch_size` at a time, each page read when it is needed."""
    after = 0
    while True:
        with ctx.transaction(writer=False) as session:
            ids = repository.account_ids_after(session, after, batch_size)
        if not ids:
            return
        yield ids
        after = ids[-1]


def _rescore(ctx: JobContext, ids: Sequence[int], cards: Sequence[Scorecard]) -> tuple[int, int]:
    """One batch in one transaction: (accounts, band changes)."""
    with ctx.transaction() as session:
        changes = service.recompute(session, account_ids=ids, now=ctx.now, actor=ctx.actor, cards=cards)
    ctx.advance(len(ids))
    return len(ids), sum(1 for c in changes if c.old_band is not None and c.old_band != c.new.band)
