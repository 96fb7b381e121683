"""The weekly digest: one e-mail per person and week, their accounts, what changed band, what is due."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from journey import db
from journey.audit import Actor
from journey.health import service
from journey.health.service import SignalIn
from journey.models import Account, OutboxMessage, Reminder, Role, TeamMember
from journey.notify.digests import send_weekly_digests

pytestmark = pytest.mark.usefixtures("db_url")
MONDAY = datetime(2027, 3, 1, 7, tzinfo=UTC)


def test_weekly_digest_lists_the_book_and_changes_once_per_week() -> None:
    with db.transaction() as session:
        csm = TeamMember(email="csm@x.example", name="Camille <CSM>", role=Role.csm)
        idle = TeamMember(email="idle@x.example", name="Idle", role=Role.am)
        session.add_all([csm, idle])
        session.flush()
        accounts = [Account(crm_source="events", crm_external_id=n, name=n, timezone="UTC", csm_id=csm.id)
                    for n in ("Acme", "Globex")]
        session.add_all(accounts)
        session.flush()
        ids = [a.id for a in accounts]
    # Acme green, then red two days later; seat use, feature adoption and support: 52 % of the card's weight
    for day, (users, adoption, tickets, escalation) in [(3, (90, 0.9, 0, 0)), (1, (10, 0, 20, 1))]:
        when = MONDAY - timedelta(days=day)
        values = {"active_users": users, "seats": 100, "feature_adoption": adoption, "support_tickets_open": tickets,
                  "escalation_open": escalation}
        with db.transaction() as session:
            service.record_signals(session, items=[SignalIn(f"{m}{day}", str(ids[0]), m, v, when)
                                                   for m, v in values.items()],
                                   source="test", now=when, actor=Actor.flow("test"))
    assert send_weekly_digests(MONDAY) == {"members": 1, "queued": 1}
    assert send_weekly_digests(MONDAY + timedelta(hours=2)) == {"members": 1, "queued": 0}
    with db.transaction(writer=False) as session:
        [mail] = session.scalars(select(OutboxMessage).where(OutboxMessage.dedupe_key.like("digest:%"))).all()
        alerts = session.scalars(select(OutboxMessage.channel).where(OutboxMessage.dedupe_key.like("%risk%"))).all()
    assert sorted(alerts) == ["email", "slack"]  # the CSM's risk alert when Acme turned red
    assert mail.recipient == "csm@x.example" and mail.dedupe_key.endswith(":2027-W09")
    assert mail.subject == "Your week: 2 accounts, 1 changed band"
    assert "Acme: green -> red (0/100)" in mail.body_text and "Globex: - (no score)" in mail.body_text
    assert "Camille &lt;CSM&gt;" in mail.body_html  # autoescaped
    assert send_weekly_digests(MONDAY + timedelta(days=7))["queued"] == 1


def test_the_digest_lists_what_is_due_this_week_overdue_first_and_nothing_else() -> None:
    with db.transaction() as session:
        am = TeamMember(email="am@x.example", name="Morgan", role=Role.am)
        other = TeamMember(email="other@x.example", name="Other", role=Role.am)
        session.add_all([am, other])
        session.flush()
        acme = Account(crm_source="events", crm_external_id="Acme", name="Acme", timezone="UTC", am_id=am.id)
        session.add(acme)
        session.flush()

        def reminder(key: str, assignee: TeamMember, due_in_days: float, reason: str, status: str = "open") -> None:
            session.add(Reminder(kind="expansion.renewal_window", account_id=acme.id, assignee_id=assignee.id,
                                 due_at=MONDAY + timedelta(days=due_in_days), reason=reason, status=status,
                                 dedupe_key=key, created_at=MONDAY - timedelta(days=10), details={}))

        reminder("due-soon", am, 3, "Acme: prepare the <renewal> call.")
        reminder("overdue", am, -2, "Acme: send the QBR deck.")
        reminder("next-month", am, 30, "Acme: contract ends in 120 days.")
        reminder("done", am, 1, "Acme: already handled.", status="done")
        reminder("not-mine", other, 1, "Globex: someone else's.")
    assert send_weekly_digests(MONDAY)["queued"] == 1
    with db.transaction(writer=False) as session:
        [mail] = session.scalars(select(OutboxMessage).where(OutboxMessage.recipient == "am@x.example")).all()
    due = mail.body_text.split("What is due:\n", 1)[1].split("\n\n", 1)[0]
    assert due.strip().splitlines() == ["- 2027-02-27: Acme: send the QBR deck.",
                                        "- 2027-03-04: Acme: prepare the <renewal> call."]
    assert "<li>2027-03-04: Acme: prepare the &lt;renewal&gt; call.</li>" in mail.body_html
    assert "already handled" not in mail.body_text and "120 days" not in mail.body_text
