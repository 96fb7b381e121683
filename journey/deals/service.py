"""Use cases of deals: a deal is signed, updated or lost. Services flush; the caller commits."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy.orm import Session

from journey import audit
from journey.accounts import repository as accounts_repository
from journey.audit import Actor
from journey.calendar import calendar_for
from journey.deals import repository
from journey.deals.events import DealChange, DealSigned, Person, StakeholderFields
from journey.errors import NotFound
from journey.kit import utcnow
from journey.models import Account, Deal, DealStatus, Journey, JourneyStatus, Role, Stakeholder
from journey.playbooks import playbook_for
from journey.reviews import service as reviews_service
from journey.team import service as team_service
from journey.writeback import service as writeback_service

DEAL_FIELDS = ("name", "amount", "currency", "signed_at", "contract_start", "contract_end", "expected_go_live",
               "seats")
UPDATABLE_FIELDS = ("name", "amount", "expected_go_live", "contract_start", "contract_end", "seats")


class DealNotKnownYet(NotFound):
    """An update or a loss for a deal whose deal.signed has not been processed yet: wait for it."""


def apply_newer(row: Account | Deal, values: dict[str, Any], *, occurred_at: datetime) -> list[str]:
    """Set each given (non-null) field unless a newer occurrence already set it: deliveries arrive in any
    order, and newest-wins holds per field (a late, older deal.signed still brings the seats an update
    did not carry). Returns the fields set."""
    versions = dict(row.field_occurred_at or {})
    applied = []
    for field, value in values.items():
        seen = versions.get(field)
        if value is None or (seen is not None and datetime.fromisoformat(seen) > occurred_at):
            continue
        setattr(row, field, value)
        versions[field] = occurred_at.isoformat()
        applied.append(field)
    row.field_occurred_at = versions
    return applied


def _version(row: Account | Deal, field: str) -> datetime | None:
    seen = (row.field_occurred_at or {}).get(field)
    return datetime.fromisoformat(seen) if seen else None


@dataclass(frozen=True)
class OpenedJourney:
    journey_id: int
    account_id: int
    deal_id: int
    created: bool


def record_signed_deal(session: Session, *, source: str, signed: DealSigned, occurred_at: datetime,
                       actor: Actor) -> OpenedJourney:
    """Upsert the account, its people and the deal; open the deal's one journey if it has none."""
    account = _upsert_account(session, source=source, signed=signed, occurred_at=occurred_at)
    _merge_stakeholders(session, account_id=account.id, people=signed.stakeholders)
    deal = _upsert_deal(session, source=source, signed=signed, account=account, occurred_at=occurred_at)
    signed_on = calendar_for(account.region, account.timezone).local_date(deal.signed_at or occurred_at)
    playbook = playbook_for(account.segment)
    journey_id = repository.insert_journey_if_new(
        session, deal_id=deal.id, account_id=account.id, status=JourneyStatus.active, playbook=playbook.name,
        playbook_version=playbook.version, signed_on=signed_on, go_live_on=deal.expected_go_live)
    if journey_id is not None:
        audit.record(session, actor=actor, action="journey.opened", account_id=account.id,
                     subject=f"deal {deal.crm_external_id}", playbook=playbook.name, signed_on=str(signed_on))
        return OpenedJourney(journey_id, account.id, deal.id, created=True)
    journey = repository.journey_for_deal(session, deal.id)
    assert journey is not None
    won_now = deal.status == DealStatus.won and _version(deal, "status") == occurred_at  # newer than a loss
    if journey.status == JourneyStatus.paused and won_now:
        resume_journey(session, journey=journey, actor=actor, now=utcnow())
    return OpenedJourney(journey.id, account.id, deal.id, created=False)


def resume_journey(session: Session, *, journey: Journey, actor: Actor, now: datetime) -> None:
    """The deal is signed again after a loss: the journey resumes and its cancelled reviews come back."""

    journey.status, journey.paused_at = JourneyStatus.active, None
    audit.record(session, actor=actor, action="journey.resumed", account_id=journey.account_id,
                 subject=f"journey {journey.id}")
    reviews_service.restore_reviews(session, journey_id=journey.id, actor=actor, now=now)
    writeback_service.mark_changed(session, account_ids=journey.account_id, now=now)


def _upsert_account(session: Session, *, source: str, signed: DealSigned, occurred_at: datetime) -> Account:
    data = signed.account
    repository.insert_account_if_new(session, crm_source=source, crm_external_id=data.id,
                                     name=data.name or data.id, timezone=data.timezone or "UTC")
    account = accounts_repository.by_crm(session, source=source, external_id=data.id)
    assert account is not None
    owners = signed.owners  # the CRM fills an empty seat; it never replaces an owner (a manager may have)
    csm_id = _member_id(session, owners.csm, Role.csm) if account.csm_id is None else None
    am_id = _member_id(session, owners.am, Role.am) if account.am_id is None else None
    # the people first, the account's changes after: one UPDATE of the account, not one per autoflush
    apply_newer(account, {f: getattr(data, f) for f in ("name", "domain", "segment", "region", "timezone",
                                                         "language")},
                occurred_at=occurred_at)
    account.csm_id = account.csm_id or csm_id
    account.am_id = account.am_id or am_id
    session.flush()
    return account


