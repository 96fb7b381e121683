"""Expansion reminders for the AM: held back by an open escalation, red health or do-not-contact; sent
once the hold is gone and the account is still green; once per cool-down."""
from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select

from journey.expansion import service as expansion_service
from journey.health import service
from journey.health.service import SignalIn
from journey.models import ContactHold, Deal, OutboxMessage, Reminder, Role
from tests.integration.test_health_recompute import ACTOR, GREEN, NOW, account, member, signals


def am_reminders(session, am) -> list[Reminder]:
    return list(session.scalars(select(Reminder).where(Reminder.assignee_id == am.id,
                                                       Reminder.kind.like("expansion.%")).order_by(Reminder.id)))


def setup(session):
    csm, am = member(session, "csm@x.example", Role.csm), member(session, "am@x.example", Role.am)
    acc = account(session, name="Acme", csm=csm, am=am)
    return acc, am


def test_no_reminder_while_an_escalation_is_open_then_one_once_resolved_and_still_green(session) -> None:
    acc, am = setup(session)
    signals(session, acc, GREEN | {"objective_progress": 1.0, "escalation_open": 1}, days_ago=2)
    score = service.account_health(session, account_id=acc.id, now=NOW)
    # every other factor scores 100; the escalation (60 % of support's 20 %) costs 12 points: 88, green
    assert (score["score"], score["band"]) == (88, "green")
    assert expansion_service.evaluate_rules(session, account_ids=[acc.id], now=NOW) == 0
    assert am_reminders(session, am) == []

    service.record_signals(session, items=[SignalIn("esc-closed", str(acc.id), "escalation_open", 0,
                                                    NOW - timedelta(days=1))], source="test", now=NOW, actor=ACTOR)
    assert service.account_health(session, account_id=acc.id, now=NOW)["band"] == "green"
    assert expansion_service.evaluate_rules(session, account_ids=[acc.id], now=NOW) == 1
    [reminder] = am_reminders(session, am)
    assert reminder.kind == "expansion.objectives_achieved"
    assert reminder.reason.startswith("Acme: objectives at 100% of target and health 100/100 (green)")
    [mail] = session.scalars(select(OutboxMessage).where(OutboxMessage.reminder_id == reminder.id)).all()
    assert (mail.channel, mail.recipient) == ("email", "am@x.example")
    assert "objectives at 100% of target" in mail.body_html and "<html" in mail.body_html

    # the same rule does not fire again within its cool-down (90 days), even on another day
    assert expansion_service.evaluate_rules(session, account_ids=[acc.id], now=NOW + timedelta(days=5)) == 0
    assert expansion_service.evaluate_rules(session, account_ids=[acc.id], now=NOW + timedelta(days=91)) == 1


def test_red_accounts_and_do_not_contact_hold_reminders_back(session) -> None:
    acc, am = setup(session)
    signals(session, acc, GREEN | {"objective_progress": 1.0}, days_ago=2)
    session.add(ContactHold(account_id=acc.id, reason="exec sponsor on leave", created_at=NOW))
    session.flush()
    assert expansion_service.evaluate_rules(session, account_ids=[acc.id], now=NOW) == 0
    session.delete(session.get(ContactHold, acc.id))
    session.flush()
    assert expansion_service.evaluate_rules(session, account_ids=[acc.id], now=NOW) == 1


def test_seat_utilisation_over_the_whole_period_and_renewal_window(session) -> None:
    acc, am = setup(session)
    for day in range(0, 32, 2):
        signals(session, acc, {"active_users": 93 + day % 3, "seats": 100}, days_ago=day + 0.25, prefix=f"d{day}")
    signals(session, acc, GREEN, days_ago=0.1, prefix="g")
    session.add(Deal(account_id=acc.id, crm_source="events", crm_external_id="D-9", name="D-9",
                     contract_end=NOW.date() + timedelta(days=100)))
    session.flush()
    assert expansion_service.evaluate_rules(session, account_ids=[acc.id], now=NOW) == 2
    reasons = {r.kind: r.reason for r in am_reminders(session, am)}
    assert reasons["expansion.seat_utilisation"].startswith(
        "Acme: at least 93 of 100 seats in use every day for 30 days (93%, threshold 90%)")
    assert reasons["expansion.renewal_window"].startswith(
        f"Acme: the contract ends on {(NOW.date() + timedelta(days=100)).isoformat()} (100 days from now)")
    # next day: seats within their 45-day cool-down, the renewal once per contract end
    assert expansion_service.evaluate_rules(session, account_ids=[acc.id], now=NOW + timedelta(days=1)) == 0
    assert expansion_service.evaluate_rules(session, account_ids=[acc.id], now=NOW + timedelta(days=50)) == 0


def test_nothing_without_a_score_or_below_the_threshold(session) -> None:
    acc, am = setup(session)
    assert expansion_service.evaluate_rules(session, account_ids=[acc.id], now=NOW) == 0
    signals(session, acc, GREEN | {"active_users": 85}, days_ago=0.5)
    assert expansion_service.evaluate_rules(session, account_ids=[acc.id], now=NOW) == 0
    assert date(2027, 3, 1) == NOW.date()
