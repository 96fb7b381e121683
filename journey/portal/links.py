"""Use cases of share links: invite a customer stakeholder (the link is emailed to them and shown once to
the CSM), list, renew and revoke; and resolve a token to its link (410 once revoked or expired)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from journey import audit
from journey.audit import Actor
from journey.db import insert_ignoring_duplicates
from journey.errors import Conflict, Gone, InvalidInput, NotFound
from journey.models import Account, OutboxMessage, ShareLink
from journey.portal import domain
from journey.worked import repository


@dataclass(frozen=True)
class Issued:
    link: ShareLink
    url: str


def invite(session: Session, *, account: Account, email: str, name: str, days: int | None, base_url: str | None,
           actor: Actor, now: datetime) -> Issued:
    """A new link for the stakeholder, emailed to them; 409 without JOURNEY_PUBLIC_BASE_URL (links are never
    built from the request's Host header, which anyone sets)."""
    if base_url is None:
        raise Conflict("sharing the plan needs JOURNEY_PUBLIC_BASE_URL (the address customers open journey at)")
    email, name = email.strip(), name.strip()
    if "@" not in email or not name:
        raise InvalidInput("a stakeholder needs an email and a name")
    token = domain.new_token()
    link = ShareLink(account_id=account.id, email=email, name=name, token_digest=token.digest,
                     created_by=actor.label, created_at=now, expires_at=now + domain.lifetime(days))
    session.add(link)
    session.flush()
    url = domain.link_url(base_url, token.token)
    body = (f"Hello {name},\n\n{actor.label} shared {account.name}'s success plan with you: the plan, its "
            f"objectives and the upcoming reviews.\n\nOpen it here (valid until {link.expires_at:%Y-%m-%d}):\n"
            f"{url}\n\nAnyone with this link can see and update the plan: keep it to yourself.\n")
    insert_ignoring_duplicates(session, OutboxMessage, channel="email", recipient=email,
                               subject=f"{account.name}: your success plan", body_text=body, body_html=None,
                               attachments=[], dedupe_key=f"email:share_link:{link.id}", reminder_id=None,
                               status="pending", attempts=0, next_attempt_at=now, created_at=now)
    audit.record(session, actor=actor, action="share_link.created", account_id=account.id,
                 subject=f"share link {link.id}", email=email, expires_at=link.expires_at.isoformat())
    return Issued(link=link, url=url)


def link_by_id(session: Session, link_id: int) -> ShareLink:
    link = session.get(ShareLink, link_id)
    if link is None:
        raise NotFound(f"no share link {link_id}")
    return link


def revoke(session: Session, *, link: ShareLink, actor: Actor, now: datetime) -> None:
    if link.revoked_at is None:
        link.revoked_at = now
        audit.record(session, actor=actor, action="share_link.revoked", account_id=link.account_id,
                     subject=f"share link {link.id}", email=link.email)
    session.flush()


def renew(session: Session, *, link: ShareLink, days: int | None, actor: Actor, now: datetime) -> None:
    if link.revoked_at is not None:
        raise Conflict("a revoked link stays revoked: invite the stakeholder again")
    link.expires_at = now + domain.lifetime(days)
    audit.record(session, actor=actor, action="share_link.renewed", account_id=link.account_id,
                 subject=f"share link {link.id}", expires_at=link.expires_at.isoformat())
    session.flush()


def resolve(session: Session, token: str, *, now: datetime) -> ShareLink:
    """The link of a token: 404 for one never issued, 410 once revoked or expired."""
    link = repository.share_link_by_digest(session, domain.digest_of(token)) if domain.plausible(token) else None
    if link is None:
        raise NotFound("this link does not exist: ask your contact for a new one")
    state = domain.state_of(expires_at=link.expires_at, revoked_at=link.revoked_at, now=now)
    if state != "active":
        raise Gone(f"this link was {state}: ask your contact for a new one")
    return link
