"""`journey --version`, and `--json` on every `list` command: parsed back, with the rows the table shows."""
from __future__ import annotations

import json
from importlib.metadata import version
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from journey import db
from journey.cli import app
from journey.kit import utcnow
from journey.models import OutboxMessage
from tests.builders import deal_signed, drain, member_with_token, post_event

runner = CliRunner()


def _commands(group: Any, prefix: tuple[str, ...] = ()) -> list[tuple[tuple[str, ...], Any]]:
    """Every command under `group` with its path (typer's own click: groups have `commands`)."""
    found = []
    for name, command in group.commands.items():
        path = (*prefix, name)
        found.append((path, command))
        if hasattr(command, "commands"):
            found.extend(_commands(command, path))
    return found


LISTS = [path for path, command in _commands(typer.main.get_command(app))
         if path[-1] == "list" or path == ("scheduler", "jobs")]


def test_version_prints_the_installed_distribution() -> None:
    done = runner.invoke(app, ["--version"])
    assert done.exit_code == 0 and done.output == f"journey {version('journey')}\n"


def test_every_list_command_takes_json() -> None:
    assert {"events", "tokens", "jobs", "outbox"} <= {p[0] for p in LISTS}  # the walk finds them
    lacking = [" ".join(path) for path, command in _commands(typer.main.get_command(app))
               if path in LISTS and "--json" not in {o for p in command.params for o in p.opts}]
    assert lacking == [], f"list commands without --json: {lacking}"


@pytest.mark.usefixtures("db_url")
@pytest.mark.parametrize("path", LISTS, ids=" ".join)
def test_each_list_prints_parseable_json(path, client) -> None:
    member_with_token("admin@test.example", "admin")
    assert post_event(client, deal_signed()).status_code == 202
    drain()
    with db.transaction() as session:
        session.add(OutboxMessage(channel="email", recipient="csm@vendor.example", subject="Kickoff", body_text="hi",
                                  dedupe_key="test-1", status="dead", attempts=8, created_at=utcnow(), error="550"))
    done = runner.invoke(app, [*path, "--json"])
    assert done.exit_code == 0, done.output
    data = json.loads(done.output)
    if path == ("events", "list"):
        assert [(e["deal"], e["status"]) for e in data] == [("D-1001", "processed")]
    elif path == ("tokens", "list"):
        assert [t["email"] for t in data] == ["admin@test.example"] and "secret" not in done.output
    elif path == ("outbox", "list"):
        dead = [m for m in data["messages"] if m["subject"] == "Kickoff"]
        assert dead[0]["status"] == "dead" and dead[0]["error"] == "550" and data["crm_writes"] == []
    elif path == ("jobs", "list"):
        assert {"name", "description", "schedule", "trigger"} <= set(data[0])
    elif path == ("scheduler", "jobs"):
        assert data["jobs"] and isinstance(data["inbox"], str)
    else:
        pytest.fail(f"{' '.join(path)}: add what its JSON must hold to this test")
