"""Use cases of the CSM + AM pair: assign by the roster's rules, let a manager override, keep the
ownership windows (who owned the account in which role, from when to when, and why)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from journey import audit, policy
from journey.accounts.access import facts
from journey.audit import Actor
from journey.errors import InvalidInput
from journey.kit import row_id
from journey.models import Account, AccountOwner, Role, TeamMember
from journey.policy import Action
from journey.team import assignment, repository
from journey.writeback import service as writeback_service

PAIR = (Role.csm, Role.am)


def _owner_id(account: Account, role: Role) -> int | None:
    return account.csm_id if role == Role.csm else account.am_id


def _set_owner(account: Account, role: Role, member_id: int | None) -> None:
    if role == Role.csm:
        account.csm_id = member_id
    else:
        account.am_id = member_id


def assign_owners(session: Session, *, account_id: int, actor: Actor, now: datetime) -> dict[str, int | None]:
    """Give the account a CSM and an AM: the ones the CRM named, else by the roster's rules.

    Idempotent: an owner already in place keeps its window; the reason of every choice is audited.
    """
    account = session.get_one(Account, account_id)
    result: dict[str, int | None] = {}
    for role in PAIR:
        current = _owner_id(account, role)
        if current is not None:
            _open_window(session, account, role, current, source="crm", actor=actor, now=now,
                         reason="named by the CRM")
        else:
            _assign_by_rules(session, account, role, actor=actor, now=now)
        result[role.value] = _owner_id(account, role)
    session.flush()
    writeback_service.mark_changed(session, account_ids=account.id, now=now)
    return result


def _assign_by_rules(session: Session, account: Account, role: Role, *, actor: Actor, now: datetime) -> None:
    loads, arr_loads = repository.account_loads(session, role), repository.arr_loads(session, role)
    candidates = [assignment.Candidate(
        id=m.id, name=m.name, role=m.role.value, load=loads.get(m.id, 0), capacity=m.capacity_accounts,
        segments=tuple(m.segments or ()), regions=tuple(m.regions or ()), active=m.active,
        arr_load=arr_loads.get(m.id, 0.0), capacity_arr=None if m.capacity_arr is None else float(m.capacity_arr),
        languages=tuple(m.languages or ())) for m in repository.active_with_role(session, role)]
    choice = assignment.choose_owner(candidates, role=role.value, segment=account.segment, region=account.region,
                                     arr=repository.account_arr(session, account.id), language=account.language)
    if choice.member_id is None:
        audit.record(session, actor=actor, action="owner.unassigned", account_id=account.id,
                     subject=role.value, reason=choice.reason)
        return
    _set_owner(account, role, choice.member_id)
    _open_window(session, account, role, choice.member_id, source="rules", actor=actor, now=now,
                 reason=choice.reason)
    audit.record(session, actor=actor, action="owner.assigned", account_id=account.id, subject=role.value,
                 member_id=choice.member_id, reason=choice.reason, over_capacity=choice.over_capacity)


def _open_window(session: Session, account: Account, role: Role, member_id: int, *, source: str, actor: Actor,
                 now: datetime, reason: str) -> bool:
    """Close the role's other open window and open one for `member_id`; False if it is already open."""
    windows = [w for w in repository.open_windows(session, account.id) if w.role == role.value]
    if any(w.member_id == member_id for w in windows):
        return False
    for window in windows:
        window.ended_at = now
    session.add(AccountOwner(account_id=account.id, member_id=member_id, role=role.value, started_at=now,
                             source=source, assigned_by=actor.label, reason=reason))
    session.flush()
    return True


def override_owners(session: Session, *, account_id: int, manager: TeamMember, owners: dict[str, int | str],
                    reason: str, now: datetime) -> Account:
    """A manager or admin sets the CSM and/or the AM (`{"csm": id or email, "am": ...}`) with a reason."""
    account = session.get_one(Account, account_id)
    policy.require(manager, Action.reassign_owner, facts(session, account))
    if not reason.strip():
        raise InvalidInput("say why the owners change (reason)")
    actor = Actor.user(manager.email)
    for role in PAIR:
        if role.value not in owners:
            continue
        member = _member(session, owners[role.value], role)
        old = _owner_id(account, role)
        if old == member.id:
            continue
        _set_owner(account, role, member.id)
        _open_window(session, account, role, member.id, source="manager", actor=actor, now=now, reason=reason)
        audit.record(session, actor=actor, action="owner.overridden", account_id=account.id, subject=role.value,
                     old_member_id=old, member_id=member.id, reason=reason)
    session.flush()
    writeback_service.mark_changed(session, account_ids=account.id, now=now)
    return account


def _member(session: Session, ref: int | str, role: Role) -> TeamMember:
    member = (repository.by_email(session, ref) if isinstance(ref, str) and "@" in ref
              else repository.by_id(session, member_id) if (member_id := row_id(ref)) is not None else None)
    if member is None or not member.active:
        raise InvalidInput(f"no active team member {ref}")
    if member.role != role:
        raise InvalidInput(f"{member.email} is a {member.role.value}, not a {role.value}")
    return member
