"""Who may do what: one table of roles × actions, read by every API route, web page and `--as` command.

Pure rules: no Session. Each cell of the table is a *reach*, the resources of that action a role reaches:
`all` of them, the accounts the member `owns` (their CSM or AM), the deals they `sold` (their AE or SE),
the `staff` (team members other than managers and admins), their `own` reminders, or none.

Callers describe the resource with the facts the rule reads (`Resource.account(...)`, `Resource.member(...)`)
and call `require`, which answers like the API always has: a resource outside the member's book is a 404
(no leak that it exists), an action the member may not take on a resource they can see is a 403.
Adding a role is one row of `GRANTS` (as `Role.revops` was); a role without a row may do nothing.
docs/reference.md shows the table (`markdown_table()`, kept equal by a test) and tests/api/test_role_matrix.py
checks every surface against it.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from journey.errors import Conflict, Forbidden, NotFound
from journey.models.base import Role


class Action(StrEnum):
    view_account = "view_account"  # an account and all on it: plan, packet, reviews, health, objectives, owners
    view_book = "view_book"  # lists over one's book: accounts, journeys, reviews, KPIs, one's reminders
    view_team = "view_team"  # the roster and the team dashboard
    edit_packet = "edit_packet"  # every section of the handoff packet
    edit_technical_notes = "edit_technical_notes"  # the packet's `se_notes` and `technical_scope` only
    acknowledge_packet = "acknowledge_packet"  # accept the packet, or send it back
    complete_task = "complete_task"  # start, finish, skip or reopen a plan task
    assign_task = "assign_task"  # give a plan task to a person, or move its due date (with a reason)
    comment_task = "comment_task"  # comment on a plan task (@mentions notify) or link its document
    manage_share_links = "manage_share_links"  # invite a customer stakeholder to the shared plan, or revoke
    move_go_live = "move_go_live"
    book_review = "book_review"
    cancel_review = "cancel_review"
    record_review_outcome = "record_review_outcome"
    record_objective_progress = "record_objective_progress"
    post_signals = "post_signals"
    edit_opportunity = "edit_opportunity"  # add an expansion opportunity, set its amount and stage
    reassign_owner = "reassign_owner"  # set an account's CSM or AM
    edit_member = "edit_member"  # a member's segments, regions, languages, capacity
    deactivate_member = "deactivate_member"  # or reactivate
    override_health = "override_health"  # set or clear the account's health band by hand, with a reason
    manage_sign_in = "manage_sign_in"  # allow a member to sign in (those a CRM named start without), or stop them
    view_inbox = "view_inbox"  # the webhook inbox
    replay_event = "replay_event"
    close_reminder = "close_reminder"


class Reach(StrEnum):
    none = "-"
    sold = "sold"
    owned = "owned"
    staff = "staff"
    own = "own"
    all = "all"


A, R = Action, Reach


def _row(base: dict[str, Reach], **more: Reach) -> dict[Action, Reach]:
    """A role's row: the actions it may take and on what; every other action is refused."""
    grants = {**base, **more}
    unknown = set(grants) - {a.value for a in Action}
    assert not unknown, f"no such action: {unknown}"
    return {action: Reach(grants.get(action.value, Reach.none)) for action in Action}


_EVERYONE = dict(view_book=R.all, view_team=R.all, close_reminder=R.own)
_SELLER = dict(_EVERYONE, view_account=R.sold, complete_task=R.sold, post_signals=R.sold,
               edit_technical_notes=R.sold, comment_task=R.sold)
_OWNER = dict(_EVERYONE, view_account=R.owned, complete_task=R.owned, post_signals=R.owned,
              acknowledge_packet=R.owned, move_go_live=R.owned, book_review=R.owned, cancel_review=R.owned,
              record_review_outcome=R.owned, record_objective_progress=R.owned, assign_task=R.owned,
              comment_task=R.owned, manage_share_links=R.owned)
_LEAD = dict(_EVERYONE, view_account=R.all, complete_task=R.all, post_signals=R.all, edit_packet=R.all,
             edit_technical_notes=R.all, move_go_live=R.all, book_review=R.all, cancel_review=R.all,
             record_review_outcome=R.all, record_objective_progress=R.all, reassign_owner=R.all, override_health=R.all,
             edit_opportunity=R.all, assign_task=R.all, comment_task=R.all, manage_share_links=R.all,
             edit_member=R.staff, deactivate_member=R.staff)

GRANTS: dict[str, dict[Action, Reach]] = {
    Role.ae: _row(_SELLER, edit_packet=R.sold),
    Role.se: _row(_SELLER),
    Role.csm: _row(_OWNER, override_health=R.owned),  # the CSM's judgment on the record; not the AM's
    Role.am: _row(_OWNER, edit_opportunity=R.owned),
    Role.manager: _row(_LEAD),
    Role.admin: _row(_LEAD, edit_member=R.all, deactivate_member=R.all, manage_sign_in=R.all, view_inbox=R.all,
                      replay_event=R.all),
    # RevOps reads everything the weekly review reads, and acts for nobody: no packet, task, review or owner.
    Role.revops: _row(_EVERYONE, view_account=R.all, view_inbox=R.all),
}

LEADS = frozenset({Role.manager, Role.admin})  # only admins change them (`staff` is everyone else)


class Member(Protocol):
    @property
    def id(self) -> int: ...

    @property
    def role(self) -> str: ...


