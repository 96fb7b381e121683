"""Scheduler entry point: evaluate the AM's expansion rules for every account with an AM, batch by batch."""
from __future__ import annotations

from datetime import datetime

from journey import db

BATCH = 2000


def evaluate_expansion_rules(now: datetime, *, batch_size: int = BATCH) -> dict[str, int]:
    from journey.expansion import repository, service

    after, accounts, raised = 0, 0, 0
    while True:
        with db.transaction() as session:
            ids = repository.account_ids_with_am(session, after, batch_size)
            if not ids:
                break
            raised += service.evaluate_rules(session, account_ids=ids, now=now)
        after = ids[-1]
        accounts += len(ids)
    return {"accounts": accounts, "reminders": raised}
