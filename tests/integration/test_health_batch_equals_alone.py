"""A batch of accounts evaluated together (rescore, history, risk alerts, expansion reminders) stores exactly
what evaluating each account alone stores: the set-based reads and writes never mix accounts up, on SQLite
and PostgreSQL. One account of each kind the rules tell apart, in one batch."""
from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from journey.evaluation import service as evaluation
from journey.models import (
    Account,
    ContactHold,
    Deal,
    HandoffPacket,
    HealthHistory,
    HealthScore,
    Journey,
    Milestone,
    Objective,
    PlanTask,
    Reminder,
    Review,
    Role,
    TaskStatus,
)
from tests.integration.test_health_recompute import ACTOR, GREEN, NOW, account, member, signals

RED = {"active_users": 8, "seats": 100, "nps": -40, "csat": 1, "csm_sentiment": 1, "support_tickets_open": 9,
       "escalation_open": 1, "logins_7d": 3, "feature_adoption": 0.05}


def _journey(session, acc: Account, *, signed_days_ago: int, seats: int | None = None) -> Journey:  # type: ignore[no-untyped-def]
    deal = Deal(account_id=acc.id, crm_source="events", crm_external_id=f"D-{acc.id}", name=f"D-{acc.id}",
                seats=seats, status="won")
    session.add(deal)
    session.flush()
    journey = Journey(deal_id=deal.id, account_id=acc.id, playbook="default", playbook_version=1,
                      signed_on=NOW.date() - timedelta(days=signed_days_ago))
    session.add(journey)
    session.flush()
    return journey


def nothing_known(session, acc: Account) -> None:  # type: ignore[no-untyped-def]
    pass


def green_with_objectives_met(session, acc: Account) -> None:  # type: ignore[no-untyped-def]
    signals(session, acc, GREEN | {"objective_progress": 1.0}, days_ago=2)


def green_yesterday_red_today(session, acc: Account) -> None:  # type: ignore[no-untyped-def]
    signals(session, acc, GREEN, days_ago=3, prefix="old")
    signals(session, acc, RED, days_ago=0.1, prefix="new")


def escalation_open_long(session, acc: Account) -> None:  # type: ignore[no-untyped-def]
    signals(session, acc, {"escalation_open": 1, "active_users": 60, "seats": 100}, days_ago=20)


def onboarding_with_late_plan(session, acc: Account) -> None:  # type: ignore[no-untyped-def]
    journey = _journey(session, acc, signed_days_ago=40)
    ms = Milestone(journey_id=journey.id, key="kickoff", name="Kickoff", position=0, due_on=NOW.date())
    session.add(ms)
    session.flush()
    due = NOW.date() - timedelta(days=9)
    for n, status in enumerate([TaskStatus.done, TaskStatus.todo, TaskStatus.todo, TaskStatus.skipped]):
        session.add(PlanTask(journey_id=journey.id, milestone_id=ms.id, key=f"t{n}", title=f"T{n}", position=n,
                             anchor="signature", offset_business_days=0, due_on=due + timedelta(days=n),
                             status=status, done_at=NOW - timedelta(days=3) if status == TaskStatus.done else None))
    session.add(HandoffPacket(journey_id=journey.id, account_id=acc.id, completeness=60))
    session.add_all([Review(journey_id=journey.id, account_id=acc.id, kind=k, title=k, anchor="signature",
                            due_on=NOW.date() - timedelta(days=d), status=s, held_at=NOW - timedelta(days=d)
                            if s == "held" else None) for k, d, s in [("a", 20, "held"), ("b", 6, "missed")]])
    signals(session, acc, {"active_users": 30}, days_ago=1)


def seats_from_the_deal_near_full(session, acc: Account) -> None:  # type: ignore[no-untyped-def]
    _journey(session, acc, signed_days_ago=300, seats=50)
    for day in range(0, 35, 2):
        signals(session, acc, {"active_users": 49}, days_ago=day + 0.5, prefix=f"u{day}")
    signals(session, acc, {"nps": 50, "csat": 5, "logins_7d": 300}, days_ago=1)


def objective_progress_from_reviews(session, acc: Account) -> None:  # type: ignore[no-untyped-def]
    journey = _journey(session, acc, signed_days_ago=200)
    session.add(Objective(journey_id=journey.id, account_id=acc.id, title="Faster", baseline=21, target=7,
                          status="achieved", created_at=NOW, updated_at=NOW))
    session.add(Review(journey_id=journey.id, account_id=acc.id, kind="6_month", title="Six months",
                       anchor="signature", due_on=NOW.date() + timedelta(days=10), status="scheduled",
                       starts_at=NOW + timedelta(days=10), ends_at=NOW + timedelta(days=10, hours=1)))
    signals(session, acc, GREEN, days_ago=1)


def on_hold_green(session, acc: Account) -> None:  # type: ignore[no-untyped-def]
    signals(session, acc, GREEN | {"objective_progress": 1.0}, days_ago=2)
    session.add(ContactHold(account_id=acc.id, reason="legal review", until=NOW.date() + timedelta(days=5),
                            created_at=NOW))


PROFILES: list[tuple[str, str | None, Callable[..., None]]] = [
    ("nothing known", "mid_market", nothing_known),
    ("green, objectives met", "mid_market", green_with_objectives_met),
    ("green yesterday, red today", "enterprise", green_yesterday_red_today),
    ("escalation open 20 days", "smb", escalation_open_long),
    ("onboarding, late plan", "smb", onboarding_with_late_plan),
    ("seats from the deal, near full", None, seats_from_the_deal_near_full),
    ("objective achieved, review coming", "enterprise", objective_progress_from_reviews),
    ("green but on hold", "mid_market", on_hold_green),
]


