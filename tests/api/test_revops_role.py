"""RevOps: created from the command line like any member, reads every account, the dashboard and the inbox,
and may not act for the account's CSM or AM."""
from __future__ import annotations

import pytest
from typer.testing import CliRunner

from tests.builders import deal_signed, drain, post_event

pytestmark = [pytest.mark.usefixtures("db_url"), pytest.mark.clock("2026-11-23T09:00:00Z")]


def test_revops_is_created_reads_everything_and_acknowledges_nothing(client) -> None:
    from journey import db
    from journey.cli import app
    from journey.team import service as team_service

    created = CliRunner().invoke(app, ["users", "create", "--email", "ops@vendor.example", "--name", "Rita Ops",
                                       "--role", "revops"])
    assert created.exit_code == 0, created.output
    with db.transaction() as session:
        token = team_service.create_token(session, email="ops@vendor.example", label="test")
    headers = {"Authorization": f"Bearer {token}"}
    post_event(client, deal_signed())
    assert drain() == ["processed"]
    accounts = client.get("/api/accounts", headers=headers).json()["items"]
    assert len(accounts) == 1
    ref = accounts[0]["id"]
    assert client.get(f"/api/accounts/{ref}/handoff", headers=headers).status_code == 200
    assert client.get("/api/events", headers=headers).status_code == 200
    assert client.get("/api/team", headers=headers).status_code == 200
    ack = client.post(f"/api/accounts/{ref}/handoff/acknowledgements", headers=headers, json={"decision": "accept"})
    assert ack.status_code == 403 and "acknowledge" in ack.json()["detail"]
