"""The account page's share of plans worked together: comments per task, share links, the activity feed."""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy.orm import Session

from journey.kit import utcnow
from journey.models import Account, AuditEntry, TaskComment
from journey.onboarding.schemas import PlanRead
from journey.portal import domain as portal_domain
from journey.worked import repository


def context(session: Session, account: Account, plan: PlanRead | None) -> dict[str, Any]:
    task_ids = [t.id for m in (plan.milestones if plan else []) for t in m.tasks]
    comments: dict[int, list[TaskComment]] = {}
    for c in repository.comments_of(session, task_ids):
        comments.setdefault(c.task_id, []).append(c)
    now = utcnow()
    shared = [(link, portal_domain.state_of(expires_at=link.expires_at, revoked_at=link.revoked_at, now=now))
              for link in repository.share_links_of(session, account.id)]
    activity = repository.activity(session, account.id, limit=30)
    return {"comments": comments, "activity": activity, "share_links": shared,
            "activity_subjects": subjects(activity, plan)}


def subjects(entries: Sequence[AuditEntry], plan: PlanRead | None) -> dict[int, str]:
    """How the activity feed names what an entry was about: a task by its title ("task kickoff_call" ->
    "Kickoff call"), not its internal key; entries about anything else keep their subject."""
    titles = {f"task {t.key}": t.title for m in (plan.milestones if plan else []) for t in m.tasks}
    return {e.id: titles[e.subject] for e in entries if e.subject in titles}


