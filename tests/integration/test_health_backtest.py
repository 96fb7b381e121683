"""The back-test scores an account as the live recompute would have on that day: same card, same rule."""
from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from journey.health import domain, service
from journey.health.backtest import Outcome
from journey.models import Account, Deal, Journey, Signal

OUTCOME_ON = date(2027, 1, 31)
AT = datetime(2027, 2, 1, tzinfo=UTC)  # the end of the outcome date
THEN = AT - timedelta(days=90)


def account(session, name: str, segment: str | None) -> Account:
    a = Account(crm_source="events", crm_external_id=name, name=name, segment=segment, timezone="UTC")
    session.add(a)
    session.flush()
    return a


def signal(session, acc: Account, metric: str, value: float, at: datetime) -> None:
    session.add(Signal(external_id=f"{acc.id}-{metric}-{at.isoformat()}", account_id=acc.id, metric=metric,
                       value=value, at=at, source="test", received_at=at))


def test_an_old_meeting_is_stale_then_not_missing_as_in_the_live_recompute(session) -> None:
    acc = account(session, "Big", "enterprise")
    signal(session, acc, "meeting", 1, THEN - timedelta(days=400))  # older than the longest window before THEN
    for at in (THEN - timedelta(days=2), AT - timedelta(days=2)):
        for metric, value in (("active_users", 90), ("seats", 100), ("nps", 40)):
            signal(session, acc, metric, value, at)
    session.flush()
    [scored] = service.backtest(session, outcomes=[Outcome(2, str(acc.id), OUTCOME_ON, "renewed")])
    for at, score in ((AT, scored.score), (THEN, scored.score_before)):
        _, live = service.score_batch(session, account_ids=[acc.id], now=at, cards=service.all_scorecards())[acc.id]
        assert live.scorecard == "enterprise_adopted" and "last_meeting" not in live.missing
        assert score == pytest.approx(live.score)
    meeting = {c.factor: c for c in service.score_batch(session, account_ids=[acc.id], now=THEN,
                                                         cards=service.all_scorecards())[acc.id][1].contributions}
    assert meeting["last_meeting"].factor_score == 0  # 400 days since the last meeting: it costs its weight


def test_the_card_is_the_one_of_the_stage_the_account_was_in_that_day(session) -> None:
    acc = account(session, "New", None)
    deal = Deal(account_id=acc.id, crm_source="events", crm_external_id="D1", name="D1")
    session.add(deal)
    session.flush()
    session.add(Journey(deal_id=deal.id, account_id=acc.id, playbook="default", playbook_version=1,
                        signed_on=OUTCOME_ON - timedelta(days=60)))
    for metric, value in (("active_users", 40), ("seats", 100), ("csm_sentiment", 2)):
        signal(session, acc, metric, value, AT - timedelta(days=3))
    session.flush()
    [scored] = service.backtest(session, outcomes=[Outcome(2, str(acc.id), OUTCOME_ON, "churned")])
    _, live = service.score_batch(session, account_ids=[acc.id], now=AT, cards=service.all_scorecards())[acc.id]
    assert live.scorecard == "default_onboarding"
    assert scored.score == pytest.approx(live.score)
    adopted = next(c for c in service.all_scorecards() if c.name == "default_adopted")
    points = service.repository.signal_points(session, [acc.id], since=THEN, until=AT)[acc.id]
    assert domain.score(points, adopted, AT).score != pytest.approx(scored.score)  # the old rule's card
