"""The recompute's SQL reduction (latest row per account and metric by index seek, window aggregates only for
the metrics a factor averages) gives what the pure function gives on every raw signal, on SQLite and
PostgreSQL: ties on `at` (the last stored wins), signals after `now`, beyond the horizon, a stale `meeting`
or `seats` denominator, metrics no card reads."""
from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from journey.audit import Actor
from journey.health import domain, service
from journey.health.explanation import explain
from journey.health.scorecards import scorecard_for
from journey.models import Account, Signal

NOW = datetime(2027, 3, 1, 12, tzinfo=UTC)
ACTOR = Actor.flow("test")
METRICS = ["active_users", "seats", "logins_7d", "feature_adoption", "support_tickets_open", "escalation_open",
           "nps", "nps_response", "csat", "csm_sentiment", "meeting", "invoice_overdue_days", "not_in_any_card"]
AGES = [-2, 0, 0.25, 1, 6.9, 7, 29.5, 30, 31, 59, 61, 89, 91, 179, 181, 364, 366, 500]  # days before NOW


def _signals(rng: random.Random, account_id: int, n: int) -> list[service.SignalIn]:
    items: list[service.SignalIn] = []
    for i in range(n):
        metric = rng.choice(METRICS)
        at = NOW - timedelta(days=rng.choice(AGES), hours=rng.choice([0, 0, 3]))
        value = float(rng.choice([0, 0.4, 1, 3, 7, 10, 50, 120, -20]))
        items.append(service.SignalIn(f"r-{account_id}-{i}", str(account_id), metric, value, at))
        if rng.random() < 0.25:  # the same metric at the same instant, another value: a tie on `at`
            items.append(service.SignalIn(f"r-{account_id}-{i}-tie", str(account_id), metric, value + 1, at))
    return items


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_batch_scores_equal_the_pure_function_on_the_raw_signals(session, seed: int) -> None:
    rng = random.Random(seed)
    accounts = [Account(crm_source="rand", crm_external_id=f"{seed}-{n}", name=f"R{n}", timezone="UTC",
                        segment=rng.choice(["smb", "mid_market", "enterprise", None])) for n in range(12)]
    session.add_all(accounts)
    session.flush()
    items = [s for a in accounts for s in _signals(rng, a.id, rng.choice([0, 3, 15, 40]))]
    service.record_signals(session, items=items, source="test", now=NOW, actor=ACTOR, rescore=False)
    cards = service.all_scorecards()

    got = service.score_batch(session, account_ids=[a.id for a in accounts], now=NOW, cards=cards)

    for a in accounts:
        rows = session.execute(select(Signal.metric, Signal.value, Signal.at).where(Signal.account_id == a.id)
                               .order_by(Signal.id.desc())).all()  # the pure `max` keeps the first of a tie
        points = [domain.SignalPoint(m, v, at if at.tzinfo else at.replace(tzinfo=UTC)) for m, v, at in rows]
        card = scorecard_for(cards, segment=a.segment, stage="adopted")
        expected = domain.score(points, card, NOW)
        # the live rule also drops a metric older than the longest window (a days-since-last one is stale instead),
        # which names the same missing factors and, for the explanation, the same missing metrics
        live = domain.score_summaries(domain.summarise(
            points, windows=card.windows, now=NOW, horizon_days=max(w for c in cards for w in c.windows),
            stale_metrics={f.metric for c in cards for f in c.factors if f.aggregate == "days_since_last"}), card, NOW)
        stage, result = got[a.id]
        assert stage == "adopted"
        assert (result.scorecard, result.band, result.missing) == (expected.scorecard, expected.band, expected.missing)
        assert result.score == pytest.approx(expected.score, abs=1e-9)
        assert [(c.factor, c.value, c.weight) for c in result.contributions] == [
            (c.factor, None if c.value is None else pytest.approx(c.value, abs=1e-9), pytest.approx(c.weight))
            for c in expected.contributions]
        assert explain(result) == explain(live)


def test_the_latest_of_a_tie_is_the_last_stored(session) -> None:
    acc = Account(crm_source="rand", crm_external_id="tie", name="Tie", timezone="UTC", segment="smb")
    session.add(acc)
    session.flush()
    at = NOW - timedelta(days=2)
    items = [service.SignalIn(f"t-{n}", str(acc.id), "active_users", v, at) for n, v in enumerate([90, 10, 50])]
    items.append(service.SignalIn("t-seats", str(acc.id), "seats", 100, at))
    service.record_signals(session, items=items, source="test", now=NOW, actor=ACTOR, rescore=False)

    _, result = service.score_batch(session, account_ids=[acc.id], now=NOW, cards=service.all_scorecards())[acc.id]

    seat = next(c for c in result.contributions if c.factor == "seat_utilisation")
    assert seat.value == pytest.approx(0.5)  # 50 of 100 seats: the third signal at that instant
