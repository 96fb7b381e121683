"""The evaluate-on-change sweep: take the accounts whose inputs moved off the work list and evaluate
them in batches (the claim and the evaluation commit together; a crash puts them back). On SQLite a write
transaction holds the database's one write lock, and webhooks wait for it: 500 accounts held it for
seconds under a burst of signed deals; 50 hold it for a few tens of milliseconds. So while marks keep
coming, 50 accounts per transaction (BUSY_BATCH); once the burst is over (nothing marked for the settle
time), 250 (SETTLED_BATCH): each batch pays some thirty set-based reads whatever its size, and nobody is
writing then.

Scheduled every JOURNEY_EVALUATE_INTERVAL_SECONDS (0.25 s), and run sooner when told: a queued signals
batch asks the scheduler to run it once the burst has gone quiet, each batch moving that run
(`SchedulerService.evaluate_soon`). How quiet is quiet follows the burst's own rhythm (`Rhythm`): from its
third batch, twice the longest gap between its last five, at least 0.03 s and at most
JOURNEY_EVALUATE_SETTLE_SECONDS (0.1 s). Batches sent one after the other arrive as fast as the server
stores them (about 20 ms apart for 500 signals on a 2-core machine), so silence for twice that long means
the sender is done; a sender that pauses longer between batches gets the full settle time, as before.

It waits for a burst to end: every marked account is taken once nothing at all was marked for the settle
time; while the list stays busy, an account is taken once nothing moved it for
JOURNEY_EVALUATE_QUIET_SECONDS (1 s), or once it has waited JOURNEY_EVALUATE_MAX_WAIT_SECONDS (10 s) however
busy it stays. So 10,000 signals sent in batches for 1,000 accounts are about one evaluation per account,
not one per batch, and evaluating starts a few hundredths of a second after the burst. A run that starts
too early (a batch later than twice the rhythm) evaluates at most one batch before the next marks make the
list busy again: work done twice, never a change missed. Run by hand (`journey jobs run
evaluate_changed_accounts`) it takes everything pending at once.
"""
from __future__ import annotations

import threading
from collections import deque
from collections.abc import Sequence
from datetime import timedelta

from journey.audit import Actor
from journey.config import get_settings
from journey.evaluation import repository, service
from journey.job_context import JobContext, dry_run_session
from journey.kit import utcnow
from journey.models import ActorKind

EVALUATE_JOB = "evaluate_changed_accounts"
BUSY_BATCH = 50
SETTLED_BATCH = 250
SHORTEST_SETTLE = 0.03  # seconds: concurrent senders' batches land a few milliseconds apart
RHYTHM_GAPS = 4  # a burst's rhythm: the longest of the gaps between its last five batches


def settle_after(gaps: Sequence[float], longest: float) -> float:
    """Seconds of silence after which a burst of marks is over: twice the longest of its recent `gaps` between
    batches, within [SHORTEST_SETTLE, longest]. A rhythm needs two gaps (three batches): before that, `longest`."""
    if len(gaps) < 2:
        return longest
    return min(longest, max(SHORTEST_SETTLE, 2 * max(gaps)))


class Rhythm:
    """The rhythm of the marks a scheduler is told of (`SchedulerService.evaluate_soon`): the gaps between the last
    batches, from which `settle_after` says how long the burst must be silent to be over. The scheduler's sweep
    reads the same settle time, so the run it moved finds the list settled. Thread-safe: requests mark while the
    sweep runs."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._last: float | None = None
        self._gaps: deque[float] = deque(maxlen=RHYTHM_GAPS)

    def marked(self, at: float, *, longest: float) -> float:
        """A batch was marked at `at` (monotonic seconds): the settle time from now on."""
        with self._lock:
            if self._last is not None:
                self._gaps.append(at - self._last)
            self._last = at
            return settle_after(self._gaps, longest)

    def settle(self, *, longest: float) -> float:
        """The settle time in force: from the last batches' gaps, `longest` while fewer than three were marked."""
        with self._lock:
            return settle_after(self._gaps, longest)


WARM_UP = Actor(ActorKind.scheduler, "evaluate_changed_accounts warm-up")


def evaluate_changed_accounts(ctx: JobContext, *, rhythm: Rhythm | None = None) -> dict[str, int]:
    """The sweep; with `rhythm` (the scheduler's), settled after the burst's own rhythm, else after
    JOURNEY_EVALUATE_SETTLE_SECONDS."""
    settings = get_settings()
    quiet = timedelta(seconds=settings.evaluate_quiet_seconds if ctx.debounce else 0)
    longest = timedelta(seconds=settings.evaluate_max_wait_seconds if ctx.debounce else 0)
    settle_seconds = settings.evaluate_settle_seconds
    if rhythm is not None:
        settle_seconds = rhythm.settle(longest=settle_seconds)
    settle = timedelta(seconds=settle_seconds if ctx.debounce else 0)
    total = service.Evaluated()
    window = {"quiet_since": ctx.now - quiet, "waiting_since": ctx.now - longest, "settled_since": ctx.now - settle}
    with ctx.transaction(writer=False) as session:
        due = repository.any_due(session, **window)
        batch = SETTLED_BATCH if due and repository.settled(session, since=window["settled_since"]) else BUSY_BATCH
    while due:
        with ctx.transaction() as session:
            ids = repository.claim(session, limit=batch, **window)
            done = service.evaluate(session, account_ids=ids, now=ctx.now, actor=ctx.actor)
        total += done
        ctx.advance(len(ids))
        due = len(ids) == batch
    return {"accounts": total.accounts, "band_changes": total.band_changes,
            "expansion_reminders": total.expansion_reminders}


def warm_up() -> None:
    """At the scheduler's start: read the scorecards and the reminder rules (YAML), and evaluate one account in
    a transaction rolled back, so the evaluation's thirty-odd statements are compiled before the first burst
    (the first pass after a start paid about a third more than the next). Writes nothing."""
    service.rules_in_force()
    with dry_run_session() as session:
        account_id = repository.any_account(session)
        if account_id is not None:
            service.evaluate(session, account_ids=[account_id], now=utcnow(), actor=WARM_UP)
