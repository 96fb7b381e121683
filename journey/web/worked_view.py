"""The account page's share of plans worked together: comments per task, share links, the activity feed."""
from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from journey.kit import utcnow
from journey.models import Account, TaskComment
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
    return {"comments": comments, "activity": repository.activity(session, account.id, limit=30),
            "share_links": shared}


