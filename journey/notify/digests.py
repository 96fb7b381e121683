"""The weekly digest per person (scheduler job, Monday morning): their accounts with health, what changed
band this week, what is due. One e-mail per person and ISO week, whatever the number of runs."""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from journey import db


def send_weekly_digests(now: datetime) -> dict[str, int]:
    """Queue this week's digest for every CSM / AM with a book; how many were new."""
    from journey.notify import repository

    with db.transaction(writer=False) as session:
        member_ids = [m.id for m in repository.digest_members(session)]
    queued = 0
    for member_id in member_ids:
        with db.transaction() as session:
            queued += queue_digest(session, member_id=member_id, now=now)
    return {"members": len(member_ids), "queued": queued}


def queue_digest(session: Any, *, member_id: int, now: datetime) -> int:
    from journey.health import repository as health_repository
    from journey.models import TeamMember
    from journey.notify import emails, repository
    from journey.notify.service import enqueue

    member = session.get_one(TeamMember, member_id)
    week_ago = now - timedelta(days=7)
    rows = repository.book_with_health(session, member_id)
    before = health_repository.scores_days_ago(session, [r.id for r in rows], (now - timedelta(days=7)).date())
    accounts = [{"id": r.id, "name": r.name, "score": r.score, "band": r.band,
                 "trend7": None if r.score is None or r.id not in before else r.score - before[r.id][1]} for r in rows]
    changed = [{"id": r.id, "name": r.name, "score": r.score, "band": r.band, "previous_band": r.previous_band}
               for r in rows if r.previous_band and r.band_changed_at and r.band_changed_at >= week_ago]
    due = [{"due_on": r.due_at.date().isoformat(), "reason": r.reason}
           for r in repository.open_reminders_due(session, member_id, until=now + timedelta(days=7))]
    year, week, _ = now.isocalendar()
    message = emails.render("digest", subject=f"Your week: {len(accounts)} accounts, {len(changed)} changed band",
                            member={"name": member.name}, accounts=accounts, changed=changed, due=due)
    created = enqueue(session, channel="email", recipient=member.email, message=message,
                      dedupe_key=f"digest:{member_id}:{year}-W{week:02d}", now=now)
    return 0 if created is None else 1
