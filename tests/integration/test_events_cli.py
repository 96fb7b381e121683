"""`journey events list` and `journey events replay`: the inbox from the command line."""
from __future__ import annotations

import pytest
from typer.testing import CliRunner

from journey import db
from journey.cli import app
from journey.inbox import repository, service
from journey.kit import utcnow
from journey.models import EventStatus, InboundEvent

pytestmark = pytest.mark.usefixtures("db_url")
WIDE = {"COLUMNS": "200"}


def _event(external_id: str, *, dead: bool) -> int:
    with db.transaction() as session:
        accepted = service.accept_delivery(session, source="hubspot", external_id=external_id, payload="{}",
                                           type="deal.propertyChange", subject=external_id, occurred_at=None,
                                           now=utcnow())
        if dead:
            repository.postpone(session, accepted.event_id, error="HubSpotUnavailable: 503", retry_at=None,
                                now=utcnow())
        return accepted.event_id


def test_events_list_filters_by_status_and_refuses_an_unknown_one() -> None:
    dead, pending = _event("D-1", dead=True), _event("P-1", dead=False)
    runner = CliRunner()
    listed = runner.invoke(app, ["events", "list", "--status", "dead"], env=WIDE)
    assert listed.exit_code == 0, listed.output
    assert f" {dead} " in listed.output and "D-1" in listed.output and "HubSpotUnavailable: 503" in listed.output
    assert "P-1" not in listed.output and f" {pending} " not in listed.output
    everything = runner.invoke(app, ["events", "list"], env=WIDE)
    assert "D-1" in everything.output and "P-1" in everything.output
    bogus = runner.invoke(app, ["events", "list", "--status", "bogus"], env=WIDE)
    assert bogus.exit_code == 2
    assert "'bogus' is not a status; use one of pending, processed, ignored, dead" in bogus.output
    assert "Traceback" not in bogus.output and isinstance(bogus.exception, SystemExit)  # a usage error, no crash


def test_events_replay_requeues_a_dead_event_and_explains_what_it_cannot_replay() -> None:
    dead = _event("D-2", dead=True)
    runner = CliRunner()
    replayed = runner.invoke(app, ["events", "replay", str(dead)])
    assert replayed.exit_code == 0 and f"event {dead} queued again" in replayed.output
    with db.transaction(writer=False) as session:
        event = session.get_one(InboundEvent, dead)
        assert (event.status, event.attempts, event.handled_at) == (EventStatus.pending, 0, None)
    again = runner.invoke(app, ["events", "replay", str(dead)])
    assert again.exit_code == 1 and "already waiting to be processed" in again.output
    missing = runner.invoke(app, ["events", "replay", "987654"])
    assert missing.exit_code == 1 and "no inbound event 987654" in missing.output
    assert runner.invoke(app, ["events", "replay", "not-a-number"]).exit_code == 2
