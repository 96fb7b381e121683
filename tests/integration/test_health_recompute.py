"""Signals in, scores out: set-based recompute on SQLite and PostgreSQL agrees with the pure function."""
from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from journey.audit import Actor
from journey.health import domain, scores, service
from journey.health.service import SignalIn
from journey.models import (
    Account,
    Deal,
    HandoffPacket,
    HealthHistory,
    HealthScore,
    Journey,
    Milestone,
    PlanTask,
    Reminder,
    Review,
    Role,
    TaskStatus,
    TeamMember,
)

NOW = datetime(2027, 3, 1, 12, tzinfo=UTC)
ACTOR = Actor.flow("test")


def member(session, email: str, role: Role) -> TeamMember:
    m = TeamMember(email=email, name=email.split("@")[0].title(), role=role)
    session.add(m)
    session.flush()
    return m


def account(session, name: str = "Acme", *, segment: str | None = "mid_market", csm=None, am=None) -> Account:
    a = Account(crm_source="events", crm_external_id=name, name=name, segment=segment, timezone="UTC",
                csm_id=csm.id if csm else None, am_id=am.id if am else None)
    session.add(a)
    session.flush()
    return a


def signals(session, acc: Account, values: dict[str, float], *, days_ago: float = 1, prefix: str = "s") -> dict:
    at = NOW - timedelta(days=days_ago)
    items = [SignalIn(id=f"{prefix}-{acc.id}-{m}-{days_ago}", account=str(acc.id), metric=m, value=v, at=at)
             for m, v in values.items()]
    return service.record_signals(session, items=items, source="test", now=NOW, actor=ACTOR)


GREEN = {"active_users": 95, "seats": 100, "feature_adoption": 0.8, "nps": 60, "csat": 5, "csm_sentiment": 5,
         "support_tickets_open": 0, "escalation_open": 0, "invoice_overdue_days": 0, "logins_7d": 400}


def test_signals_are_idempotent_per_id_and_rescore_the_account(session) -> None:
    acc = account(session)
    first = signals(session, acc, {"active_users": 40, "seats": 100})
    again = signals(session, acc, {"active_users": 40, "seats": 100})
    assert (first["accepted"], first["duplicates"], first["recomputed"]) == (2, 0, 1)
    assert (again["accepted"], again["duplicates"], again["recomputed"]) == (0, 2, 0)
    stored = session.get(HealthScore, acc.id)
    # adopted default card, only seat_utilisation present: 0.4 on the curve (0.2 -> 0, 0.5 -> 50) = 33.33, but
    # it carries 20 % of the card's weight (half of adoption's 40 %): too little for a band, the score provisional
    assert stored.score == pytest.approx(33.33, abs=0.01)
    assert stored.band == stored.computed_band == "unknown" and stored.evidence == pytest.approx(0.2)
    assert stored.scorecard == "default_adopted" and stored.scorecard_version == 2
    assert stored.top_cost_factor == "seat_utilisation"
    assert "feature_adoption" in stored.missing and "logins_7d" in stored.missing_inputs
    assert session.scalar(select(func.count()).select_from(HealthHistory)) == 1


def test_unknown_account_fails_the_whole_batch(session) -> None:
    from journey.errors import InvalidInput

    acc = account(session)
    items = [SignalIn("a", str(acc.id), "nps", 10, NOW), SignalIn("b", "crm:events:nope", "nps", 10, NOW)]
    with pytest.raises(InvalidInput, match=r"items.1 \(crm:events:nope\)"):
        service.record_signals(session, items=items, source="test", now=NOW, actor=ACTOR)


def test_recompute_agrees_with_the_pure_function_on_the_same_signals(session) -> None:
    from journey.health.repository import signal_points

    acc = account(session)
    for day in range(0, 40, 3):
        signals(session, acc, {"active_users": 50 + day, "seats": 100, "csat": 1 + day % 5, "logins_7d": day * 10,
                               "support_tickets_open": day % 7}, days_ago=day + 0.5)
    card = service.all_scorecards()[0]
    card = next(c for c in service.all_scorecards() if c.name == "default_adopted")
    raw = signal_points(session, [acc.id], since=NOW - timedelta(days=400), until=NOW)[acc.id]
    expected = domain.score(raw, card, NOW)
    stage, got = service.score_batch(session, account_ids=[acc.id], now=NOW, cards=service.all_scorecards())[acc.id]
    assert stage == "adopted"
    assert got.score == pytest.approx(expected.score)
    assert [(c.factor, c.value) for c in got.contributions] == [
        (c.factor, pytest.approx(c.value) if c.value is not None else None) for c in expected.contributions]