def _stored(session, ids: list[int]) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    def rows(model: Any, key: Any, skip: tuple[str, ...] = ()) -> list[dict[str, Any]]:
        cols = [c for c in model.__table__.columns if c.name not in ("id", *skip)]
        return [dict(r._mapping) for r in session.execute(select(*cols).where(model.account_id.in_(ids))
                                                          .order_by(*key))]

    return {"scores": rows(HealthScore, [HealthScore.account_id]),
            "history": rows(HealthHistory, [HealthHistory.account_id, HealthHistory.day]),
            "reminders": [(r["account_id"], r["kind"], r["dedupe_key"], r["reason"], r["assignee_id"])
                          for r in rows(Reminder, [Reminder.account_id, Reminder.kind, Reminder.dedupe_key])]}


@pytest.mark.parametrize("shuffle", [False, True], ids=["in order", "reversed"])
def test_a_batch_evaluated_together_stores_what_each_alone_stores(session, shuffle: bool) -> None:
    csm, am = member(session, "csm@b.example", Role.csm), member(session, "am@b.example", Role.am)
    ids = []
    for name, segment, build in PROFILES:
        acc = account(session, name, segment=segment, csm=csm, am=am)
        build(session, acc)
        ids.append(acc.id)
    session.flush()
    yesterday = NOW - timedelta(days=1)
    evaluation.evaluate(session, account_ids=ids, now=yesterday, actor=ACTOR)  # scores and history exist
    batch = list(reversed(ids)) if shuffle else ids

    together = session.begin_nested()
    done = evaluation.evaluate(session, account_ids=batch, now=NOW, actor=ACTOR)
    as_batch = _stored(session, ids)
    together.rollback()

    alone = session.begin_nested()
    singles = [evaluation.evaluate(session, account_ids=[a], now=NOW, actor=ACTOR) for a in batch]
    one_by_one = _stored(session, ids)
    alone.rollback()

    assert as_batch["reminders"] == one_by_one["reminders"]
    assert as_batch["history"] == one_by_one["history"]
    assert as_batch["scores"] == one_by_one["scores"]
    assert done == sum(singles, evaluation.Evaluated())
    # the table covers what it claims: every band, an expansion reminder and a risk alert among them
    bands = {s["computed_band"] for s in as_batch["scores"]}
    assert {"unknown", "red"} <= bands and bands & {"green", "yellow"}
    kinds = {kind for _, kind, *_ in as_batch["reminders"]}
    assert any(k.startswith("expansion.") for k in kinds) and any(k.startswith("risk.") for k in kinds)
    assert len({s["scorecard"] for s in as_batch["scores"]}) >= 2


def test_the_batch_path_is_what_a_lone_rescore_of_each_gives_at_any_size(session) -> None:
    """Many accounts of the same profiles (a batch crosses the sweep's 50): still equal, account by account."""
    csm, am = member(session, "csm@m.example", Role.csm), member(session, "am@m.example", Role.am)
    ids = []
    for n in range(64):
        name, segment, build = PROFILES[n % len(PROFILES)]
        acc = account(session, f"{name} {n}", segment=segment, csm=csm, am=am)
        build(session, acc)
        ids.append(acc.id)
    session.flush()

    together = session.begin_nested()
    evaluation.evaluate(session, account_ids=ids, now=NOW, actor=ACTOR)
    as_batch = _stored(session, ids)
    together.rollback()

    alone = session.begin_nested()
    for a in ids:
        evaluation.evaluate(session, account_ids=[a], now=NOW, actor=ACTOR)
    assert _stored(session, ids) == as_batch
    alone.rollback()


def test_the_nightly_job_in_small_batches_stores_what_one_batch_stores(db_url) -> None:
    """`recompute_all_health` in batches of 3 (on PostgreSQL two batches in flight, each on its own connection
    and transaction) stores the scores, history and risk alerts that one batch of every account stores."""
    from journey import db
    from journey.health.jobs import recompute_all_health
    from journey.job_context import JobContext
    from journey.models import AuditEntry, OutboxMessage

    with db.transaction() as session:
        csm, am = member(session, "csm@n.example", Role.csm), member(session, "am@n.example", Role.am)
        for n in range(20):
            name, segment, build = PROFILES[n % len(PROFILES)]
            build(session, account(session, f"{name} {n}", segment=segment, csm=csm, am=am))

    def tonight(batch_size: int) -> tuple[dict[str, Any], dict[str, int]]:
        with db.transaction() as session:  # from the same start: nothing scored, alerted or audited yet
            for model in (OutboxMessage, Reminder, AuditEntry, HealthHistory, HealthScore):
                session.execute(model.__table__.delete())
        recompute_all_health(JobContext(now=NOW - timedelta(days=1), actor=ACTOR))  # yesterday's scores
        result = recompute_all_health(JobContext(now=NOW, actor=ACTOR), batch_size=batch_size)
        with db.transaction() as session:
            return _stored(session, list(session.scalars(select(Account.id)))), result

    one_batch, counted = tonight(1000)
    assert tonight(3) == (one_batch, counted)
    assert counted["accounts"] == 20 and counted["band_changes"] > 0
    assert any(kind.startswith("risk.") for _, kind, *_ in one_batch["reminders"])
