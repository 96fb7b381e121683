"""Entry points that own their transactions (scheduler jobs, CLI): one transaction per batch of accounts,
so a 100k-account recompute never holds the write lock for long and a crash loses one batch at most."""
from __future__ import annotations

from journey.health import repository, service
from journey.job_context import JobContext

BATCH = 2000


def recompute_all_health(ctx: JobContext, *, batch_size: int = BATCH) -> dict[str, int]:
    """Rescore every account and raise its risk alerts (nightly: the safety net of evaluate-on-change for
    what time alone moves: overdue tasks, stale data, red for a week); counts of accounts and band changes."""
    cards = service.all_scorecards()
    with ctx.transaction(writer=False) as session:
        ctx.total(repository.count_accounts(session))
    after, accounts, changed = 0, 0, 0
    while True:
        with ctx.transaction() as session:
            ids = repository.account_ids_after(session, after, batch_size)
            if not ids:
                break
            changes = service.recompute(session, account_ids=ids, now=ctx.now, actor=ctx.actor, cards=cards)
        after = ids[-1]
        accounts += len(ids)
        changed += sum(1 for c in changes if c.old_band is not None and c.old_band != c.new.band)
        ctx.advance(len(ids))
    return {"accounts": accounts, "band_changes": changed}
