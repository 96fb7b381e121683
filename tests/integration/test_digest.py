"""The weekly digest: one e-mail per person and week, their accounts, what changed band, what is due."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from journey import db
from journey.audit import Actor
from journey.digests import jobs
from journey.digests import service as digests
from journey.health import service
from journey.health.service import SignalIn
from journey.job_context import JobContext
from journey.models import Account, OutboxMessage, Reminder, Role, TeamMember
from tests.builders import deal_signed, drain, post_event

pytestmark = pytest.mark.usefixtures("db_url")
MONDAY = datetime(2027, 3, 1, 7, tzinfo=UTC)


def send_weekly_digests(now: datetime) -> dict[str, int]:
    return jobs.send_weekly_digests(JobContext(now=now, actor=Actor.flow("test")))


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
    assert send_weekly_digests(MONDAY) == {"members": 1, "managers": 0, "queued": 1}
    assert send_weekly_digests(MONDAY + timedelta(hours=2)) == {"members": 1, "managers": 0, "queued": 0}
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


def _journey_with_work_due(client) -> dict[str, int]:  # type: ignore[no-untyped-def]
    """A signed deal (its plan's first tasks past due by now, its 90-day review coming up), a manager, an
    open expansion reminder for the AM: the ids of the team."""
    post_event(client, deal_signed())
    assert drain() == ["processed"]
    with db.transaction() as session:
        session.add(TeamMember(email="boss@x.example", name="Boss <Manager>", role=Role.manager))
        people = {m.email: m.id for m in session.scalars(select(TeamMember))}
        account_id = session.scalar(select(Account.id))
        session.add(Reminder(kind="expansion.seat_utilisation", account_id=account_id, assignee_id=people[
            "am@vendor.example"], due_at=datetime(2027, 2, 1, tzinfo=UTC), reason="Acme: 95% of seats.",
            status="open", dedupe_key="x-1", created_at=datetime(2027, 2, 1, tzinfo=UTC), details={}))
    return people


@pytest.mark.clock("2027-02-08T07:00:00Z")  # a Monday, eleven weeks after the signature
def test_the_manager_gets_the_team_and_each_owner_their_overdue_tasks_and_reviews(client) -> None:
    people = _journey_with_work_due(client)
    now = datetime(2027, 2, 8, 7, tzinfo=UTC)
    assert send_weekly_digests(now) == {"members": 2, "managers": 1, "queued": 3}
    assert send_weekly_digests(now + timedelta(hours=1))["queued"] == 0  # once per week
    with db.transaction(writer=False) as session:
        mails = {m.recipient: m for m in session.scalars(select(OutboxMessage))}
        team = digests.team_digest(session, now=now)
        csm = digests.member_digest(session, member=session.get_one(TeamMember, people["csm@vendor.example"]),
                                    now=now)
    rows = {p["name"]: p for p in team["people"]}
    assert set(rows) == {"Camille CSM", "Morgan AM"}
    assert rows["Camille CSM"]["overdue"] == len(csm["overdue"]) > 0  # the kickoff tasks were due weeks ago
    assert rows["Morgan AM"]["expansion"] == 1 and rows["Camille CSM"]["expansion"] == 0
    assert rows["Camille CSM"]["reviews"] == rows["Morgan AM"]["reviews"] == len(csm["reviews"]) == 1
    assert rows["Camille CSM"]["unknown"] == 1 and rows["Camille CSM"]["red"] == 0  # never scored: unknown

    boss = mails["boss@x.example"]
    assert boss.dedupe_key == f"team-digest:{people['boss@x.example']}:2027-W06"
    assert boss.subject == (f"Your team's week: 0 red, {team['totals']['overdue']} overdue tasks, "
                            "1 reviews in 14 days")
    assert (f"- Camille CSM (CSM): 1 accounts: 0 / 0 / 1; {rows['Camille CSM']['overdue']} overdue; 1 reviews; "
            "0 expansion") in boss.body_text
    assert "Boss &lt;Manager&gt;" in boss.body_html and "/digest" in boss.body_text

    mine = mails["csm@vendor.example"].body_text
    overdue = mine.split("Your overdue tasks:\n", 1)[1].split("\n\n", 1)[0].splitlines()
    assert len(overdue) == len(csm["overdue"]) and all("days ago)" in line for line in overdue)
    [review] = csm["reviews"]
    assert f"Reviews in the next 14 days:\n- {review['due_on']}: Société Acme" in mine
    assert review["title"] in mine and 0 <= review["in_days"] <= 14
    assert "Your overdue tasks" not in mails["am@vendor.example"].body_text  # the plan's tasks are the CSM's
