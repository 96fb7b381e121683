"""The account commands (`journey plan show`, `packets show / ack`, `owners set`, `kpis`,
`objectives progress`, `go-live set`) against a database, through typer's CliRunner."""
from __future__ import annotations

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from journey import db
from journey.cli import app
from journey.models import Objective
from tests.builders import deal_signed, drain, member_with_token, post_event

pytestmark = pytest.mark.usefixtures("db_url")
ACC = "crm:events:C-77"
CSM, AM, AE = "csm@vendor.example", "am@vendor.example", "ae@vendor.example"


def run(*args: str):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(app, list(args))


@pytest.fixture
def signed(client) -> None:  # type: ignore[no-untyped-def]
    post_event(client, deal_signed())
    assert drain() == ["processed"]


@pytest.mark.usefixtures("signed")
def test_go_live_set_moves_the_plan_and_plan_show_lists_the_slip() -> None:
    moved = run("go-live", "set", ACC, "2027-03-15", "--reason", "customer IT freeze", "--as", CSM)
    assert moved.exit_code == 0, moved.output
    assert "go-live 2027-01-15 -> 2027-03-15" in moved.output and "review(s) moved" in moved.output
    shown = run("plan", "show", ACC, "--as", CSM)
    assert shown.exit_code == 0, shown.output
    assert "go-live 2027-03-15" in shown.output
    assert "go-live 2027-01-15 -> 2027-03-15" in shown.output
    assert "by csm@vendor.example: customer IT freeze" in shown.output
    refused = run("go-live", "set", ACC, "2027-04-01", "--reason", "x", "--as", AE)
    assert refused.exit_code == 1 and "may not move the go-live" in refused.output
    assert run("go-live", "set", ACC, "soon", "--reason", "x", "--as", CSM).exit_code == 2  # not a date
    nobody = run("plan", "show", ACC, "--as", "ghost@vendor.example")
    assert nobody.exit_code == 1 and "no active team member with email ghost@vendor.example" in nobody.output


@pytest.mark.usefixtures("signed")
def test_packets_show_and_ack_through_the_packet_rules() -> None:
    summary = run("packets", "show", ACC, "--as", CSM)
    assert summary.exit_code == 0, summary.output
    assert "% complete" in summary.output
    md = run("packets", "show", ACC, "--as", CSM, "--format", "md")
    assert md.exit_code == 0 and "Réduire le temps d'intégration des agents" in md.output
    returned = run("packets", "ack", ACC, "--as", AM, "--decision", "return")
    assert returned.exit_code == 1 and "comment" in returned.output  # a return needs a comment
    back = run("packets", "ack", ACC, "--as", AM, "--decision", "return", "--comment", "no SE notes")
    assert back.exit_code == 0, back.output
    assert "returned by am@vendor.example; now returned" in back.output
    assert "am am@vendor.example return v1: no SE notes" in run("packets", "show", ACC, "--as", CSM).output
    assert run("packets", "ack", ACC, "--as", AE, "--decision", "accept").exit_code == 1


@pytest.mark.usefixtures("signed")
def test_owners_set_objectives_progress_and_kpis() -> None:
    member_with_token("boss@vendor.example", "manager")
    member_with_token("csm2@vendor.example", "csm")
    assert run("owners", "set", ACC, "--csm", "csm2@vendor.example", "--reason", "x", "--as", CSM).exit_code == 1
    moved = run("owners", "set", ACC, "--csm", "csm2@vendor.example", "--reason", "leave",
                "--as", "boss@vendor.example")
    assert moved.exit_code == 0 and "CSM csm2@vendor.example, AM am@vendor.example" in moved.output
    assert run("plan", "show", ACC, "--as", CSM).exit_code == 1  # no longer in the former CSM's book

    with db.transaction(writer=False) as s:
        objective_id = s.scalars(select(Objective.id)).one()
    done = run("objectives", "progress", ACC, str(objective_id), "--value", "6", "--note", "review",
               "--as", "csm2@vendor.example")
    assert done.exit_code == 0, done.output
    assert done.output.startswith("Réduire le temps d'intégration des agents: achieved")
    assert run("objectives", "progress", ACC, str(objective_id), "--value", "6", "--as", AE).exit_code == 1
    kpis = run("kpis", "--as", "boss@vendor.example")
    assert kpis.exit_code == 0 and "overall: 1 account(s)" in kpis.output
    assert "CSM csm2@vendor.example: 1 account(s)" in kpis.output
    assert "overall: 0 account(s)" in run("kpis", "--as", CSM).output
