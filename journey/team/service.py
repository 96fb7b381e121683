"""Team members and API tokens: create and change members (deactivating ends their access), allow them to
sign in, create, list and revoke tokens, find who a token belongs to."""
from __future__ import annotations

from datetime import datetime, timedelta
from functools import cache
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy.orm import Session

from journey import audit, policy
from journey.audit import Actor
from journey.config import get_settings
from journey.errors import Conflict, InvalidInput, NotFound, Unauthorized
from journey.kit import new_token, token_digest, utcnow
from journey.models import ApiToken, Role, TeamMember
from journey.policy import Action
from journey.team import domain, repository
from journey.team.domain import TokenState, TokenView

ROSTER_FIELDS = frozenset({"segments", "regions", "languages", "capacity_accounts", "capacity_arr", "active"})

_hasher = PasswordHasher()


@cache
def _no_such_hash() -> str:
    """Verified for unknown emails, so they cost what a known one does; hashed on first use (~0.1 s), not at import."""
    return _hasher.hash("journey: no member has this password")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def create_member(session: Session, *, email: str, name: str, role: str, password: str | None = None,
                  timezone: str = "UTC", password_hash: str | None = None) -> TeamMember:
    """`password_hash`: one made by `hash_password` (the demo team shares one: argon2 costs ~0.1 s a hash)."""
    try:
        role_value = Role(role.lower())
    except ValueError as exc:
        raise InvalidInput(f"role must be one of {', '.join(r.value for r in Role)}") from exc
    if "@" not in email:
        raise InvalidInput(f"{email!r} is not an email address")
    if repository.by_email(session, email) is not None:
        raise Conflict(f"a team member with email {email.lower()} already exists")
    if password is not None and len(password) < 10:
        raise InvalidInput("a password needs at least 10 characters")
    member = TeamMember(email=email.lower(), name=name, role=role_value, timezone=timezone,
                        password_hash=_hasher.hash(password) if password else password_hash,
                        segments=[], regions=[], languages=[], active=True, can_sign_in=True)
    session.add(member)
    session.flush()
    return member


def update_member(session: Session, *, target: TeamMember, changes: dict[str, Any], by: TeamMember | None,
                  actor: Actor) -> TeamMember:
    """Set roster fields of `target` and/or (de)activate them, as `by` (None: the operator's command line).

    `journey.policy` says who: managers change the staff, only admins change managers and admins (403).
    The last active admin is never deactivated (409 `last_admin`), whoever asks. Deactivating revokes the
    member's API tokens and ends their sessions (`set_active`).
    """
    unknown = set(changes) - ROSTER_FIELDS
    if unknown:
        raise InvalidInput(f"cannot change {', '.join(sorted(unknown))} here")
    resource = policy.Resource.member(f"team member {target.id}", role=target.role)
    if by is not None and set(changes) - {"active"}:
        policy.require(by, Action.edit_member, resource)
    if by is not None and "active" in changes:
        policy.require(by, Action.deactivate_member, resource)
    if changes.get("active") is False:
        policy.check_deactivation(target.role, target_active=target.active,
                                  active_admins=len(repository.active_admin_ids(session)))
    for key, value in changes.items():
        if key == "active":
            set_active(session, member=target, active=bool(value), now=utcnow())
        else:
            setattr(target, key, value)
    audit.record(session, actor=actor, action="roster.updated", subject=f"member {target.email}"[:200],
                 changes={k: v if isinstance(v, (bool, int, list)) or v is None else str(v)
                          for k, v in changes.items()})
    session.flush()
    return target


def ensure_member(session: Session, *, email: str, name: str | None, role: Role) -> TeamMember:
    """The member with this email, created with `role` if the CRM names someone we do not know yet.

    Anyone can put an email in a CRM deal, so a member created this way may not sign in until an admin allows
    it (`journey users enable`), unless their domain is in JOURNEY_ALLOWED_EMAIL_DOMAINS.
    """
    member = repository.by_email(session, email)  # usually known already: one read, no write
    if member is not None:
        return member
    allowed = email.rsplit("@", 1)[-1].lower() in get_settings().allowed_domains
    repository.insert_if_new(session, email=email, name=name or email.split("@")[0], role=role,
                             can_sign_in=allowed)
    member = repository.by_email(session, email)
    assert member is not None
    return member


def set_sign_in(session: Session, *, email: str, allowed: bool, actor: Actor) -> TeamMember:
    """Give a member the right to sign in, or take it away (their sessions and tokens stop working at once)."""
    member = repository.by_email(session, email.strip())
    if member is None:
        raise NotFound(f"no team member with email {email.strip().lower()}")
    if member.can_sign_in != allowed:
        member.can_sign_in = allowed
        audit.record(session, actor=actor, action="member.sign_in_enabled" if allowed else "member.sign_in_disabled",
                     subject=member.email)
        session.flush()
    return member


class TokenExpired(Unauthorized):
    code = "token_expired"


