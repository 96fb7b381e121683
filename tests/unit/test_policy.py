"""The policy table: every role has a row, docs/reference.md shows the table as it is, and require() answers
404 outside one's book and 403 for an action not allowed on something one can see."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from journey import policy
from journey.errors import Forbidden, NotFound
from journey.models import Role
from journey.policy import Action, Resource


@dataclass(frozen=True)
class Who:
    id: int
    role: str


ACCOUNT = Resource.account("account 7", csm_id=3, am_id=4, sellers=(1, 2))


def test_every_role_has_a_row_and_every_row_every_action() -> None:
    assert set(policy.GRANTS) == set(Role)
    for row in policy.GRANTS.values():
        assert set(row) == set(Action)


def test_the_reference_shows_the_table_as_it_is() -> None:
    reference = (Path(__file__).resolve().parents[2] / "docs" / "reference.md").read_text()
    assert policy.markdown_table() in reference, \
        "docs/reference.md's roles x actions table differs: run .venv/bin/python scripts/gen_docs.py"


@pytest.mark.parametrize(("who", "action", "answer"), [
    (Who(1, "ae"), Action.view_account, None),
    (Who(9, "ae"), Action.view_account, NotFound),  # not their deal: it does not exist for them
    (Who(1, "ae"), Action.book_review, Forbidden),
    (Who(9, "ae"), Action.book_review, NotFound),
    (Who(2, "se"), Action.edit_technical_notes, None),
    (Who(2, "se"), Action.edit_packet, Forbidden),
    (Who(3, "csm"), Action.book_review, None),
    (Who(4, "am"), Action.acknowledge_packet, None),
    (Who(8, "csm"), Action.book_review, NotFound),
    (Who(3, "csm"), Action.reassign_owner, Forbidden),
    (Who(5, "manager"), Action.book_review, None),
    (Who(5, "manager"), Action.acknowledge_packet, Forbidden),
    (Who(6, "admin"), Action.replay_event, None),
    (Who(5, "manager"), Action.replay_event, Forbidden),
    (Who(10, "revops"), Action.view_account, None),  # reads every book...
    (Who(10, "revops"), Action.acknowledge_packet, Forbidden),  # ...but acts for no CSM or AM
    (Who(10, "revops"), Action.complete_task, Forbidden),
    (Who(10, "revops"), Action.book_review, Forbidden),
])
def test_require_hides_what_is_outside_the_book_and_forbids_the_rest(who, action, answer) -> None:
    resource = ACCOUNT if action is not Action.replay_event else policy.ANYTHING
    if answer is None:
        policy.require(who, action, resource)
        assert policy.can(who, action, resource)
    else:
        with pytest.raises(answer):
            policy.require(who, action, resource)


def test_only_admins_change_managers_and_admins() -> None:
    manager, admin = Who(5, "manager"), Who(6, "admin")
    for role in ("manager", "admin"):
        target = Resource.member("member 1", role=role)
        assert not policy.can(manager, Action.deactivate_member, target)
        assert policy.can(admin, Action.deactivate_member, target)
    assert policy.can(manager, Action.deactivate_member, Resource.member("member 2", role="csm"))


def test_the_last_active_admin_stays_active() -> None:
    with pytest.raises(policy.LastAdmin) as refused:
        policy.check_deactivation("admin", target_active=True, active_admins=1)
    assert refused.value.status_code == 409 and refused.value.code == "last_admin"
    policy.check_deactivation("admin", target_active=True, active_admins=2)
    policy.check_deactivation("admin", target_active=False, active_admins=1)  # already inactive
    policy.check_deactivation("manager", target_active=True, active_admins=1)


def test_someone_elses_reminder_does_not_exist_for_you() -> None:
    with pytest.raises(NotFound):
        policy.require(Who(1, "ae"), Action.close_reminder, Resource.reminder("reminder 3", assignee_id=2))
    policy.require(Who(2, "ae"), Action.close_reminder, Resource.reminder("reminder 3", assignee_id=2))


def test_a_role_without_a_row_may_do_nothing() -> None:
    stranger = Who(1, "auditor")  # no such role, so no row
    assert not any(policy.can(stranger, action) for action in Action)


def test_refusals_say_who_may_from_the_table() -> None:
    assert policy.refusal(Action.book_review) == (
        "you may not book reviews here: this is for csm and am (on the accounts they own), manager and admin")


def test_revops_reads_the_dashboard_and_the_inbox_and_acts_on_nothing() -> None:
    revops = Who(10, "revops")
    reads = {Action.view_account, Action.view_book, Action.view_team, Action.view_inbox}
    assert policy.allowed(revops, ACCOUNT, Action) == reads
    assert policy.can(revops, Action.close_reminder, Resource.reminder("r", assignee_id=10))