@dataclass(frozen=True)
class Resource:
    """The facts of what an action touches that the rules read. `seen_by`: the action a member needs to
    know the resource exists at all (refused: 404); None when everyone may know it (refused: 403)."""

    label: str = ""
    owners: frozenset[int] = frozenset()  # the account's CSM and AM
    sellers: frozenset[int] = frozenset()  # the AE and SE of its deal(s)
    member_role: str | None = None  # the team member acted upon
    assignee_id: int | None = None
    seen_by: Action | None = None

    @classmethod
    def account(cls, label: str, *, csm_id: int | None, am_id: int | None,
                sellers: Iterable[int | None] = ()) -> Resource:
        return cls(label=label, owners=_ids((csm_id, am_id)), sellers=_ids(sellers), seen_by=Action.view_account)

    @classmethod
    def member(cls, label: str, *, role: str) -> Resource:
        return cls(label=label, member_role=role)

    @classmethod
    def reminder(cls, label: str, *, assignee_id: int) -> Resource:
        return cls(label=label, assignee_id=assignee_id, seen_by=Action.close_reminder)


ANYTHING = Resource()


def _ids(values: Iterable[int | None]) -> frozenset[int]:
    return frozenset(v for v in values if v is not None)


def reach(role: str, action: Action) -> Reach:
    row = GRANTS.get(role)
    return row[action] if row is not None else Reach.none


def can(member: Member, action: Action, resource: Resource = ANYTHING) -> bool:
    r = reach(member.role, action)
    if r is Reach.all:
        return True
    if r is Reach.owned:
        return member.id in resource.owners
    if r is Reach.sold:
        return member.id in resource.sellers
    if r is Reach.staff:
        return resource.member_role is not None and resource.member_role not in LEADS
    if r is Reach.own:
        return resource.assignee_id == member.id
    return False


def allowed(member: Member, resource: Resource, actions: Iterable[Action]) -> frozenset[Action]:
    """The actions of `actions` the member may take on the resource (pages show only their buttons)."""
    return frozenset(a for a in actions if can(member, a, resource))


def sees_every_account(member: Member) -> bool:
    return reach(member.role, Action.view_account) is Reach.all


def require(member: Member, action: Action, resource: Resource = ANYTHING) -> None:
    """Nothing if the member may; else 404 when the resource is hidden from them, 403 when it is not."""
    if resource.seen_by is not None and not can(member, resource.seen_by, resource):
        raise NotFound(f"no {resource.label}".strip())
    if not can(member, action, resource):
        raise Forbidden(refusal(action))


# ---------------------------------------------------------------------------- what the refusals say
PHRASES = {
    A.view_account: "see this account", A.view_book: "see a book", A.view_team: "see the team",
    A.edit_packet: "edit the handoff packet",
    A.edit_technical_notes: "edit the packet's se_notes and technical_scope",
    A.acknowledge_packet: "acknowledge the handoff packet", A.complete_task: "update plan tasks",
    A.assign_task: "assign plan tasks or move their due dates", A.comment_task: "comment on plan tasks",
    A.manage_share_links: "share the success plan with the customer",
    A.move_go_live: "move the go-live", A.book_review: "book reviews", A.cancel_review: "cancel reviews",
    A.record_review_outcome: "record review outcomes",
    A.record_objective_progress: "record objective progress", A.post_signals: "send signals",
    A.edit_opportunity: "change expansion opportunities",
    A.reassign_owner: "change an account's CSM or AM", A.edit_member: "edit team members",
    A.deactivate_member: "deactivate or reactivate team members",
    A.manage_sign_in: "decide who may sign in", A.override_health: "override the health band",
    A.view_inbox: "see the webhook inbox",
    A.replay_event: "replay webhook events", A.close_reminder: "close reminders",
}
_REACH_WORDS = {R.all: "", R.owned: " (on the accounts they own)", R.sold: " (on the deals they sold)",
                R.staff: " (except managers and admins)", R.own: " (their own)"}


def refusal(action: Action) -> str:
    """`you may not book reviews here: this is for csm and am (on the accounts they own), manager and admin`,
    written from the table so it stays true when the table changes."""
    by_reach: dict[Reach, list[str]] = {}
    for role, row in GRANTS.items():
        if row[action] is not Reach.none:
            by_reach.setdefault(row[action], []).append(str(role))
    who = ", ".join(f"{' and '.join(roles)}{_REACH_WORDS[r]}" for r, roles in by_reach.items()) or "nobody"
    return f"you may not {PHRASES[action]} here: this is for {who}"


def markdown_table() -> str:
    """The table as docs/reference.md shows it (a test keeps the two the same)."""
    roles = list(GRANTS)
    lines = ["| action | " + " | ".join(str(r) for r in roles) + " |",
             "|---|" + "---|" * len(roles)]
    lines += [f"| `{a}` | " + " | ".join(GRANTS[r][a].value for r in roles) + " |" for a in Action]
    return "\n".join(lines)


# --------------------------------------------------------------------------------- the last admin
class LastAdmin(Conflict):
    code = "last_admin"


def check_deactivation(target_role: str, *, target_active: bool, active_admins: int) -> None:
    """The last active admin stays active: without one nobody could manage admins or managers again."""
    if target_role == Role.admin and target_active and active_admins <= 1:
        raise LastAdmin("this is the last active admin: make another member admin before deactivating them")
