"""Expansion reminders for the AM: held back by an open escalation, red health or do-not-contact; sent
once the hold is gone and the account is still green; once per cool-down."""
from __future__ import annotations

import email
from datetime import date, timedelta
from email import policy

import pytest
from sqlalchemy import select

from journey import db
from journey.expansion import service as expansion_service
from journey.health import scores, service
from journey.health.service import SignalIn
from journey.models import (
    ContactHold,
    Deal,
    HealthHistory,
    HealthScore,
    Journey,
    Opportunity,
    OutboxMessage,
    Reminder,
    Review,
    Role,
)
from journey.notify.outbox import drain_outbox
from journey.notify.senders import SmtpConfig, SmtpSender
from tests.integration.test_health_recompute import ACTOR, GREEN, NOW, account, member, signals
from tests.integration.test_notify_delivery import smtp_server  # noqa: F401 - the aiosmtpd fixture


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
    score = scores.account_health(session, account_id=acc.id, now=NOW)
    # every other factor scores 100; the escalation (60 % of support's 20 %) costs 12 points: 88, green
    assert (score["score"], score["band"]) == (88, "green")
    assert expansion_service.evaluate_rules(session, account_ids=[acc.id], now=NOW) == 0
    assert am_reminders(session, am) == []

    service.record_signals(session, items=[SignalIn("esc-closed", str(acc.id), "escalation_open", 0,
                                                    NOW - timedelta(days=1))], source="test", now=NOW, actor=ACTOR)
    assert scores.account_health(session, account_id=acc.id, now=NOW)["band"] == "green"
    assert expansion_service.evaluate_rules(session, account_ids=[acc.id], now=NOW) == 1
    [reminder] = am_reminders(session, am)
    assert reminder.kind == "expansion.objectives_achieved"
    [opportunity] = session.scalars(select(Opportunity).where(Opportunity.account_id == acc.id)).all()
    assert (opportunity.title, opportunity.source, opportunity.stage) == ("Objectives achieved", "rule", "open")
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


def risk_alerts(session, csm) -> list[Reminder]:
    return list(session.scalars(select(Reminder).where(Reminder.assignee_id == csm.id,
                                                       Reminder.kind.like("risk.%")).order_by(Reminder.id)))


def test_a_fast_drop_alerts_the_csm_with_the_real_span_then_waits_out_its_cool_down(session) -> None:
    csm = member(session, "csm@x.example", Role.csm)
    acc = account(session, name="Acme", csm=csm)
    # the last score before the 7-day mark is 10 days old: the alert must say 10 days, not 7
    session.add(HealthHistory(account_id=acc.id, day=NOW.date() - timedelta(days=10), score=95, band="green",
                              scorecard_version=1))
    signals(session, acc, GREEN | {"active_users": 30, "feature_adoption": 0.1}, days_ago=0.5)
    stored = session.get(HealthScore, acc.id)
    assert stored.band == "yellow" and 95 - stored.score >= 15  # not red: the drop is what alerts
    [alert] = risk_alerts(session, csm)
    assert alert.kind == "risk.dropped"
    assert alert.reason.startswith(f"Acme: health fell {95 - stored.score:.0f} points in 10 days, from 95 on "
                                   f"{(NOW.date() - timedelta(days=10)).isoformat()} to {stored.score:.0f}.")
    assert "Costs the most: seat_utilisation." in alert.reason
    channels = session.scalars(select(OutboxMessage.channel).where(OutboxMessage.reminder_id == alert.id)).all()
    assert sorted(channels) == ["email", "slack"]

    # three days later the same 10-day-old score still shows the drop: within the 7-day cool-down, no alert
    later = NOW + timedelta(days=3)
    service.recompute(session, account_ids=[acc.id], now=later, actor=ACTOR)
    assert len(risk_alerts(session, csm)) == 1
    # it recovered for a day, then fell again: eight days after the first alert, a second one
    session.add(HealthHistory(account_id=acc.id, day=NOW.date() + timedelta(days=1), score=96, band="green",
                              scorecard_version=1))
    service.recompute(session, account_ids=[acc.id], now=NOW + timedelta(days=8), actor=ACTOR)
    alerts = risk_alerts(session, csm)
    assert len(alerts) == 2 and " points in 7 days, from 96 on " in alerts[1].reason


@pytest.mark.usefixtures("db_url")
def test_a_strategic_review_reminds_the_am_by_email_with_the_reviews_ics(smtp_server) -> None:  # noqa: F811
    controller, sink = smtp_server
    due = NOW.date() + timedelta(days=10)
    with db.transaction() as session:
        acc, am = setup(session)
        deal = Deal(account_id=acc.id, crm_source="events", crm_external_id="D-1", name="D-1")
        session.add(deal)
        session.flush()
        journey = Journey(deal_id=deal.id, account_id=acc.id, playbook="default", playbook_version=1,
                          signed_on=NOW.date() - timedelta(days=300))
        session.add(journey)
        session.flush()
        review = Review(journey_id=journey.id, account_id=acc.id, kind="qbr", title="Quarterly business review",
                        anchor="signature", due_on=due, status="scheduled", sequence=2)
        session.add(review)
        signals(session, acc, GREEN, days_ago=1)
        assert expansion_service.evaluate_rules(session, account_ids=[acc.id], now=NOW) == 1
        review_id = review.id
    # the next day the review is still upcoming: once per review, not once a day
    with db.transaction() as session:
        assert expansion_service.evaluate_rules(session, account_ids=[acc.id], now=NOW + timedelta(days=1)) == 0
    sender = SmtpSender(SmtpConfig.from_url(f"smtp://127.0.0.1:{controller.port}?from=journey@vendor.example",
                                            default_sender="x@y"))
    assert drain_outbox(NOW, senders={"email": sender})["sent"] == 1
    [(rcpt, raw)] = sink.received
    assert rcpt == ["am@x.example"]
    mail = email.message_from_bytes(raw, policy=policy.default)
    assert mail["Subject"] == "Expansion: Acme"
    text = mail.get_body(("plain",)).get_content()
    assert f"Acme: Quarterly business review is due on {due.isoformat()} (in 10 days); prepare the expansion" in text
    assert "calendar invitation is attached" in text
    [ics] = list(mail.iter_attachments())
    assert ics.get_filename() == f"review-{review_id}.ics" and ics.get_content_type() == "text/calendar"
    assert ics.get_param("method") == "REQUEST"
    body = ics.get_content().replace("\r\n ", "")  # unfold
    assert f"UID:review-{review_id}@journey.local" in body and "SEQUENCE:2" in body
    assert "SUMMARY:Quarterly business review - Acme" in body and "METHOD:REQUEST" in body
