"""Use cases of working a plan task: move its due date with a reason, link its document, comment on it
(an @mentioned member is notified through the outbox). Services flush, never commit."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy.orm import Session

from journey import audit
from journey.accounts.access import account_for
from journey.audit import Actor
from journey.errors import InvalidInput, NotFound
from journey.models import Journey, PlanTask, TaskComment, TaskSlip, TeamMember
from journey.notify import service as notify_service
from journey.notify.service import Message
from journey.policy import Action
from journey.worked import domain, repository


def move_due(session: Session, *, task: PlanTask, account_id: int, new_due_on: date, reason: str | None,
             actor: Actor, now: datetime) -> bool:
    """Re-date one task; the move is recorded as a slip with its reason (422 without one)."""
    why = (reason or "").strip()
    if new_due_on == task.due_on:
        return False
    if not why:
        raise InvalidInput("say why the due date moves (reason)")
    session.add(TaskSlip(task_id=task.id, at=now, old_due_on=task.due_on, new_due_on=new_due_on, reason=why,
                         actor=actor.label))
    audit.record(session, actor=actor, action="task.due_moved", account_id=account_id, subject=f"task {task.key}",
                 old=str(task.due_on), new=str(new_due_on), reason=why)
    task.due_on = new_due_on
    return True


def link_document(session: Session, *, task: PlanTask, account_id: int, url: str, actor: Actor) -> bool:
    url = url.strip()
    if url and not domain.valid_document_url(url):
        raise InvalidInput("the document link must be an http(s) URL")
    if (url or None) == task.document_url:
        return False
    task.document_url = url or None
    audit.record(session, actor=actor, action="task.document_linked", account_id=account_id,
                 subject=f"task {task.key}", url=url or None)
    return True


def add_comment(session: Session, *, task: PlanTask, account_id: int, body: str, actor: Actor,
                now: datetime, shared: bool = False) -> TaskComment:
    """Store a plain-text comment; each active member a team member @mentions gets a reminder and an email.
    A customer's comment (through the shared plan) is always shared; a member's when `shared`."""
    text = domain.clean_comment(body)
    if text is None:
        raise InvalidInput(f"a comment is 1 to {domain.MAX_COMMENT} characters of text")
    customer = _kind(actor) == "customer"
    mentioned = [] if customer else domain.mentions_in(text, repository.active_member_emails(session))
    comment = TaskComment(task_id=task.id, account_id=account_id, at=now, author_kind=_kind(actor),
                          author=actor.label, body=text, mentions=mentioned, shared=shared or customer)
    session.add(comment)
    session.flush()
    audit.record(session, actor=actor, action="task.commented", account_id=account_id, subject=f"task {task.key}",
                 comment_id=comment.id, mentions=mentioned)
    for email in mentioned:
        _notify_mention(session, comment=comment, task=task, email=email, now=now)
    return comment


def _kind(actor: Actor) -> str:
    return "customer" if actor.kind == "customer" else "member"


def _notify_mention(session: Session, *, comment: TaskComment, task: PlanTask, email: str, now: datetime) -> None:
    member = repository.member_by_email(session, email)
    if member is None or member.email == comment.author:
        return
    reason = f"{comment.author} mentioned you on \u201c{task.title}\u201d: {comment.body[:300]}"
    notify_service.remind(
        session, kind="task_mention", assignee=member, account_id=comment.account_id, due_at=now, reason=reason,
        dedupe_key=f"task_mention:{comment.id}:{member.id}", now=now, subject=f"task {task.id}",
        message=Message(subject=f"You were mentioned on \u201c{task.title[:120]}\u201d", body_text=reason))


def task_of_member(session: Session, task_id: int, member: TeamMember, action: Action) -> tuple[PlanTask, int]:
    """The task and its account id, if the member sees the account (404) and may take `action` (403)."""
    task = session.get(PlanTask, task_id)
    journey = session.get(Journey, task.journey_id) if task else None
    if task is None or journey is None:
        raise NotFound(f"no task {task_id}")
    account_for(session, str(journey.account_id), member, action, missing=f"no task {task_id}")
    return task, journey.account_id