class TokenRevoked(Unauthorized):
    code = "token_revoked"


class SignInDisabled(Unauthorized):
    code = "sign_in_disabled"


BEARER = {"WWW-Authenticate": "Bearer"}


def create_token(session: Session, *, email: str, label: str = "cli", days: int | None = None,
                 now: datetime | None = None) -> str:
    """A new API token for the member, valid `days` (JOURNEY_TOKEN_DAYS by default); only its digest is
    stored, so it is shown once."""
    member = repository.by_email(session, email)
    if member is None:
        raise NotFound(f"no team member with email {email.lower()}")
    if not member.active:
        raise Conflict(f"{member.email} is deactivated: reactivate them before giving them a token")
    if not member.can_sign_in:
        raise Conflict(f"{member.email} may not sign in yet: journey users enable --email {member.email}")
    days = get_settings().token_days if days is None else days
    if not 1 <= days <= 3650:
        raise InvalidInput("a token lives from 1 to 3650 days")
    now = now or utcnow()
    token = new_token()
    session.add(ApiToken(member_id=member.id, digest=token_digest(token), label=label, created_at=now,
                         expires_at=now + timedelta(days=days), hint=domain.token_hint(token)))
    session.flush()
    return token


def authenticate_token(session: Session, *, token: str, now: datetime) -> tuple[TeamMember, ApiToken]:
    """The member a bearer token acts as, and the token; 401 with a code saying why when it does not work."""
    found = repository.token_by_digest(session, token_digest(token))
    if found is None:
        raise Unauthorized("unknown token (journey tokens create --email ...)", headers=BEARER)
    row, member = found
    state = domain.token_state(expires_at=row.expires_at, revoked_at=row.revoked_at, now=now)
    if state == TokenState.revoked or not member.active:
        raise TokenRevoked("this token was revoked: ask an admin for a new one", headers=BEARER)
    if not member.can_sign_in:
        raise SignInDisabled(f"{member.email} may not sign in (journey users enable)", headers=BEARER)
    if state == TokenState.expired:
        raise TokenExpired(f"this token expired on {row.expires_at:%Y-%m-%d}: ask an admin for a new one",
                           headers=BEARER)
    return member, row


def touch_token(session: Session, *, token_id: int, now: datetime) -> None:
    repository.touch_token(session, token_id, now)


def list_tokens(session: Session, *, email: str | None = None, now: datetime) -> list[TokenView]:
    member_id = None
    if email is not None:
        member = repository.by_email(session, email)
        if member is None:
            raise NotFound(f"no team member with email {email.lower()}")
        member_id = member.id
    return [TokenView(id=t.id, email=owner, label=t.label, token=domain.shown(t.hint), created_at=t.created_at,
                      expires_at=t.expires_at, last_used_at=t.last_used_at, revoked_at=t.revoked_at,
                      state=domain.token_state(expires_at=t.expires_at, revoked_at=t.revoked_at, now=now))
            for t, owner in repository.tokens(session, member_id=member_id)]


def revoke_token(session: Session, *, token_id: int, actor: Actor, now: datetime) -> bool:
    """Revoke one token; False when it already was."""
    token = repository.token_by_id(session, token_id)
    if token is None:
        raise NotFound(f"no API token {token_id}")
    if token.revoked_at is not None:
        return False
    token.revoked_at = now
    audit.record(session, actor=actor, action="token.revoked", subject=f"token {token_id}")
    session.flush()
    return True


def revoke_member_tokens(session: Session, *, email: str, actor: Actor, now: datetime) -> int:
    """Revoke every token of a member; how many were still unrevoked."""
    member = repository.by_email(session, email)
    if member is None:
        raise NotFound(f"no team member with email {email.lower()}")
    count = repository.revoke_member_tokens(session, member.id, now)
    audit.record(session, actor=actor, action="token.revoked", subject=f"member {member.email}"[:200], count=count)
    return count


def set_active(session: Session, *, member: TeamMember, active: bool, now: datetime) -> None:
    """Activate or deactivate a member (who may: `update_member`). Deactivating revokes their API tokens and
    ends their browser sessions and sign-in links, so reactivating them later revives none of those."""
    if not active:
        repository.revoke_member_tokens(session, member.id, now)
        repository.end_member_sign_ins(session, member.id)
    member.active = active
    session.flush()


def authenticate(session: Session, *, email: str, password: str) -> TeamMember | None:
    """The active member with this email and password, or None; as slow for an unknown email as a known one.

    A hash made with older argon2 parameters is upgraded in the caller's transaction.
    """
    member = repository.by_email(session, email.strip())
    if member is None or not member.active or not member.can_sign_in or not member.password_hash:
        _verify(_no_such_hash(), password)
        return None
    if not _verify(member.password_hash, password):
        return None
    if _hasher.check_needs_rehash(member.password_hash):
        member.password_hash = _hasher.hash(password)
        session.flush()
    return member


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False
