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
BATCH = 100  # reminders per transaction: on SQLite a batch holds the write lock ~0.5 s


@dataclass(frozen=True)
class Sweep:
    claimed: int
    sent: int
    skipped: int
    superseded: int


def send_due_reminders(session: Session, *, now: datetime, limit: int = BATCH) -> Sweep:
    """Claim up to `limit` due reminder rows; send the ones still meaningful through `notify.remind`."""
    claimed = repository.claim_due_reminders(session, now=now, limit=limit)
    if not claimed:
        return Sweep(0, 0, 0, 0)
    reviews = repository.by_ids(session, {row[1] for row in claimed})
    accounts = repository.accounts_by_ids(session, {r.account_id for r in reviews.values()})
    members = repository.members_by_ids(session, {a.csm_id or a.am_id for a in accounts.values()})
    nearest = repository.nearest_due_leads(session, review_ids=reviews.keys(), now=now)
    outcome: dict[domain.ReminderVerdict, list[int]] = defaultdict(list)
    for reminder_id, review_id, lead, sequence in claimed:
        review = reviews.get(review_id)
        clock = domain.ReviewClock(domain.ReviewStatus(review.status), review.sequence,
                                   review.starts_at) if review else None
        verdict = domain.reminder_verdict(lead_days=lead, sequence=sequence, review=clock, now=now,
                                          nearest_due_lead=nearest.get((review_id, sequence)))
        if verdict is domain.ReminderVerdict.SEND:
            account = accounts[review.account_id]  # type: ignore[union-attr]
            owner = members.get(account.csm_id or account.am_id)  # type: ignore[arg-type]
            if owner is None or not _remind(session, review=review, account=account, owner=owner,  # type: ignore[arg-type]
                                            lead=lead, sequence=sequence, now=now):
                verdict = domain.ReminderVerdict.SKIP
        outcome[verdict].append(reminder_id)
    repository.set_reminder_status(session, outcome[domain.ReminderVerdict.SKIP], "skipped")
    repository.set_reminder_status(session, outcome[domain.ReminderVerdict.SUPERSEDE], "superseded")
    return Sweep(len(claimed), len(outcome[domain.ReminderVerdict.SEND]), len(outcome[domain.ReminderVerdict.SKIP]),
                 len(outcome[domain.ReminderVerdict.SUPERSEDE]))


def _remind(session: Session, *, review: Review, account: Account, owner: TeamMember, lead: int, sequence: int,
            now: datetime) -> bool:
    calendar = calendar_for(account.region, account.timezone)
    assert review.starts_at is not None
    reason = domain.reminder_reason(title=review.title, account=account.name, starts_at=review.starts_at, now=now,
                                    calendar=calendar)
    subject = f"{review.title} with {account.name}"
    reminder_id = notify.remind(
        session, kind="review_reminder", assignee=owner, account_id=account.id, due_at=review.starts_at,
        reason=reason, subject=subject, now=now, dedupe_key=f"review:{review.id}:lead:{lead}:seq:{sequence}",
        details={"review_id": review.id, "lead_days": lead, "sequence": sequence},
        message=notify.Message(subject=f"Prepare: {subject}", body_text=reason))
    return reminder_id is not None


def mark_missed_reviews(session: Session, *, now: datetime, limit: int = BATCH) -> list[int]:
    """Reviews whose time passed without an outcome become missed; recent ones are escalated."""
    missed = repository.claim_missed(session, ended_before=domain.missed_before(now), now=now, limit=limit)
    if not missed:
        return []
    reviews = repository.by_ids(session, missed)
    accounts = repository.accounts_by_ids(session, {r.account_id for r in reviews.values()})
    managers = list(repository.active_managers(session))
    owners = repository.members_by_ids(session, {a.csm_id or a.am_id for a in accounts.values()})
    for review in reviews.values():
        session.refresh(review)
        if review.ends_at is None or not domain.should_escalate(review.ends_at, now):
            continue
        account = accounts[review.account_id]
        owner = owners.get(account.csm_id or account.am_id)  # type: ignore[arg-type]
        for person in managers or ([owner] if owner else []):
            _escalate(session, review=review, account=account, manager=person, owner=owner, now=now)
    log.info("reviews.missed", count=len(missed))
    return missed


def _escalate(session: Session, *, review: Review, account: Account, manager: TeamMember,
              owner: TeamMember | None, now: datetime) -> None:
    calendar = calendar_for(account.region, account.timezone)
    assert review.ends_at is not None and review.starts_at is not None
    days = (calendar.local_date(now) - calendar.local_date(review.starts_at)).days
    who = f"{owner.name} (CSM)" if owner else "nobody (no CSM or AM on the account)"
    reason = (f"The {review.title} with {account.name} was due on {review.due_on:%d %b %Y}, {days} days ago, "
              f"and no outcome was recorded. Owner: {who}.")
    notify.remind(session, kind="review_missed", assignee=manager, account_id=account.id, due_at=now, now=now,
                  reason=reason, subject=f"Missed: {review.title} - {account.name}",
                  dedupe_key=f"review:{review.id}:missed:{review.sequence}:{manager.id}",
                  details={"review_id": review.id, "owner_id": owner.id if owner else None},
                  message=notify.Message(subject=f"Missed review: {account.name}", body_text=reason))
