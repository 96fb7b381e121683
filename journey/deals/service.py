"""Use cases of deals: a deal is signed, updated or lost. Services flush; the caller commits."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy.orm import Session

from journey import audit
from journey.accounts import repository as accounts_repository
from journey.audit import Actor
from journey.calendar import calendar_for
from journey.deals import repository
from journey.deals.events import DealChange, DealSigned, StakeholderFields
from journey.errors import NotFound
from journey.kit import utcnow
from journey.models import Account, Deal, DealStatus, Journey, JourneyStatus, Role, Stakeholder
from journey.playbooks import playbook_for
from journey.team import service as team_service


@dataclass(frozen=True)
class OpenedJourney:
    journey_id: int
    account_id: int
    deal_id: int
    created: bool


def record_signed_deal(session: Session, *, source: str, signed: DealSigned, occurred_at: datetime,
                       actor: Actor) -> OpenedJourney:
    """Upsert the account, its people and the deal; open the deal's one journey if it has none."""
    account = _upsert_account(session, source=source, signed=signed)
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
    if journey.status == JourneyStatus.paused:
        resume_journey(session, journey=journey, actor=actor, now=utcnow())
    return OpenedJourney(journey.id, account.id, deal.id, created=False)


def resume_journey(session: Session, *, journey: Journey, actor: Actor, now: datetime) -> None:
    """The deal is signed again after a loss: the journey resumes and its cancelled reviews come back."""
    from journey.reviews import service as reviews_service

    journey.status, journey.paused_at = JourneyStatus.active, None
    audit.record(session, actor=actor, action="journey.resumed", account_id=journey.account_id,
                 subject=f"journey {journey.id}")
    reviews_service.restore_reviews(session, journey_id=journey.id, actor=actor, now=now)


def _upsert_account(session: Session, *, source: str, signed: DealSigned) -> Account:
    data = signed.account
    repository.insert_account_if_new(session, crm_source=source, crm_external_id=data.id,
                                     name=data.name or data.id, timezone=data.timezone or "UTC")
    account = accounts_repository.by_crm(session, source=source, external_id=data.id)
    assert account is not None
    for field in ("name", "domain", "segment", "region", "timezone"):
        value = getattr(data, field)
        if value is not None:
            setattr(account, field, value)
    owners = signed.owners  # the CRM fills an empty seat; it never replaces an owner (a manager may have)
    if owners.csm is not None and account.csm_id is None:
        account.csm_id = team_service.ensure_member(session, email=owners.csm.email, name=owners.csm.name,
                                                    role=Role.csm).id
    if owners.am is not None and account.am_id is None:
        account.am_id = team_service.ensure_member(session, email=owners.am.email, name=owners.am.name,
                                                   role=Role.am).id
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
    if deal.last_occurred_at is not None and occurred_at < deal.last_occurred_at:
        return deal  # an older delivery than the one already applied: keep the newer facts
    deal.last_occurred_at = occurred_at
    deal.status = DealStatus.won
    for field in ("name", "amount", "currency", "signed_at", "contract_start", "contract_end",
                  "expected_go_live", "seats"):
        value = getattr(data, field)
        if value is not None:
            setattr(deal, field, value)
    deal.signed_at = deal.signed_at or occurred_at
    owners = signed.owners
    if owners.ae is not None:
        deal.ae_id = team_service.ensure_member(session, email=owners.ae.email, name=owners.ae.name,
                                                role=Role.ae).id
    if owners.se is not None:
        deal.se_id = team_service.ensure_member(session, email=owners.se.email, name=owners.se.name,
                                                role=Role.se).id
    session.flush()
    return deal


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
        raise NotFound(f"deal {source}:{change.id} is not known yet")
    journey = repository.journey_for_deal(session, deal.id)
    old_go_live = deal.expected_go_live
    if deal.last_occurred_at is not None and occurred_at < deal.last_occurred_at:
        return DealChanged(journey.id if journey else None, old_go_live, old_go_live)
    deal.last_occurred_at = occurred_at
    for field in ("name", "amount", "expected_go_live", "contract_start", "contract_end", "seats"):
        value = getattr(change, field)
        if value is not None:
            setattr(deal, field, value)
    audit.record(session, actor=actor, action="deal.updated", account_id=deal.account_id,
                 subject=f"deal {deal.crm_external_id}",
                 changed=sorted(change.model_dump(exclude_none=True, exclude={"id", "reason"})))
    session.flush()
    return DealChanged(journey.id if journey else None, old_go_live, deal.expected_go_live)


def pause_for_lost_deal(session: Session, *, source: str, external_id: str, reason: str | None,
                        actor: Actor, now: datetime) -> Journey | None:
    """The deal is lost: pause its journey (nothing that already happened is undone)."""
    deal = repository.deal_by_crm(session, source=source, external_id=external_id)
    if deal is None:
        return None
    deal.status = DealStatus.lost
    journey = repository.journey_for_deal(session, deal.id)
    if journey is None or journey.status != JourneyStatus.active:
        return journey
    journey.status, journey.paused_at = JourneyStatus.paused, now
    audit.record(session, actor=actor, action="journey.paused", account_id=journey.account_id,
                 subject=f"deal {external_id}", reason=reason or "deal lost")
    session.flush()
    return journey