def test_internal_signals_come_from_plan_packet_and_reviews(session) -> None:
    acc = account(session, segment="smb")
    deal = Deal(account_id=acc.id, crm_source="events", crm_external_id="D1", name="D1", seats=50)
    session.add(deal)
    session.flush()
    journey = Journey(deal_id=deal.id, account_id=acc.id, playbook="default", playbook_version=1,
                      signed_on=NOW.date() - timedelta(days=30))
    session.add(journey)
    session.flush()
    ms = Milestone(journey_id=journey.id, key="kickoff", name="Kickoff", position=0, due_on=NOW.date())
    session.add(ms)
    session.flush()
    due = NOW.date() - timedelta(days=5)
    for n, (status, done_days_after_due) in enumerate([(TaskStatus.done, -1), (TaskStatus.done, 2),
                                                        (TaskStatus.todo, None), (TaskStatus.todo, None)]):
        done_at = None if done_days_after_due is None else datetime.combine(
            due + timedelta(days=done_days_after_due), datetime.min.time(), UTC).replace(hour=10)
        session.add(PlanTask(journey_id=journey.id, milestone_id=ms.id, key=f"t{n}", title=f"T{n}", position=n,
                             anchor="signature", offset_business_days=0, due_on=due if n < 3 else NOW.date()
                             + timedelta(days=5), status=status, done_at=done_at))
    session.add(HandoffPacket(journey_id=journey.id, account_id=acc.id, completeness=80))
    session.add_all([Review(journey_id=journey.id, account_id=acc.id, kind=k, title=k, anchor="signature",
                            due_on=NOW.date() - timedelta(days=d), status=s)
                     for k, d, s in [("a", 10, "held"), ("b", 5, "missed"), ("c", 1, "held")]])
    session.flush()
    stage, result = service.score_batch(session, account_ids=[acc.id], now=NOW, cards=service.all_scorecards())[acc.id]
    values = {c.factor: c.value for c in result.contributions}
    assert stage == "onboarding" and result.scorecard == "default_onboarding"
    # 3 tasks due by today (Monday; due last Wednesday): one done on time, one done 2 business days late
    # (within the grace), one open 3 business days: penalty (3 - 2) / 10 = 0.1, over 3 tasks due
    assert values["plan_on_time"] == pytest.approx(1 - 0.1 / 3)
    assert values["overdue_tasks"] == 1  # open beyond the grace
    assert values["packet_completeness"] == 80
    assert values["activation"] is None  # seats known from the deal, but no active users sent
    # plan: 60 % x 96.67 + 40 % x 60 (1 overdue) = 82 of 45; handoff: 80 -> 60 of 20; plan+handoff present:
    # 65 % of the weight, enough for a band, spread to 100 %
    assert result.score == pytest.approx((0.45 * (0.6 * (100 - 10 / 3) + 0.4 * 60) + 0.20 * 60) / 0.65)
    assert result.band == "green" and result.evidence == pytest.approx(0.65)
    plan = next(c for c in result.contributions if c.factor == "plan_on_time")
    assert plan.detail == ("2 of 3 tasks due are on time (grace 2 business days); 1 late by 3+ business days (up to 3 "
                           "business days)")
    reviews = service.score_batch(session, account_ids=[acc.id], now=NOW + timedelta(days=400),
                                  cards=service.all_scorecards())[acc.id][1]
    assert {c.factor: c.value for c in reviews.contributions}.get("reviews_held") == pytest.approx(2 / 3)


