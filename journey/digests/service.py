"""The weekly digests, as data: the e-mail of Monday morning and the /digest page show the same thing.

- A CSM's or AM's own: their accounts with health and 7-day trend, what changed band this week, their
  reminders due within 7 days, their overdue tasks and the reviews of their accounts in the next 14 days.
- A manager's, of the team: per person, accounts red / yellow / unknown, overdue tasks, reviews due in
  the next 14 days and open expansion reminders, worst first.

Queued in the caller's transaction (outbox), one e-mail per person and ISO week whatever the number of runs.
"""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from journey.digests import repository
from journey.health import repository as health_repository
from journey.models import TeamMember
from journey.notify import emails
from journey.notify.service import enqueue

REVIEW_DAYS = 14
DUE_DAYS = 7


def member_digest(session: Session, *, member: TeamMember, now: datetime) -> dict[str, Any]:
    today, week_ago = now.date(), now - timedelta(days=7)
    rows = repository.book_with_health(session, member.id)
    before = health_repository.scores_days_ago(session, [r.id for r in rows], today - timedelta(days=7))
    accounts = [{"id": r.id, "name": r.name, "score": r.score, "band": r.band,
                 "trend7": None if r.score is None or r.id not in before else r.score - before[r.id][1]} for r in rows]
    changed = [{"id": r.id, "name": r.name, "score": r.score, "band": r.band, "previous_band": r.previous_band}
               for r in rows if r.previous_band and r.band_changed_at and r.band_changed_at >= week_ago]
    due = [{"due_on": r.due_at.date().isoformat(), "reason": r.reason}
           for r in repository.open_reminders_due(session, member.id, until=now + timedelta(days=DUE_DAYS))]
    overdue = [{"title": t.title, "due_on": t.due_on.isoformat(), "days": (today - t.due_on).days,
                "account": {"id": t.account_id, "name": t.account_name}}
               for t in repository.overdue_tasks(session, member.id, today=today)]
    reviews = [{"title": r.title, "due_on": r.due_on.isoformat(), "status": r.status,
                "in_days": (r.due_on - today).days, "account": {"id": r.account_id, "name": r.account_name}}
               for r in repository.reviews_due(session, member.id, today=today,
                                               until=today + timedelta(days=REVIEW_DAYS))]
    return {"member": {"name": member.name}, "accounts": accounts, "changed": changed, "due": due,
            "overdue": overdue, "reviews": reviews, "review_days": REVIEW_DAYS}


def team_digest(session: Session, *, now: datetime) -> dict[str, Any]:
    today, until = now.date(), now.date() + timedelta(days=REVIEW_DAYS)
    bands = repository.band_counts(session)
    overdue = repository.overdue_counts(session, today=today)
    reviews = repository.review_counts(session, today=today, until=until)
    expansion = repository.open_expansion_counts(session)
    people = []
    for m in repository.digest_members(session):
        mine = bands.get(m.id, {})
        people.append({"id": m.id, "name": m.name, "role": m.role.value, "accounts": sum(mine.values()),
                       "red": mine.get("red", 0), "yellow": mine.get("yellow", 0), "unknown": mine.get("unknown", 0),
                       "overdue": overdue.get(m.id, 0), "reviews": reviews.get(m.id, 0),
                       "expansion": expansion.get(m.id, 0)})
    people.sort(key=lambda p: (-p["red"], -p["overdue"], -p["yellow"], p["name"]))
    totals = repository.team_totals(session, today=today, until=until)  # an account is its CSM's and its AM's
    totals |= {k: sum(p[k] for p in people) for k in ("overdue", "expansion")}  # a task, a reminder: one person's
    return {"people": people, "totals": totals, "review_days": REVIEW_DAYS}


def _week(now: datetime) -> str:
    year, week, _ = now.isocalendar()
    return f"{year}-W{week:02d}"


def queue_member_digest(session: Session, *, member_id: int, now: datetime) -> int:
    """This week's digest of the member's book, once per ISO week; 1 if it was new."""
    member = session.get_one(TeamMember, member_id)
    digest = member_digest(session, member=member, now=now)
    subject = f"Your week: {len(digest['accounts'])} accounts, {len(digest['changed'])} changed band"
    if digest["overdue"]:
        subject += f", {len(digest['overdue'])} overdue task{'s' if len(digest['overdue']) != 1 else ''}"
    message = emails.render("digest", subject=subject, **digest)
    created = enqueue(session, channel="email", recipient=member.email, message=message,
                      dedupe_key=f"digest:{member_id}:{_week(now)}", now=now)
    return 0 if created is None else 1


def queue_team_digest(session: Session, *, manager_id: int, now: datetime) -> int:
    """This week's team digest for a manager, once per ISO week; 1 if it was new."""
    manager = session.get_one(TeamMember, manager_id)
    digest = team_digest(session, now=now)
    totals = digest["totals"]
    subject = (f"Your team's week: {totals['red']} red, {totals['overdue']} overdue tasks, "
               f"{totals['reviews']} reviews in {REVIEW_DAYS} days")
    message = emails.render("team_digest", subject=subject, member={"name": manager.name}, **digest)
    created = enqueue(session, channel="email", recipient=manager.email, message=message,
                      dedupe_key=f"team-digest:{manager_id}:{_week(now)}", now=now)
    return 0 if created is None else 1
