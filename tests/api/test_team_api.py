"""Who changes whom on the roster: managers change the staff, only admins change managers and admins, and
the last active admin stays active, on the API and on the command line."""
from __future__ import annotations

import pytest
from typer.testing import CliRunner

from journey import db
from journey.team import repository
from tests.builders import member_with_token

pytestmark = pytest.mark.usefixtures("db_url")


def _id(email: str) -> int:
    with db.transaction(writer=False) as session:
        member = repository.by_email(session, email)
        assert member is not None
        return member.id


def _active(email: str) -> bool:
    with db.transaction(writer=False) as session:
        member = repository.by_email(session, email)
        assert member is not None
        return member.active


def test_a_manager_may_not_deactivate_an_admin_or_a_manager(client, admin) -> None:
    manager = member_with_token("manager@test.example", "manager")
    member_with_token("other.manager@test.example", "manager")
    member_with_token("csm@test.example", "csm")
    for email in ("admin@test.example", "other.manager@test.example"):
        refused = client.patch(f"/api/team/{_id(email)}", headers=manager, json={"active": False})
        assert refused.status_code == 403, refused.text
        assert refused.json()["code"] == "forbidden"
        assert _active(email)
        edited = client.patch(f"/api/team/{_id(email)}", headers=manager, json={"capacity_accounts": 3})
        assert edited.status_code == 403
    staff = client.patch(f"/api/team/{_id('csm@test.example')}", headers=manager, json={"active": False})
    assert staff.status_code == 200 and staff.json()["active"] is False
    other = client.patch(f"/api/team/{_id('other.manager@test.example')}", headers=admin, json={"active": False})
    assert other.status_code == 200 and other.json()["active"] is False


def test_the_last_active_admin_cannot_be_deactivated(client, admin) -> None:
    me = _id("admin@test.example")
    refused = client.patch(f"/api/team/{me}", headers=admin, json={"active": False})
    assert refused.status_code == 409, refused.text
    assert refused.json()["code"] == "last_admin"
    assert _active("admin@test.example")

    member_with_token("second.admin@test.example", "admin")
    done = client.patch(f"/api/team/{_id('second.admin@test.example')}", headers=admin, json={"active": False})
    assert done.status_code == 200 and done.json()["active"] is False
    assert client.patch(f"/api/team/{me}", headers=admin, json={"active": False}).status_code == 409


def test_the_command_line_keeps_the_last_admin_active_too(client, admin) -> None:
    from journey.cli import app

    runner = CliRunner()
    refused = runner.invoke(app, ["team", "set", "--email", "admin@test.example", "--inactive"])
    assert refused.exit_code == 1 and "last active admin" in refused.output
    assert _active("admin@test.example")
    member_with_token("csm@test.example", "csm")
    done = runner.invoke(app, ["team", "set", "--email", "csm@test.example", "--inactive"])
    assert done.exit_code == 0, done.output
    assert not _active("csm@test.example")