def test_history_is_one_row_per_day_and_trend_reads_it(session) -> None:
    acc = account(session)
    for day, users in [(30, 90), (7, 70), (0, 50)]:
        when = NOW - timedelta(days=day)
        service.record_signals(session, items=[SignalIn(f"u{day}", str(acc.id), "active_users", users, when),
                                               SignalIn(f"s{day}", str(acc.id), "seats", 100, when)],
                               source="test", now=when, actor=ACTOR)
    service.recompute(session, account_ids=[acc.id], now=NOW, actor=ACTOR)
    health = scores.account_health(session, account_id=acc.id, now=NOW)
    assert [h["on"] for h in health["history"]] == [date(2027, 1, 30), date(2027, 2, 22), date(2027, 3, 1)]
    # utilisation 0.9 -> 90 + 10 x 0.1/0.15 = 96.67; 0.7 -> 50 + 40 x 0.2/0.3 = 76.67; 0.5 -> 50
    assert health["trend"] == {"7d": pytest.approx(-26.7, abs=0.05), "30d": pytest.approx(-46.7, abs=0.05)}
    assert health["band"] == "unknown" and health["provisional"] is True  # seat utilisation alone: 20 % of the weight
    # each day keeps what moved since the day before, from the stored factors, not recomputed
    assert [h["changes"] for h in health["history"]] == [[], [
        {"factor": "seat_utilisation", "from": 0.9, "to": 0.7, "points_delta": -20.0}], [
        {"factor": "seat_utilisation", "from": 0.7, "to": 0.5, "points_delta": -26.67}]]
    assert health["changes_since"]["since"] == date(2027, 2, 22)
    assert "since 2027-02-22: Seat utilisation -27 points" in health["explanation"]


def test_turning_red_alerts_the_csm_once(session) -> None:
    csm, am = member(session, "csm@x.example", Role.csm), member(session, "am@x.example", Role.am)
    acc = account(session, csm=csm, am=am)
    # adoption and support: 60 % of the weight, enough for a band
    signals(session, acc, {"active_users": 90, "seats": 100, "logins_7d": 300, "feature_adoption": 0.9,
                           "support_tickets_open": 0, "escalation_open": 0})
    signals(session, acc, {"active_users": 10, "logins_7d": 0, "feature_adoption": 0, "support_tickets_open": 20,
                           "escalation_open": 1}, days_ago=0.5)
    service.recompute(session, account_ids=[acc.id], now=NOW, actor=ACTOR)
    alerts = session.scalars(select(Reminder).where(Reminder.kind.like("risk.%"))).all()
    assert [(r.kind, r.assignee_id) for r in alerts] == [("risk.turned_red", csm.id)]
    # what is left: the 30-day mean of logins per seat (300 then 0: 1.5, scored 62.5) x its 13.3 % share
    assert "turned red: health 8/100 (was green)" in alerts[0].reason


def test_a_task_due_today_and_not_done_yet_is_not_late(session) -> None:
    """Seen in the demo: a fresh account read red at 9 a.m. because today's task was counted as missed."""
    acc = account(session, segment="smb")
    deal = Deal(account_id=acc.id, crm_source="events", crm_external_id="D2", name="D2")
    session.add(deal)
    session.flush()
    journey = Journey(deal_id=deal.id, account_id=acc.id, playbook="default", playbook_version=1,
                      signed_on=NOW.date() - timedelta(days=3))
    session.add(journey)
    session.flush()
    ms = Milestone(journey_id=journey.id, key="kickoff", name="Kickoff", position=0, due_on=NOW.date())
    session.add(ms)
    session.flush()
    session.add_all([PlanTask(journey_id=journey.id, milestone_id=ms.id, key="today", title="Today", position=0,
                              anchor="signature", offset_business_days=0, due_on=NOW.date(), status=TaskStatus.todo),
                     PlanTask(journey_id=journey.id, milestone_id=ms.id, key="done", title="Done", position=1,
                              anchor="signature", offset_business_days=0, due_on=NOW.date(), status=TaskStatus.done,
                              done_at=NOW - timedelta(hours=1))])
    session.flush()
    _, result = service.score_batch(session, account_ids=[acc.id], now=NOW, cards=service.all_scorecards())[acc.id]
    values = {c.factor: c.value for c in result.contributions}
    assert values["plan_on_time"] == 1.0  # the done task was on time; today's open task is not late yet
    assert values["overdue_tasks"] == 0


