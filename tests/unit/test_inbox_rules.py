"""The idempotency key of a batch submitted to the Prefect server."""
from __future__ import annotations

from datetime import UTC, datetime

from journey.inbox.domain import submission_key

T = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)


def test_the_same_claim_gives_the_same_key_whatever_the_order() -> None:
    assert submission_key([(3, 1, None), (1, 1, T)]) == submission_key([(1, 1, T), (3, 1, None)])


def test_a_new_claim_of_an_event_gives_a_new_key() -> None:
    first = submission_key([(1, 1, None), (2, 1, None)])
    assert submission_key([(1, 2, None), (2, 1, None)]) != first  # its lease expired: claimed again
    assert submission_key([(1, 1, T), (2, 1, None)]) != first  # it waited for its deal.signed, or was replayed
    assert submission_key([(1, 1, None)]) != first  # another batch


def test_the_key_names_its_first_event_and_size_and_stays_short() -> None:
    key = submission_key([(i, 1, T) for i in range(100, 150)])
    assert key.startswith("inbox:100+50:") and len(key) < 80
