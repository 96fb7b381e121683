"""Reminders raised in batches: each dedupe key once, outbox messages only for new reminders, the same rows
as one `remind` call at a time; and the review sweep sends a batch of due reminders exactly once."""
from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select

from journey.models import (
    Account,
    Deal,
    Journey,
    JourneyStatus,
    OutboxMessage,
    Reminder,
    Review,
    ReviewReminder,
    Role,
    TeamMember,
)
from journey.notify.service import Message, Reminding, remind, remind_many
from journey.reviews.reminders import send_due_reminders

NOW = datetime(2027, 3, 1, 8, tzinfo=UTC)


def member(session, email: str = "csm@x.example") -> TeamMember:  # type: ignore[no-untyped-def]
    person = TeamMember(email=email, name="Camille", role=Role.csm)
    session.add(person)
    session.flush()
    return person


def item(who: TeamMember, key: str, channels: tuple[str, ...] = ("email",), message: bool = True) -> Reminding:
    return Reminding(kind="k", assignee=who, account_id=None, due_at=NOW, reason=f"because {key}", dedupe_key=key,
                     subject=f"About {key}", details={"key": key}, channels=channels,
                     message=Message(subject=f"Do {key}", body_text=f"Body {key}", body_html=f"<p>{key}</p>",
                                     attachments=[{"filename": "a.ics", "content_type": "text/calendar",
                                                   "content": key}]) if message else None)


def reminders(session) -> dict[str, Reminder]:  # type: ignore[no-untyped-def]
    return {r.dedupe_key: r for r in session.scalars(select(Reminder))}


def messages(session) -> dict[str, OutboxMessage]:  # type: ignore[no-untyped-def]
    return {m.dedupe_key: m for m in session.scalars(select(OutboxMessage))}


def test_a_batch_creates_each_key_once_and_writes_messages_only_for_new_reminders(session) -> None:
    csm = member(session)
    earlier = remind(session, kind="k", assignee=csm, account_id=None, due_at=NOW, reason="old", dedupe_key="b",
                     now=NOW, message=Message(subject="old", body_text="old"))
    created = remind_many(session, [item(csm, "a", channels=("email", "slack")), item(csm, "b"), item(csm, "c"),
                                    item(csm, "a"), item(csm, "d", message=False)], now=NOW)

    rows = reminders(session)
    assert set(created) == {"a", "c", "d"} and {k: rows[k].id for k in created} == created
    assert rows["b"].id == earlier and rows["b"].reason == "old"  # the key already used is left alone
    assert (rows["a"].reason, rows["a"].subject, rows["a"].details, rows["a"].status, rows["a"].created_at) == (
        "because a", "About a", {"key": "a"}, "open", NOW)
    out = messages(session)
    assert set(out) == {"email:a", "slack:a", "email:b", "email:c"}
    assert out["email:b"].subject == "old"
    mail = out["slack:a"]
    assert (mail.reminder_id, mail.recipient, mail.subject, mail.body_text, mail.body_html, mail.attachments,
            mail.status, mail.attempts, mail.next_attempt_at) == (
        created["a"], "csm@x.example", "Do a", "Body a", "<p>a</p>",
        [{"filename": "a.ics", "content_type": "text/calendar", "content": "a"}], "pending", 0, NOW)
    assert remind_many(session, [item(csm, "a"), item(csm, "c")], now=NOW) == {}  # a re-run adds nothing
    assert len(reminders(session)) == 4 and len(messages(session)) == 4


def test_remind_many_of_nothing_writes_nothing(session) -> None:
    assert remind_many(session, [], now=NOW) == {}
    assert reminders(session) == {}


def due_reviews(session, n: int, csm: TeamMember) -> list[int]:  # type: ignore[no-untyped-def]
    starts = NOW + timedelta(days=10)
    ids = []
    for i in range(n):
        account = Account(crm_source="t", crm_external_id=f"A{i}", name=f"Acme {i}", timezone="Europe/Paris",
                          region="FR", csm_id=csm.id)
        session.add(account)
        session.flush()
        deal = Deal(account_id=account.id, crm_source="t", crm_external_id=f"D{i}", name="d")
        session.add(deal)
        session.flush()
        journey = Journey(deal_id=deal.id, account_id=account.id, status=JourneyStatus.active, playbook="default",
                          playbook_version=1, signed_on=date(2026, 12, 1))
        session.add(journey)
        session.flush()
        review = Review(journey_id=journey.id, account_id=account.id, kind="3_month", title="Strategic review",
                        anchor="signature", due_on=starts.date(), starts_at=starts, ends_at=starts + timedelta(hours=1),
                        status="proposed", sequence=0, attendees=["csm"], remind_days_before=[10])
        session.add(review)
        session.flush()
        session.add(ReviewReminder(review_id=review.id, sequence=0, lead_days=10, status="pending",
                                   due_at=NOW - timedelta(minutes=1)))
        ids.append(review.id)
    session.flush()
    return ids


def test_a_sweep_sends_the_batch_once_and_skips_a_reminder_already_raised(session) -> None:
    csm = member(session)
    ids = due_reviews(session, 5, csm)
    remind(session, kind="review_reminder", assignee=csm, account_id=None, due_at=NOW, reason="by hand",
           dedupe_key=f"review:{ids[2]}:lead:10:seq:0", now=NOW)

    sweep = send_due_reminders(session, now=NOW, limit=3)
    again = send_due_reminders(session, now=NOW, limit=3)
    assert (sweep.claimed, sweep.sent, sweep.skipped) == (3, 2, 1)
    assert (again.claimed, again.sent, again.skipped) == (2, 2, 0)
    assert send_due_reminders(session, now=NOW).claimed == 0
    states = {r.review_id: r.status for r in session.scalars(select(ReviewReminder).execution_options(
        populate_existing=True))}
    assert states == {i: "skipped" if i == ids[2] else "sent" for i in ids}
    sent = reminders(session)[f"review:{ids[0]}:lead:10:seq:0"]
    assert sent.reason == "Strategic review with Acme 0 is in 10 days: Thu 11 Mar 2027 09:00 Europe/Paris."
    assert (sent.subject, sent.details) == ("Strategic review with Acme 0", {"review_id": ids[0], "lead_days": 10,
                                                                             "sequence": 0})
    out = messages(session)
    assert len(out) == 4 and f"email:review:{ids[2]}:lead:10:seq:0" not in out
    mail = out[f"email:review:{ids[0]}:lead:10:seq:0"]
    assert (mail.subject, mail.body_text, mail.recipient, mail.reminder_id) == (
        "Prepare: Strategic review with Acme 0", sent.reason, "csm@x.example", sent.id)
