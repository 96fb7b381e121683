"""Entry points of the inbox jobs: wake the embedded runner for due events, or (server mode) submit them
to the Prefect server. Either way the events are leased by single-statement claims: never run twice."""
from __future__ import annotations

from collections.abc import Callable

from journey.config import Settings, get_settings
from journey.inbox import repository
from journey.job_context import JobContext


def sweep_inbox(ctx: JobContext) -> dict[str, int]:
    """Due inbox events (new, retries whose backoff ended, expired leases): wake the runner for them."""
    with ctx.transaction(writer=False) as session:
        due = repository.count_due(session, now=ctx.now)
    if due and ctx.wake is not None and not ctx.dry_run:
        ctx.wake()
    return {"due": due}


def submit_due_inbox(ctx: JobContext, *, submit: Callable[[Settings], int]) -> dict[str, int]:
    """Server mode: submit every due inbox event to the Prefect server, batch by batch, like the API
    processes' submitters (whose claims this one can never duplicate); catches retries when no API
    process polls (all run with JOURNEY_RUNNER=0, or none is up). A dry run counts them. `submit` is the
    runner's (flows/runner.py: submit_due), handed over by the scheduler that registers the job."""
    settings = get_settings()
    if ctx.dry_run:
        with ctx.transaction() as session:
            return {"due": repository.count_due(session, now=ctx.now)}
    submitted = 0
    while (batch := submit(settings)) > 0:
        submitted += batch
        ctx.advance(batch)
        if batch < settings.runner_batch_size:
            break
    return {"submitted": submitted}
