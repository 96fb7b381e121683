"""Tasks worked together: `POST|GET /api/tasks/{id}/comments`, `GET /api/accounts/{id}/activity`."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel

from journey import db
from journey.accounts.access import account_for
from journey.audit import Actor
from journey.deps import CurrentMember, ReadSession, RowId
from journey.kit import utcnow
from journey.models import TaskComment
from journey.onboarding.schemas import CommentCreate, CommentRead
from journey.policy import Action
from journey.worked import repository, tasks

router = APIRouter(prefix="/api", tags=["onboarding"])


class ActivityRead(BaseModel):
    at: datetime
    actor: str
    actor_kind: str
    action: str
    subject: str | None
    details: dict[str, Any]


class ActivityPage(BaseModel):
    items: list[ActivityRead]


def comment_read(c: TaskComment) -> CommentRead:
    return CommentRead(id=c.id, task_id=c.task_id, at=c.at, author=c.author, author_kind=c.author_kind,
                       body=c.body, mentions=list(c.mentions), shared=c.shared)


@router.post("/tasks/{task_id}/comments", response_model=CommentRead, status_code=201)
def post_comment(task_id: RowId, body: CommentCreate, member: CurrentMember) -> CommentRead:
    """Comment on a task (plain text); each active member @mentioned (`@ana` or `@ana@vendor.example`)
    gets a reminder and an email; `shared` shows it to the customer on the shared plan. The account's owners
    and sellers, managers and admins."""
    with db.transaction() as session:
        task, account_id = tasks.task_of_member(session, task_id, member, Action.comment_task)
        comment = tasks.add_comment(session, task=task, account_id=account_id, body=body.body,
                                    actor=Actor.user(member.email), now=utcnow(), shared=body.shared)
        return comment_read(comment)


@router.get("/tasks/{task_id}/comments", response_model=list[CommentRead])
def get_comments(task_id: RowId, session: ReadSession, member: CurrentMember) -> list[CommentRead]:
    """The task's comments, oldest first, the customer's (through the shared plan) included."""
    tasks.task_of_member(session, task_id, member, Action.view_account)
    return [comment_read(c) for c in repository.comments_of(session, [task_id])]


@router.get("/accounts/{ref}/activity", response_model=ActivityPage)
def get_activity(ref: str, session: ReadSession, member: CurrentMember) -> ActivityPage:
    """Who did what on the account and when (its audit trail), newest first, the last 50."""
    account = account_for(session, ref, member)
    return ActivityPage(items=[ActivityRead(at=e.at, actor=e.actor, actor_kind=str(e.actor_kind), action=e.action,
                                            subject=e.subject, details=e.details)
                               for e in repository.activity(session, account.id)])
