"""The CSM's judgment on the record: set or clear an account's band by hand, with a reason and a last day.

The override is the band in force (reminders, alerts, KPIs and the book read it like a computed band)
until it lapses: the recompute puts it in force, removes a lapsed one and audits it, and reads treat it
as gone from the day after `expires_on`. Who may set one is `journey.policy` (`override_health`). Flushes, never
commits; `service.override_band` rescores the account at once.
"""
from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from journey import audit
from journey.accounts import access
from journey.audit import Actor
from journey.errors import InvalidInput, NotFound
from journey.health import domain
from journey.health import override_repository as repository
from journey.models import Account, HealthOverride, TeamMember
from journey.policy import Action

DEFAULT_DAYS = 30


def as_domain(row: HealthOverride) -> domain.Override:
    return domain.Override(row.band, row.reason, row.set_by, row.set_at, row.expires_on)


def in_force(session: Session, *, account_ids: Sequence[int], now: datetime,
             actor: Actor) -> dict[int, domain.Override]:
    """The overrides that hold today; the lapsed ones of these accounts are removed, each audited."""
    today = now.date()
    held, lapsed = {}, []
    for account_id, row in repository.overrides_of(session, account_ids).items():
        override = as_domain(row)
        if domain.override_in_force(override, today) is None:
            lapsed.append(account_id)
            audit.record(session, actor=actor, action="health.override_lapsed", account_id=account_id,
                         subject=override.band, expires_on=override.expires_on.isoformat(), set_by=override.set_by)
        else:
            held[account_id] = override
    if lapsed:
        repository.delete_overrides(session, lapsed)
    return held


def current(session: Session, *, account_id: int, now: datetime) -> domain.Override | None:
    """The override in force for a read (a lapsed one not yet removed counts for nothing)."""
    row = repository.overrides_of(session, [account_id]).get(account_id)
    return None if row is None else domain.override_in_force(as_domain(row), now.date())


def set_override(session: Session, *, account: Account, member: TeamMember, band: str, reason: str,
                 expires_on: Any = None, now: datetime, bands: Sequence[str]) -> domain.Override:
    """Put `band` in force for the account until `expires_on` (default in 30 days), audited."""
    access.require_on(session, account, member, Action.override_health)
    today = now.date()
    expires_on = expires_on or today + timedelta(days=DEFAULT_DAYS)
    problems = domain.check_override(band=band, reason=reason, expires_on=expires_on, today=today, bands=bands)
    if problems:
        raise InvalidInput("; ".join(problems))
    override = domain.Override(band, reason.strip(), member.email, now, expires_on)
    repository.save_override(session, {"account_id": account.id, "band": band, "reason": override.reason,
                                       "set_by_id": member.id, "set_by": member.email, "set_at": now,
                                       "expires_on": expires_on})
    audit.record(session, actor=Actor.user(member.email), action="health.override_set", account_id=account.id,
                 subject=band, reason=override.reason, expires_on=expires_on.isoformat())
    session.flush()
    return override


def clear_override(session: Session, *, account: Account, member: TeamMember) -> None:
    """Remove the account's override: the computed band is in force again (404 when there is none)."""
    access.require_on(session, account, member, Action.override_health)
    row = repository.overrides_of(session, [account.id]).get(account.id)
    if row is None:
        raise NotFound(f"account {account.id} has no health override")
    repository.delete_overrides(session, [account.id])
    audit.record(session, actor=Actor.user(member.email), action="health.override_cleared", account_id=account.id,
                 subject=row.band, reason=row.reason)
    session.flush()

