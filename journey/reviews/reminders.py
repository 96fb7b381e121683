"""What the scheduler's review jobs do: send due reminders once, mark past reviews missed and escalate.

Each call is one batch inside the caller's transaction: rows are claimed in one SQL statement
(`FOR UPDATE SKIP LOCKED` on PostgreSQL, `BEGIN IMMEDIATE` on SQLite) and their reminders written in the
same transaction, so a crash sends nothing twice and loses nothing; the job calls again until a batch
comes back short.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

import structlog
from sqlalchemy.orm import Session

from journey.calendar import calendar_for
from journey.models import Account, Review, TeamMember
from journey.notify import service as notify
from journey.reviews import domain, repository

log = structlog.get_logger("journey.reviews")
_STATUS = {status.value: status for status in domain.ReviewStatus}  # a dict lookup: the enum's call is 10x slower
BATCH = 500  # reminders per transaction: set-based; on SQLite a batch holds the write lock ~25 ms (quiet 2 cores)


@dataclass(frozen=True)
class Sweep:
    claimed: int
    sent: int
    skipped: int
    superseded: int


def send_due_reminders(session: Session, *, now: datetime, limit: int = BATCH) -> Sweep:
    """Claim up to `limit` due reminder rows; send the ones still meaningful through `notify.remind_many`.

    Set-based: one claim, one read of the reviews with their accounts, owners and nearest due lead times,
    then the reminders and their outbox messages in multi-row inserts. The sentence's time phrase is
    rendered once per distinct (start, calendar) of the batch and filled in per row."""
    claimed = repository.claim_due_reminders(session, now=now, limit=limit)
    if not claimed:
        return Sweep(0, 0, 0, 0)
    facts = repository.reminder_facts(session, {row[1] for row in claimed}, now=now)
    clocks = {review_id: domain.ReviewClock(_STATUS[fact.status], fact.sequence, fact.starts_at)
              for review_id, fact in facts.items()}  # a review that is gone has none
    outcome: dict[domain.ReminderVerdict, list[int]] = defaultdict(list)
    to_send: dict[int, notify.Reminding] = {}
    whens: dict[tuple[datetime, str | None, str | None], str] = {}
    for reminder_id, review_id, lead, sequence in claimed:
        fact = facts.get(review_id)  # None: the review is gone (skipped)
        verdict = domain.reminder_verdict(lead_days=lead, sequence=sequence, review=clocks.get(review_id), now=now,
                                          nearest_due_lead=fact.nearest_due_lead if fact else None)
        if verdict is domain.ReminderVerdict.SEND:
            assert fact is not None
            if fact.owner_id is None or fact.owner_email is None:  # nobody owns the review
                verdict = domain.ReminderVerdict.SKIP
            else:
                owner = notify.Recipient(fact.owner_id, fact.owner_email)
                to_send[reminder_id] = _reminding(fact, owner, lead, sequence, now, whens)
                continue
        outcome[verdict].append(reminder_id)
    created = notify.remind_many(session, list(to_send.values()), now=now)
    for reminder_id, item in to_send.items():  # a reminder already raised (a replayed row) is skipped
        outcome[domain.ReminderVerdict.SEND if item.dedupe_key in created else domain.ReminderVerdict.SKIP
                ].append(reminder_id)
    repository.set_reminder_status(session, outcome[domain.ReminderVerdict.SKIP], "skipped")
    repository.set_reminder_status(session, outcome[domain.ReminderVerdict.SUPERSEDE], "superseded")
    return Sweep(len(claimed), len(outcome[domain.ReminderVerdict.SEND]), len(outcome[domain.ReminderVerdict.SKIP]),
                 len(outcome[domain.ReminderVerdict.SUPERSEDE]))


def _reminding(fact: repository.ReminderFact, owner: notify.Recipient, lead: int, sequence: int, now: datetime,
               whens: dict[tuple[datetime, str | None, str | None], str]) -> notify.Reminding:
    """The review reminder for one claimed row; `whens` holds the batch's time phrases already rendered."""
    assert fact.starts_at is not None  # an active review that has not started has a time
    key = (fact.starts_at, fact.region, fact.timezone)
    if (when := whens.get(key)) is None:
        when = whens[key] = domain.reminder_when(starts_at=fact.starts_at, now=now,
                                                 calendar=calendar_for(fact.region, fact.timezone))
    reason = domain.reminder_sentence(title=fact.title, account=fact.account_name, when=when)
    subject = f"{fact.title} with {fact.account_name}"
    return notify.Reminding(
        kind="review_reminder", assignee=owner, account_id=fact.account_id, due_at=fact.starts_at, reason=reason,
        subject=subject, dedupe_key=f"review:{fact.id}:lead:{lead}:seq:{sequence}",
        details={"review_id": fact.id, "lead_days": lead, "sequence": sequence},
        message=notify.Message(subject=f"Prepare: {subject}", body_text=reason))


def mark_missed_reviews(session: Session, *, now: datetime, limit: int = BATCH) -> list[int]:
    """Reviews whose time passed without an outcome become missed; recent ones are escalated."""
    missed = repository.claim_missed(session, ended_before=domain.missed_before(now), now=now, limit=limit)
    if not missed:
        return []
    reviews = repository.by_ids(session, missed)
    accounts = repository.accounts_by_ids(session, {r.account_id for r in reviews.values()})
    managers = list(repository.active_managers(session))
    owners = repository.members_by_ids(session, {a.csm_id or a.am_id for a in accounts.values()})
    escalations = []
    for review in reviews.values():
        if review.ends_at is None or not domain.should_escalate(review.ends_at, now):
            continue
        account = accounts[review.account_id]
        owner = owners.get(account.csm_id or account.am_id)  # type: ignore[arg-type]
        escalations += [_escalation(review=review, account=account, manager=person, owner=owner, now=now)
                        for person in managers or ([owner] if owner else [])]
    notify.remind_many(session, escalations, now=now)
    log.info("reviews.missed", count=len(missed))
    return missed


def _escalation(*, review: Review, account: Account, manager: TeamMember, owner: TeamMember | None,
                now: datetime) -> notify.Reminding:
    calendar = calendar_for(account.region, account.timezone)
    assert review.ends_at is not None and review.starts_at is not None
    days = (calendar.local_date(now) - calendar.local_date(review.starts_at)).days
    who = f"{owner.name} (CSM)" if owner else "nobody (no CSM or AM on the account)"
    reason = (f"The {review.title} with {account.name} was due on {review.due_on:%d %b %Y}, {days} days ago, "
              f"and no outcome was recorded. Owner: {who}.")
    return notify.Reminding(
        kind="review_missed", assignee=manager, account_id=account.id, due_at=now, reason=reason,
        subject=f"Missed: {review.title} - {account.name}",
        dedupe_key=f"review:{review.id}:missed:{review.sequence}:{manager.id}",
        details={"review_id": review.id, "owner_id": owner.id if owner else None},
        message=notify.Message(subject=f"Missed review: {account.name}", body_text=reason))
