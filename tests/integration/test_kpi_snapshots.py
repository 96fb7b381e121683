"""Weekly KPI snapshots: one row per week and scope, kept once the week has ended (what was true then),
backfilled from the timestamps the tables keep, and taken from the command line."""
from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from tests.builders import deal_signed, drain, post_event

pytestmark = pytest.mark.usefixtures("db_url")
SIGNED = deal_signed(deal={"signed_at": "2026-11-02T10:00:00Z"})


def _snapshots(week: str) -> dict[str, dict]:  # type: ignore[type-arg]
    from journey import db
    from journey.models import KpiSnapshot

    with db.transaction(writer=False) as session:
        return {s.scope: s.figures for s in session.scalars(select(KpiSnapshot).where(KpiSnapshot.week == week))}


def _history(account_id: int, *days: tuple[date, str]) -> None:
    from journey import db
    from journey.models import HealthHistory

    with db.transaction() as session:
        for day, band in days:
            session.add(HealthHistory(account_id=account_id, day=day, score=50, band=band, scorecard_version=1))


def _account_id() -> int:
    from journey import db
    from journey.models import Account

    with db.transaction(writer=False) as session:
        return session.scalars(select(Account.id)).one()


def test_a_week_that_ended_keeps_its_snapshot(client, clock) -> None:
    from journey import db
    from journey.kpis import service
    from journey.models import KpiSnapshot, PlanTask

    clock.move_to("2026-11-25T09:00:00Z")  # Wednesday of 2026-W48
    post_event(client, SIGNED)
    assert drain() == ["processed"]
    with db.transaction() as session:
        assert service.snapshot_week(session, week="2026-W48", now=datetime(2026, 11, 25, 9, tzinfo=UTC)) == 9
    running = _snapshots("2026-W48")
    members = {k for k in running if k.startswith("member:") and "|" not in k}  # the CSM's and the AM's books...
    assert set(running) == {"team", "segment:mid_market", "region:FR", *members,  # ...and each within the filters
                            *(f"{m}|{f}" for m in members for f in ("segment:mid_market", "region:FR"))}
    assert running["team"]["accounts"] == 1 and running["team"]["arr"] == 48000.0
    after = datetime(2026, 12, 1, 9, tzinfo=UTC)  # the week has ended: the snapshot is taken once more...
    with db.transaction() as session:
        assert service.snapshot_week(session, week="2026-W48", now=after) == 9
    ended = _snapshots("2026-W48")
    with db.transaction() as session:  # ...then something changes, and the week keeps what was true then
        task = session.scalars(select(PlanTask).order_by(PlanTask.id)).first()
        task.status, task.done_at = "done", after
        assert service.snapshot_week(session, week="2026-W48", now=after) == 0
        assert session.scalar(select(func.count()).select_from(KpiSnapshot)) == 9
    assert _snapshots("2026-W48") == ended


def test_backfill_reads_past_weeks_from_the_health_history(client, clock) -> None:
    from journey.cli import app

    clock.move_to("2026-11-25T09:00:00Z")
    post_event(client, SIGNED)
    assert drain() == ["processed"]
    _history(_account_id(), (date(2026, 11, 10), "critical"), (date(2026, 11, 24), "healthy"))
    result = CliRunner().invoke(app, ["kpis", "backfill", "--weeks", "4"])
    assert result.exit_code == 0, result.output
    assert "2026-W45" in result.output and "2026-W48" in result.output
    assert _snapshots("2026-W45")["team"]["accounts"] == 1  # signed on Monday 2 November
    assert _snapshots("2026-W46")["team"]["arr_at_risk"] == 48000.0  # critical then
    assert _snapshots("2026-W46")["team"]["health_mix"] == {"critical": 1}
    assert _snapshots("2026-W48")["team"]["arr_at_risk"] == 0.0  # healthy since the 24th
    again = CliRunner().invoke(app, ["kpis", "backfill", "--weeks", "4"])
    assert "2026-W46: kept" in again.output


def test_snapshot_refuses_a_malformed_or_future_week(client, clock) -> None:
    from journey.cli import app

    clock.move_to("2026-11-25T09:00:00Z")
    bad = CliRunner().invoke(app, ["kpis", "snapshot", "--week", "2026-48"])
    assert bad.exit_code == 1 and "2027-W05" in bad.output
    future = CliRunner().invoke(app, ["kpis", "snapshot", "--week", "2027-W05"])
    assert future.exit_code == 1 and "not started" in future.output
    book = CliRunner().invoke(app, ["kpis"])  # the book's KPIs still want --as
    assert book.exit_code != 0 and "--as" in book.output
