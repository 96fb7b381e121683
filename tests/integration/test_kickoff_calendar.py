"""Through the webhook: a mid_market deal signed on the Friday before Bastille Day gets a French kickoff
that skips the holiday; the same deal for a US account is planned a day earlier."""
from __future__ import annotations

import pytest

from tests.builders import deal_signed, drain, post_event

pytestmark = pytest.mark.usefixtures("db_url")
FRIDAY = {"signed_at": "2026-07-10T15:00:00Z", "expected_go_live": None}


def _plan(client, admin, account_id):  # type: ignore[no-untyped-def]
    return client.get(f"/api/accounts/crm:events:{account_id}/plan", headers=admin).json()


def test_kickoff_follows_the_account_calendar(client, admin) -> None:
    post_event(client, deal_signed("D-FR", "C-FR", deal=FRIDAY))
    post_event(client, deal_signed("D-US", "C-US", deal=FRIDAY,
                                   account={"region": "US", "timezone": "America/New_York"}))
    assert drain() == ["processed", "processed"]
    fr, us = _plan(client, admin, "C-FR"), _plan(client, admin, "C-US")
    assert (fr["kickoff_on"], us["kickoff_on"]) == ("2026-07-22", "2026-07-21")
    fr_dues = {t["key"]: t["due_on"] for m in fr["milestones"] for t in m["tasks"]}
    us_dues = {t["key"]: t["due_on"] for m in us["milestones"] for t in m["tasks"]}
    assert fr_dues["internal_handoff"] == "2026-07-15" and us_dues["internal_handoff"] == "2026-07-14"
    assert "2026-07-14" not in fr_dues.values()  # nobody in France works on 14 July
