"""Pure rules of API tokens: when one stops working, how it is shown, how often its use is written."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from journey.team.domain import TokenState, needs_touch, shown, token_hint, token_state

NOW = datetime(2026, 12, 4, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize(("expires_in", "revoked", "state"), [
    (timedelta(seconds=1), False, TokenState.active),
    (timedelta(0), False, TokenState.expired),  # the instant it expires it no longer works
    (timedelta(days=-3), False, TokenState.expired),
    (timedelta(days=30), True, TokenState.revoked),
    (timedelta(days=-3), True, TokenState.revoked),  # the operator's decision is what we report
])
def test_token_state(expires_in, revoked, state) -> None:
    assert token_state(expires_at=NOW + expires_in, revoked_at=NOW if revoked else None, now=NOW) == state


def test_a_token_is_shown_by_its_last_characters_only() -> None:
    token = "jt_" + "A" * 39 + "wxyz"
    assert token_hint(token) == "wxyz" and shown(token_hint(token)) == "jt_...wxyz"
    assert shown(None) == "jt_..."  # made before hints were kept


@pytest.mark.parametrize(("last_used", "touch"), [
    (None, True), (NOW - timedelta(minutes=59), False), (NOW - timedelta(hours=1), True),
])
def test_last_use_is_written_at_most_hourly(last_used, touch) -> None:
    assert needs_touch(last_used, NOW) is touch
