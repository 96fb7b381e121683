"""Use cases of browser sign-in: open and end a session, send and spend a one-time sign-in link."""
from __future__ import annotations

import secrets
from datetime import datetime, timedelta

import structlog
from sqlalchemy.orm import Session

from journey import audit
from journey.audit import Actor
from journey.db import insert_ignoring_duplicates
from journey.errors import NotFound
from journey.kit import token_digest
from journey.models import OutboxMessage, TeamMember
from journey.notify import repository as notify_repository
from journey.policy import Action, Resource, require
from journey.team import repository as team_repository
from journey.web import repository

log = structlog.get_logger("journey.web")
SESSION_LIFETIME = timedelta(days=14)
LINK_LIFETIME = timedelta(minutes=15)


def open_session(session: Session, *, member: TeamMember, user_agent: str | None, now: datetime,
                 method: str) -> str:
    """A new session for the member; the token goes in the cookie, only its digest is stored."""
    repository.delete_expired(session, now)
    token = secrets.token_urlsafe(32)
    repository.insert_session(session, digest=token_digest(token), member_id=member.id, now=now,
                              expires_at=now + SESSION_LIFETIME, user_agent=user_agent)
    audit.record(session, actor=Actor.user(member.email), action="member.signed_in", subject=member.email,
                 method=method)
    return token


def close_session(session: Session, *, token: str) -> None:
    repository.delete_session(session, token_digest(token))


def send_signin_link(session: Session, *, email: str, base_url: str, now: datetime, log_link: bool) -> bool:
    """Email a one-time link to an active member who may sign in; False (and nothing sent) for anyone else.

    The caller answers the same either way, so the form does not reveal who is on the team.
    """
    member = team_repository.by_email(session, email.strip())
    if member is None or not member.active or not member.can_sign_in:
        return False
    token = secrets.token_urlsafe(32)
    digest = token_digest(token)
    repository.insert_link(session, digest=digest, member_id=member.id, now=now, expires_at=now + LINK_LIFETIME)
    url = f"{base_url.rstrip('/')}/signin/link/{token}"
    minutes = int(LINK_LIFETIME.total_seconds() // 60)
    body = (f"Hello {member.name},\n\nSign in to journey with this link (valid {minutes} minutes, once):\n{url}\n\n"
            "If you did not ask for it, ignore this email: nobody can use it without your mailbox.\n")
    insert_ignoring_duplicates(session, OutboxMessage, channel="email", recipient=member.email,
                               subject="Your journey sign-in link", body_text=body, body_html=None, attachments=[],
                               dedupe_key=f"email:signin:{digest}", reminder_id=None, status="pending",
                               attempts=0, next_attempt_at=now, created_at=now)
    if log_link:  # development only: no mail server is needed to try the link
        log.info("signin.link (development only)", email=member.email, url=url)
    return True


def member_for_link(session: Session, *, token: str, now: datetime) -> TeamMember | None:
    return repository.member_for_link(session, token_digest(token), now)


def spend_link(session: Session, *, token: str, now: datetime) -> TeamMember | None:
    """The member the link signs in, once; None when it is unknown, expired or already used."""
    member_id = repository.spend_link(session, token_digest(token), now)
    if member_id is None:
        return None
    member = team_repository.by_id(session, member_id)
    return member if member is not None and member.active and member.can_sign_in else None


def close_reminder(session: Session, *, reminder_id: int, member: TeamMember, status: str, now: datetime) -> None:
    """Mark one of the member's own open reminders done or dismissed (someone else's is a 404)."""
    reminder = notify_repository.reminder(session, reminder_id)
    if reminder is None:
        raise NotFound(f"no reminder {reminder_id} for you")
    require(member, Action.close_reminder, Resource.reminder(f"reminder {reminder_id} for you",
                                                             assignee_id=reminder.assignee_id))
    if reminder.status != "open":
        return
    reminder.status, reminder.closed_at = status, now
    audit.record(session, actor=Actor.user(member.email), action=f"reminder.{status}",
                 account_id=reminder.account_id, subject=f"reminder {reminder_id}", kind=reminder.kind)
    session.flush()
