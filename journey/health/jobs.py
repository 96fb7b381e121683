"""Entry points that own their transactions (scheduler jobs, CLI): one transaction per batch of accounts,
so a 100k-account recompute never holds the write lock for long and a crash loses one batch at most."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from journey import db
from journey.audit import Actor
from journey.models import ActorKind

BATCH = 2000
SCHEDULER = Actor(ActorKind.scheduler, "health.recompute")


def recompute_all_health(now: datetime, *, batch_size: int = BATCH, actor: Actor = SCHEDULER,
                         progress: Any = None) -> dict[str, int]:
    """Rescore every account (nightly job, `journey health recompute`); counts of accounts and band changes."""
    from journey.health import repository, service

    cards = service.all_scorecards()
    after, accounts, changed = 0, 0, 0
    while True:
        with db.transaction() as session:
            ids = repository.account_ids_after(session, after, batch_size)
            if not ids:
                break
            changes = service.recompute(session, account_ids=ids, now=now, actor=actor, cards=cards)
        after = ids[-1]
        accounts += len(ids)
        changed += sum(1 for c in changes if c.old_band is not None and c.old_band != c.new.band)
        if progress is not None:
            progress(len(ids))
    return {"accounts": accounts, "band_changes": changed}
