"""Review reminders sent in set-based batches: a batch writes exactly the reminders, outbox messages and row
states that sending the same rows one at a time writes, and a batch that fails after its claim leaves
nothing behind, so the next run sends every reminder once."""
from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from journey import db
from journey.audit import Actor
from journey.job_context import JobContext
from journey.models import (
    Account,
    ActorKind,
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
from journey.notify import repository as notify_repository
from journey.notify.service import remind
from journey.reviews import jobs as review_jobs
from journey.reviews.reminders import send_due_reminders

NOW = datetime(2027, 3, 1, 8, tzinfo=UTC)
STARTS = NOW + timedelta(days=10)


def _review(session: Session, n: int, *, owner: TeamMember | None, timezone: str = "Europe/Paris",
            region: str | None = "FR", starts_at: datetime = STARTS, status: str = "proposed", sequence: int = 0,
            due: tuple[tuple[int, int], ...] = ((0, 10),), owned_by_am: bool = False) -> int:
    """A review of its own account, with a pending reminder per (sequence, lead days) in `due`, due already."""
    account = Account(crm_source="t", crm_external_id=f"A{n}", name=f"Acme {n}", timezone=timezone, region=region,
                      csm_id=None if owned_by_am or owner is None else owner.id,
                      am_id=owner.id if owned_by_am and owner else None)
    session.add(account)
    session.flush()
    deal = Deal(account_id=account.id, crm_source="t", crm_external_id=f"D{n}", name="d")
    session.add(deal)
    session.flush()
    journey = Journey(deal_id=deal.id, account_id=account.id, status=JourneyStatus.active, playbook="default",
                      playbook_version=1, signed_on=date(2026, 12, 1))
    session.add(journey)
    session.flush()
    review = Review(journey_id=journey.id, account_id=account.id, kind="3_month", title=f"Review {n % 3}",
                    anchor="signature", due_on=starts_at.date(), starts_at=starts_at,
                    ends_at=starts_at + timedelta(hours=1), status=status, sequence=sequence, attendees=["csm"],
                    remind_days_before=[lead for _, lead in due])
    session.add(review)
    session.flush()
    for i, (seq, lead) in enumerate(due):
        session.add(ReviewReminder(review_id=review.id, sequence=seq, lead_days=lead, status="pending",
                                   due_at=NOW - timedelta(minutes=60 - i)))
    session.flush()
    return review.id


def _world(session: Session) -> dict[str, int]:
    """Reviews that exercise every verdict, several zones and starts sharing and not sharing a time."""
    csm = TeamMember(email="csm@x.example", name="Camille", role=Role.csm)
    am = TeamMember(email="am@x.example", name="Alex", role=Role.am)
    session.add_all([csm, am])
    session.flush()
    ids = {f"plain{n}": _review(session, n, owner=csm) for n in range(6)}  # same time, same zone
    ids |= {
        "new_york": _review(session, 10, owner=csm, timezone="America/New_York", region="US"),
        "no_region": _review(session, 11, owner=csm, timezone="UTC", region=None,
                             starts_at=STARTS + timedelta(days=1, minutes=30)),
        "tomorrow": _review(session, 12, owner=am, owned_by_am=True, starts_at=NOW + timedelta(days=1)),
        "two_leads": _review(session, 13, owner=csm, due=((0, 10), (0, 3))),  # the 10-day one is superseded
        "moved": _review(session, 14, owner=csm, sequence=1, due=((0, 10),)),  # planned for an older slot
        "started": _review(session, 15, owner=csm, starts_at=NOW - timedelta(minutes=5)),
        "held": _review(session, 16, owner=csm, status="held"),
        "unowned": _review(session, 17, owner=None),
        "raised": _review(session, 18, owner=csm),
    }
    remind(session, kind="review_reminder", assignee=csm, account_id=None, due_at=NOW, reason="by hand",
           dedupe_key=f"review:{ids['raised']}:lead:10:seq:0", now=NOW)
    return ids


def _snapshot(session: Session) -> dict[str, Any]:
    """Everything the sweep writes, keyed by what does not depend on insertion order (no row ids)."""
    fresh = {"populate_existing": True}
    reminders = {r.id: r for r in session.scalars(select(Reminder).execution_options(**fresh))}
    return {
        "reminders": {r.dedupe_key: (r.kind, r.account_id, r.assignee_id, r.due_at, r.reason, r.status, r.subject,
                                     r.details, r.created_at, r.closed_at) for r in reminders.values()},
        "messages": {m.dedupe_key: (m.channel, m.recipient, m.subject, m.body_text, m.body_html, m.attachments,
                                    reminders[m.reminder_id].dedupe_key, m.status, m.attempts, m.next_attempt_at,
                                    m.created_at) for m in session.scalars(select(OutboxMessage)
                                                                           .execution_options(**fresh))},
        "rows": {(r.review_id, r.sequence, r.lead_days): (r.status, r.sent_at)
                 for r in session.scalars(select(ReviewReminder).execution_options(**fresh))},
    }


def test_a_batch_writes_exactly_what_sending_its_rows_one_at_a_time_writes(session) -> None:
    ids = _world(session)
    due = len(session.scalars(select(ReviewReminder.id)).all())

    nested = session.begin_nested()
    batch = send_due_reminders(session, now=NOW, limit=500)
    in_batch = _snapshot(session)
    nested.rollback()

    nested = session.begin_nested()
    singles = [send_due_reminders(session, now=NOW, limit=1) for _ in range(due + 1)]
    one_by_one = _snapshot(session)
    nested.rollback()

    assert singles[-1].claimed == 0 and sum(s.claimed for s in singles) == batch.claimed == due
    assert (batch.sent, batch.skipped, batch.superseded) == (
        sum(s.sent for s in singles), sum(s.skipped for s in singles), sum(s.superseded for s in singles))
    assert in_batch == one_by_one
    assert (batch.sent, batch.skipped, batch.superseded) == (10, 5, 1)
    reasons = {key: row[4] for key, row in in_batch["reminders"].items()}
    assert reasons[f"review:{ids['plain1']}:lead:10:seq:0"] == (
        "Review 1 with Acme 1 is in 10 days: Thu 11 Mar 2027 09:00 Europe/Paris.")
    assert reasons[f"review:{ids['new_york']}:lead:10:seq:0"] == (  # same instant, its own zone's phrase
        "Review 1 with Acme 10 is in 10 days: Thu 11 Mar 2027 03:00 America/New_York.")
    assert reasons[f"review:{ids['no_region']}:lead:10:seq:0"] == (
        "Review 2 with Acme 11 is in 11 days: Fri 12 Mar 2027 08:30 UTC.")
    assert reasons[f"review:{ids['tomorrow']}:lead:10:seq:0"] == (
        "Review 0 with Acme 12 is tomorrow: Tue 02 Mar 2027 09:00 Europe/Paris.")
    mail = in_batch["messages"][f"email:review:{ids['tomorrow']}:lead:10:seq:0"]
    assert mail[:6] == ("email", "am@x.example", "Prepare: Review 0 with Acme 12", reasons[mail[6]], None, [])
    rows = in_batch["rows"]
    assert rows[(ids["two_leads"], 0, 10)] == ("superseded", None)
    assert rows[(ids["two_leads"], 0, 3)] == ("sent", NOW)
    assert {rows[(ids[k], 0, 10)][0] for k in ("moved", "started", "held", "unowned", "raised")} == {"skipped"}


def _seed(n: int) -> None:
    with db.transaction() as session:
        csm = TeamMember(email="csm@x.example", name="Camille", role=Role.csm)
        session.add(csm)
        session.flush()
        for i in range(n):
            _review(session, i, owner=csm)


def _counts() -> tuple[int, int, dict[str, int]]:
    with db.transaction(writer=False) as session:
        keys = session.scalars(select(Reminder.dedupe_key)).all()
        mails = session.scalars(select(OutboxMessage.dedupe_key)).all()
        states: dict[str, int] = {}
        for status in session.scalars(select(ReviewReminder.status)):
            states[status] = states.get(status, 0) + 1
    assert len(set(keys)) == len(keys) and len(set(mails)) == len(mails)
    return len(keys), len(mails), states


def test_a_batch_that_fails_after_its_claim_loses_and_duplicates_nothing(db_url, monkeypatch) -> None:
    _seed(7)
    with db.transaction() as session:
        assert send_due_reminders(session, now=NOW, limit=3).sent == 3

    def crash(session: Session, rows: Any) -> None:  # the reminders are written, their messages are not
        raise RuntimeError("the process died mid-batch")

    real = notify_repository.insert_messages
    monkeypatch.setattr(notify_repository, "insert_messages", crash)
    with pytest.raises(RuntimeError), db.transaction() as session:
        send_due_reminders(session, now=NOW, limit=3)
    assert _counts() == (3, 3, {"sent": 3, "pending": 4})  # the claim and the reminders rolled back with it

    monkeypatch.setattr(notify_repository, "insert_messages", real)
    result = review_jobs.send_review_reminders(
        JobContext(now=NOW, actor=Actor(ActorKind.scheduler, "test")))
    assert result == {"sent": 4}
    assert _counts() == (7, 7, {"sent": 7})
    assert review_jobs.send_review_reminders(
        JobContext(now=NOW, actor=Actor(ActorKind.scheduler, "test"))) == {"sent": 0}
