"""Use cases of handoff packets: open version 1 from the signed deal, edit it (a new version with author
and diff), acknowledge it as the CSM or the AM, and remind the AE while it is incomplete."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from journey import audit, policy
from journey.accounts.access import facts
from journey.audit import Actor
from journey.calendar import calendar_for
from journey.errors import Conflict, Forbidden, InvalidInput, NotFound
from journey.evaluation import repository as evaluation_repository
from journey.handoff import domain, repository
from journey.models import (
    Account,
    ActorKind,
    Deal,
    HandoffPacket,
    Journey,
    PacketAcknowledgement,
    PacketVersion,
    TeamMember,
)
from journey.notify.service import Message, remind
from journey.objectives import service as objectives_service
from journey.playbooks import playbook_named
from journey.policy import Action
from journey.worked import packet_sync
from journey.writeback import service as writeback_service

SE_SECTIONS = frozenset({"se_notes", "technical_scope"})
SCHEDULER = Actor(ActorKind.scheduler, "scheduler")


class PacketIncomplete(Conflict):
    code = "packet_incomplete"


class VersionConflict(Conflict):
    code = "version_conflict"


def required_sections(playbook_name: str) -> list[str]:
    packet = playbook_named(playbook_name).packet or {}
    return list(packet.get("required", ["deal_terms", "stakeholders", "objectives"]))


def open_packet(session: Session, *, journey_id: int, deal_data: dict[str, Any], actor: Actor,
                now: datetime) -> bool:
    """Version 1 of the packet from what the deal carried; False if the journey already has a packet."""
    if repository.packet_for_journey(session, journey_id) is not None:
        return False
    journey = session.get_one(Journey, journey_id)
    content = domain.packet_from_deal_event(deal_data)
    score = domain.completeness(content, required_sections(journey.playbook))
    packet = HandoffPacket(journey_id=journey_id, account_id=journey.account_id, version=1,
                           completeness=score.score, missing=list(score.missing),
                           state=domain.packet_state([], 1, complete=not score.missing))
    session.add(packet)
    session.flush()
    session.add(PacketVersion(packet_id=packet.id, version=1, content=content.model_dump(mode="json"),
                              changes=[], author=actor.label, created_at=now))
    objectives_service.sync_from_packet(session, journey_id=journey_id, account_id=journey.account_id,
                                        objectives=content.model_dump(mode="json")["objectives"], now=now)
    audit.record(session, actor=actor, action="packet.opened", account_id=journey.account_id,
                 subject=f"journey {journey_id}", completeness=score.score, missing=list(score.missing))
    session.flush()
    packet_sync.sync_packet_tasks(session, journey_id=journey_id, actor=actor, now=now)
    writeback_service.mark_changed(session, account_ids=journey.account_id, now=now)
    return True


def current_content(session: Session, packet: HandoffPacket) -> domain.PacketContent:
    version = repository.version(session, packet.id, packet.version)
    assert version is not None
    return domain.PacketContent.model_validate(version.content)


def edit_packet(session: Session, *, account_id: int, member: TeamMember, patch: dict[str, Any],
                base_version: int | None, now: datetime) -> HandoffPacket:
    """A new version with the patched sections, its author and its diff; nothing if nothing changed.

    The AE who sold the deal, managers and admins edit every section; the deal's SE `se_notes` and
    `technical_scope`. `base_version`, when given, must be the current version (409 otherwise).
    """
    packet, journey, deal = _packet_of(session, account_id)
    _check_editor(member, facts(session, session.get_one(Account, account_id), deal=deal), patch)
    if base_version is not None and base_version != packet.version:
        raise VersionConflict(f"the packet is at version {packet.version}, not {base_version}: reload and retry")
    old = current_content(session, packet)
    try:
        new = domain.apply_patch(old, patch)
    except ValueError as exc:
        raise InvalidInput(str(exc).splitlines()[0] if "\n" in str(exc) else str(exc)) from exc
    changes = domain.diff_packets(old, new)
    if not changes:
        return packet
    score = domain.completeness(new, required_sections(journey.playbook))
    packet.version += 1
    packet.completeness, packet.missing = score.score, list(score.missing)
    acks = _acks(session, packet)
    packet.state = domain.packet_state(acks, packet.version, complete=not score.missing)
    diff = [{"path": c.path, "old": c.old, "new": c.new} for c in changes]
    session.add(PacketVersion(packet_id=packet.id, version=packet.version, content=new.model_dump(mode="json"),
                              changes=diff, author=member.email, created_at=now))
    objectives_service.sync_from_packet(session, journey_id=journey.id, account_id=account_id,
                                        objectives=new.model_dump(mode="json")["objectives"], now=now)
    if not score.missing:
        repository.close_reminders(session, kind="packet_incomplete", subject=_subject(packet), now=now)
    audit.record(session, actor=Actor.user(member.email), action="packet.edited", account_id=account_id,
                 subject=_subject(packet), version=packet.version, changed=[c.path for c in changes],
                 completeness=score.score, missing=list(score.missing))
    evaluation_repository.mark(session, [account_id], now=now)
    session.flush()
    packet_sync.sync_packet_tasks(session, journey_id=journey.id, actor=Actor.user(member.email), now=now)
    writeback_service.mark_changed(session, account_ids=account_id, now=now)
    return packet


def _check_editor(member: TeamMember, packet: policy.Resource, patch: dict[str, Any]) -> None:
    """Every section needs `edit_packet`; `se_notes` and `technical_scope` alone, `edit_technical_notes`."""
    if policy.can(member, Action.edit_packet, packet):
        return
    if set(patch) <= SE_SECTIONS:
        policy.require(member, Action.edit_technical_notes, packet)
        return
    if policy.can(member, Action.edit_technical_notes, packet):
        outside = ", ".join(sorted(set(patch) - SE_SECTIONS))
        raise Forbidden(f"you edit only {', '.join(sorted(SE_SECTIONS))}, not {outside}")
    policy.require(member, Action.edit_packet, packet)


_ACK_ACTIONS = {domain.AckDecision.ACCEPT: "packet.accepted", domain.AckDecision.RETURN: "packet.returned"}


@dataclass(frozen=True)
class AckOutcome:
    packet: HandoffPacket
    roles: list[str]


def acknowledge_packet(session: Session, *, account_id: int, member: TeamMember, decision: str,
                       comment: str | None, now: datetime) -> AckOutcome:
    """The CSM or AM accepts the current version or returns it with a comment (409 while incomplete)."""
    packet, journey, deal = _packet_of(session, account_id)
    account = session.get_one(Account, account_id)
    policy.require(member, Action.acknowledge_packet, facts(session, account, deal=deal))
    roles = [role for role, owner in (("csm", account.csm_id), ("am", account.am_id)) if owner == member.id]
    if not roles:
        raise Forbidden("only the account's CSM or AM acknowledges its handoff packet")
    if packet.missing:
        raise PacketIncomplete(f"the packet is {packet.completeness}% complete; missing: {', '.join(packet.missing)}")
    choice = domain.AckDecision(decision)
    if choice is domain.AckDecision.RETURN and not (comment and comment.strip()):
        raise InvalidInput("returning the packet needs a comment saying what is wrong")
    latest = {(a.role, a.version): a.decision for a in repository.acknowledgements(session, packet.id)}
    for role in roles:
        if latest.get((role, packet.version)) != choice.value or comment:
            session.add(PacketAcknowledgement(packet_id=packet.id, version=packet.version, role=role,
                                              member_id=member.id, decision=choice.value, comment=comment, at=now))
    session.flush()
    before, packet.state = packet.state, domain.packet_state(_acks(session, packet), packet.version)
    audit.record(session, actor=Actor.user(member.email), action=_ACK_ACTIONS[choice],
                 account_id=account_id, subject=_subject(packet), version=packet.version, roles=roles,
                 comment=comment, state=packet.state)
    if choice is domain.AckDecision.RETURN:
        _remind_ae_of_return(session, packet, account, deal, member, comment or "", now)
    if packet.state == "accepted" and before != "accepted":
        audit.record(session, actor=Actor.user(member.email), action="packet.accepted_by_both",
                     account_id=account_id, subject=_subject(packet), version=packet.version)
    evaluation_repository.mark(session, [account_id], now=now)
    session.flush()
    writeback_service.mark_changed(session, account_ids=account_id, now=now)
    return AckOutcome(packet, roles)


def _remind_ae_of_return(session: Session, packet: HandoffPacket, account: Account, deal: Deal,
                         member: TeamMember, comment: str, now: datetime) -> None:
    ae = session.get(TeamMember, deal.ae_id) if deal.ae_id else None
    if ae is None:
        return
    reason = f"{member.name} sent version {packet.version} of the {account.name} handoff packet back: {comment}"
    remind(session, kind="packet_returned", assignee=ae, account_id=account.id, due_at=now, reason=reason,
           dedupe_key=f"packet-returned:{packet.id}:v{packet.version}:{member.id}", now=now,
           subject=_subject(packet), message=Message(subject=f"Handoff packet returned: {account.name}",
                                                     body_text=reason))


def remind_incomplete_packets(session: Session, *, now: datetime, actor: Actor = SCHEDULER) -> int:
    """Remind each AE whose packet is incomplete: in the account's working hours (08:00-18:00 local on its
    business days), at most once every
    `packet.remind_every_business_days` (playbook; default 2) business days. The scheduler calls this;
    it is safe to call every minute. Returns how many reminders were raised."""
    raised = 0
    for packet, journey, account, deal in repository.incomplete_packets(session):
        ae = session.get(TeamMember, deal.ae_id) if deal.ae_id else None
        if ae is None or not ae.active:
            continue
        calendar = calendar_for(account.region, account.timezone)
        today = calendar.local_date(now)
        if not calendar.in_working_hours(now):  # 08:00-18:00 at the account: never at night
            continue
        last = calendar.local_date(packet.last_ae_reminder_at) if packet.last_ae_reminder_at else None
        every = int((playbook_named(journey.playbook).packet or {}).get(
            "remind_every_business_days", domain.DEFAULT_REMIND_EVERY_BUSINESS_DAYS))
        if not domain.ae_reminder_due(today=today, last_reminded_on=last, every_business_days=every,
                                      is_business_day=calendar.is_business_day,
                                      business_days_between=calendar.business_days_between):
            continue
        score = domain.completeness(current_content(session, packet), required_sections(journey.playbook))
        reason = (f"The {account.name} handoff packet (version {packet.version}) is {score.score}% complete; "
                  f"missing {domain.missing_sentence(score)}. The CSM and the AM cannot accept it until it is.")
        created = remind(session, kind="packet_incomplete", assignee=ae, account_id=account.id, due_at=now,
                         reason=reason, dedupe_key=f"packet-incomplete:{packet.id}:{today.isoformat()}", now=now,
                         subject=_subject(packet), details={"missing": score.missing, "completeness": score.score},
                         message=Message(subject=f"Complete the handoff packet: {account.name}", body_text=reason))
        packet.last_ae_reminder_at = now
        if created is not None:
            raised += 1
            audit.record(session, actor=actor, action="packet.ae_reminded", account_id=account.id,
                         subject=_subject(packet), ae=ae.email, completeness=score.score)
    session.flush()
    return raised


def _packet_of(session: Session, account_id: int) -> tuple[HandoffPacket, Journey, Deal]:
    packet = repository.latest_packet_for_account(session, account_id)
    if packet is None:
        raise NotFound("this account has no handoff packet yet")
    journey = session.get_one(Journey, packet.journey_id)
    return packet, journey, session.get_one(Deal, journey.deal_id)


def _acks(session: Session, packet: HandoffPacket) -> list[domain.Ack]:
    return [domain.Ack(role=a.role, decision=domain.AckDecision(a.decision), version=a.version)  # type: ignore[arg-type]
            for a in repository.acknowledgements(session, packet.id)]


def _subject(packet: HandoffPacket) -> str:
    return f"packet {packet.id}"
