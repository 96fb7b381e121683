"""Entry point: evaluate the AM's expansion rules for every account with an AM, batch by batch (nightly:
the safety net of evaluate-on-change for the rules time alone moves, a review coming up, a renewal window)."""
from __future__ import annotations

from journey.expansion import repository, service
from journey.job_context import JobContext

BATCH = 2000


def evaluate_expansion_rules(ctx: JobContext, *, batch_size: int = BATCH) -> dict[str, int]:
    after, accounts, raised = 0, 0, 0
    while True:
        with ctx.transaction() as session:
            ids = repository.account_ids_with_am(session, after, batch_size)
            if not ids:
                break
            raised += service.evaluate_rules(session, account_ids=ids, now=ctx.now)
        after = ids[-1]
        accounts += len(ids)
        ctx.advance(len(ids))
    return {"accounts": accounts, "reminders": raised}