def _merge_stakeholders(session: Session, *, account_id: int, people: list[StakeholderFields]) -> None:
    """Add stakeholders we do not know yet (matched by email, else by name); update the ones we do."""
    known = {_stakeholder_key(s.email, s.name): s for s in repository.stakeholders_of(session, account_id)}
    for person in people:
        existing = known.get(_stakeholder_key(person.email, person.name))
        if existing is None:
            existing = Stakeholder(account_id=account_id, name=person.name)
            session.add(existing)
            known[_stakeholder_key(person.email, person.name)] = existing
        existing.name, existing.email = person.name, person.email
        existing.title, existing.role = person.title, person.role


def _stakeholder_key(email: str | None, name: str) -> str:
    return f"email:{email.lower()}" if email else f"name:{name.casefold()}"


def _upsert_deal(session: Session, *, source: str, signed: DealSigned, account: Account,
                 occurred_at: datetime) -> Deal:
    data = signed.deal
    repository.insert_deal_if_new(session, account_id=account.id, crm_source=source, crm_external_id=data.id,
                                  name=data.name or data.id, status=DealStatus.won)
    deal = repository.deal_by_crm(session, source=source, external_id=data.id)
    assert deal is not None
    owners = signed.owners
    people = {"ae_id": _member_id(session, owners.ae, Role.ae), "se_id": _member_id(session, owners.se, Role.se)}
    deal.last_occurred_at = max(deal.last_occurred_at or occurred_at, occurred_at)  # after the reads: one UPDATE
    apply_newer(deal, {**{f: getattr(data, f) for f in DEAL_FIELDS}, "status": DealStatus.won, **people},
                occurred_at=occurred_at)
    deal.signed_at = deal.signed_at or occurred_at
    session.flush()
    return deal


def _member_id(session: Session, person: Person | None, role: Role) -> int | None:
    if person is None:
        return None
    return team_service.ensure_member(session, email=person.email, name=person.name, role=role).id


@dataclass(frozen=True)
class DealChanged:
    journey_id: int | None
    old_go_live: date | None
    new_go_live: date | None


def apply_deal_update(session: Session, *, source: str, change: DealChange, occurred_at: datetime,
                      actor: Actor) -> DealChanged:
    """Apply the changed fields if this update is newer than the last one applied to the deal."""
    deal = repository.deal_by_crm(session, source=source, external_id=change.id)
    if deal is None:
        raise DealNotKnownYet(f"deal {source}:{change.id} is not known yet: waiting for its deal.signed")
    journey = repository.journey_for_deal(session, deal.id)
    old_go_live = deal.expected_go_live
    deal.last_occurred_at = max(deal.last_occurred_at or occurred_at, occurred_at)
    changed = apply_newer(deal, {f: getattr(change, f) for f in UPDATABLE_FIELDS}, occurred_at=occurred_at)
    audit.record(session, actor=actor, action="deal.updated", account_id=deal.account_id,
                 subject=f"deal {deal.crm_external_id}", changed=changed,
                 ignored_as_older=sorted(set(change.model_dump(exclude_none=True, exclude={"id", "reason"}))
                                         - set(changed)))
    session.flush()
    return DealChanged(journey.id if journey else None, old_go_live, deal.expected_go_live)


def pause_for_lost_deal(session: Session, *, source: str, external_id: str, reason: str | None,
                        actor: Actor, now: datetime, occurred_at: datetime | None = None) -> Journey | None:
    """The deal is lost: pause its journey (nothing that already happened is undone)."""
    deal = repository.deal_by_crm(session, source=source, external_id=external_id)
    if deal is None:
        if occurred_at is not None:
            raise DealNotKnownYet(f"deal {source}:{external_id} is not known yet: waiting for its deal.signed")
        return None
    if occurred_at is not None and not apply_newer(deal, {"status": DealStatus.lost}, occurred_at=occurred_at):
        return repository.journey_for_deal(session, deal.id)  # re-signed after this loss: nothing to pause
    deal.status = DealStatus.lost
    journey = repository.journey_for_deal(session, deal.id)
    if journey is None or journey.status != JourneyStatus.active:
        return journey
    journey.status, journey.paused_at = JourneyStatus.paused, now
    audit.record(session, actor=actor, action="journey.paused", account_id=journey.account_id,
                 subject=f"deal {external_id}", reason=reason or "deal lost")
    session.flush()
    writeback_service.mark_changed(session, account_ids=journey.account_id, now=now)
    return journey
