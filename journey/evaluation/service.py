"""Evaluate accounts whose inputs moved: rescore them, then their risk alerts (changes and states) and
the AM's expansion rules, in one pass in the caller's transaction (flush, never commit).

Writers only mark the accounts they touch (`repository.mark`, in their own transaction); who evaluates
and when is the caller's choice: a request evaluating its few accounts before it answers, the sweep
job (`journey.evaluation.jobs`), an import at its end. Reminders carry their cool-downs and dedupe keys,
so evaluating an account again never sends a reminder again.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from journey.audit import Actor
from journey.evaluation import repository
from journey.expansion import service as expansion_service
from journey.health import service as health_service


@dataclass(frozen=True)
class Evaluated:
    accounts: int = 0
    band_changes: int = 0
    expansion_reminders: int = 0

    def __add__(self, other: Evaluated) -> Evaluated:
        return Evaluated(self.accounts + other.accounts, self.band_changes + other.band_changes,
                         self.expansion_reminders + other.expansion_reminders)


def rules_in_force() -> None:
    """Load (and cache) what evaluating reads from files: the scorecards and the reminder rules."""
    health_service.all_scorecards()
    expansion_service.reminder_rules()


def evaluate(session: Session, *, account_ids: Sequence[int], now: datetime, actor: Actor) -> Evaluated:
    """Rescore (risk alerts for changes and for states that last) and evaluate the expansion rules."""
    if not account_ids:
        return Evaluated()
    changes = health_service.recompute(session, account_ids=account_ids, now=now, actor=actor)
    raised = expansion_service.evaluate_rules(session, account_ids=account_ids, now=now)
    band_changes = sum(1 for c in changes if c.old_band is not None and c.old_band != c.new.band)
    return Evaluated(len(account_ids), band_changes, raised)


def evaluate_marked(session: Session, *, account_ids: Sequence[int], now: datetime, actor: Actor) -> Evaluated:
    """Evaluate those of `account_ids` still on the work list, taking them off it (a concurrent sweep
    that took one first has it; it is not evaluated twice)."""
    claimed = []
    for start in range(0, len(account_ids), 500):
        claimed += repository.claim(session, quiet_since=now, waiting_since=now, limit=500,
                                    account_ids=account_ids[start:start + 500])
    return evaluate(session, account_ids=claimed, now=now, actor=actor)
