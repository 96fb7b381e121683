"""Pure rules of the webhook inbox."""
from __future__ import annotations

import hashlib
from collections.abc import Iterable
from datetime import datetime


def submission_key(claims: Iterable[tuple[int, int, datetime | None]]) -> str:
    """The idempotency key of a batch submitted to the Prefect server, from its claimed events'
    (id, attempts, next_attempt_at).

    The same claim gives the same key, so a submission repeated after an error the server did not see
    (a timeout once the run was created, a release and a re-claim of the same events) returns the run
    that exists. A new claim of an event gives a new key: after its lease expired (attempts + 1), after a
    failure or a wait for its deal.signed (a new next_attempt_at), after an admin's replay (both).
    """
    marks = sorted(claims)
    text = ";".join(f"{i}.{n}.{at.isoformat() if at else '-'}" for i, n, at in marks)
    digest = hashlib.sha256(text.encode()).hexdigest()[:32]
    return f"inbox:{marks[0][0] if marks else 0}+{len(marks)}:{digest}"
