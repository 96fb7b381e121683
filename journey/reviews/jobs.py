"""Entry points of the review jobs: claim and send due reminders, mark past reviews missed; one
transaction per batch until a batch comes back short."""
from __future__ import annotations

from journey.job_context import JobContext
from journey.reviews import reminders


def send_review_reminders(ctx: JobContext) -> dict[str, int]:
    """Claim and send every due review reminder, one transaction per batch of 500."""
    sent = 0
    while True:
        with ctx.transaction() as session:
            sweep = reminders.send_due_reminders(session, now=ctx.now)
        sent += sweep.sent
        ctx.advance(sweep.claimed)
        if sweep.claimed < reminders.BATCH:
            return {"sent": sent}


def mark_missed_reviews(ctx: JobContext) -> dict[str, int]:
    missed = 0
    while True:
        with ctx.transaction() as session:
            batch = reminders.mark_missed_reviews(session, now=ctx.now)
        missed += len(batch)
        ctx.advance(len(batch))
        if len(batch) < reminders.BATCH:
            return {"missed": missed}