def test_the_last_held_review_is_the_last_meeting_unless_a_newer_meeting_signal_came(session) -> None:
    acc = account(session, name="Big", segment="enterprise")
    deal = Deal(account_id=acc.id, crm_source="events", crm_external_id="D-M", name="D-M")
    session.add(deal)
    session.flush()
    journey = Journey(deal_id=deal.id, account_id=acc.id, playbook="default", playbook_version=1,
                      signed_on=NOW.date() - timedelta(days=400))
    session.add(journey)
    session.flush()
    for kind, days, status in (("r90", 50, "held"), ("r180", 20, "missed"), ("r365", -10, "scheduled")):
        when = NOW - timedelta(days=days)
        session.add(Review(journey_id=journey.id, account_id=acc.id, kind=kind, title=kind, anchor="signature",
                           due_on=when.date(), starts_at=when, status=status,
                           held_at=when + timedelta(hours=1) if status == "held" else None))
    session.flush()

    def last_meeting() -> domain.Contribution:
        _, result = service.score_batch(session, account_ids=[acc.id], now=NOW, cards=service.all_scorecards())[acc.id]
        assert result.scorecard == "enterprise_adopted"
        return next(c for c in result.contributions if c.factor == "last_meeting")

    meeting = last_meeting()  # held 50 days ago (the missed and the coming review are no meeting)
    assert meeting.value == pytest.approx(50 - 1 / 24) and meeting.factor_score == 60
    signals(session, acc, {"meeting": 1}, days_ago=70)  # an older meeting signal changes nothing
    assert last_meeting().value == pytest.approx(50 - 1 / 24)
    signals(session, acc, {"meeting": 1}, days_ago=10, prefix="new")  # a newer one wins
    assert last_meeting().value == pytest.approx(10) and last_meeting().factor_score == 100


def test_a_large_batch_copied_in_stores_what_the_row_by_row_upsert_stores(session, monkeypatch) -> None:
    """PostgreSQL upserts a large batch through COPY and a staging table: same score and history rows (JSON,
    nulls, times, the band-change bookkeeping, a second run of the day overwriting) as the INSERT path."""
    from journey.health import repository

    pairs = [(account(session, f"Row {n}"), account(session, f"Copy {n}")) for n in range(2)]
    days = [(NOW - timedelta(days=1), {"active_users": 90, "seats": 100, "nps": 50}),
            (NOW, {"active_users": 40, "seats": 100, "nps": 10, "escalation_open": 1}),
            (NOW + timedelta(hours=2), {"active_users": 30, "seats": 100, "nps": 10, "escalation_open": 1})]
    for step, (when, values) in enumerate(days):
        for n, pair in enumerate(pairs):
            for acc in pair:
                service.record_signals(session, items=[
                    SignalIn(f"{acc.id}-{step}-{m}", str(acc.id), m, v * (n + 1), when) for m, v in values.items()],
                    source="test", now=when, actor=ACTOR, rescore=False)
        for threshold, accounts in ((10**9, [p[0].id for p in pairs]), (1, [p[1].id for p in pairs])):
            monkeypatch.setattr(repository, "COPY_FROM_ROWS", threshold)
            service.recompute(session, account_ids=accounts, now=when, actor=ACTOR)
    session.expire_all()

    def stored(model, acc) -> list[dict]:
        order = model.day if model is HealthHistory else model.account_id
        rows = session.scalars(select(model).where(model.account_id == acc.id).order_by(order)).all()
        return [{c.name: getattr(r, c.key) for c in model.__table__.columns if c.name not in ("id", "account_id")}
                for r in rows]

    for row_by_row, copied in pairs:
        assert stored(HealthScore, copied) == stored(HealthScore, row_by_row)
        assert stored(HealthHistory, copied) == stored(HealthHistory, row_by_row)
    assert len(stored(HealthHistory, pairs[0][1])) == 2
    assert stored(HealthHistory, pairs[0][1])[1]["changes"]
