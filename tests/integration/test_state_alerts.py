"""Alerts for states, not only changes: a red account with an open escalation alerts its CSM after 3 days
of escalation, again after the 7-day cool-down while it lasts, whatever the number of evaluations."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from journey import db
from journey.audit import Actor
from journey.config import get_settings
from journey.evaluation import service as evaluation
from journey.health import service
from journey.health.service import SignalIn
from journey.jobs.registry import jobs_for, run_job
from journey.models import Account, ActorKind, OutboxMessage, Reminder, Role, TeamMember

pytestmark = pytest.mark.usefixtures("db_url")
RED = {"active_users": 10, "seats": 100, "feature_adoption": 0.1, "nps": -20, "csat": 2, "csm_sentiment": 2,
       "support_tickets_open": 9, "invoice_overdue_days": 0, "logins_7d": 5}


def nightly() -> dict[str, int]:
    [job] = [j for j in jobs_for(get_settings()) if j.name == "recompute_all_health"]
    return run_job(job, now=datetime.now(UTC), actor=Actor(ActorKind.scheduler, job.name))


def unresolved() -> list[Reminder]:
    with db.transaction(writer=False) as s:
        return list(s.scalars(select(Reminder).where(Reminder.kind == "risk.unresolved").order_by(Reminder.id)))


def send(account_id: int, values: dict[str, float], tag: str) -> None:
    now = datetime.now(UTC)
    with db.transaction() as s:
        items = [SignalIn(f"{tag}-{account_id}-{m}", str(account_id), m, v, now - timedelta(hours=1))
                 for m, v in values.items()]
        service.record_signals(s, items=items, source="test", now=now, actor=Actor.flow("test"))


def setup() -> tuple[int, int]:
    with db.transaction() as s:
        csm = TeamMember(email="csm@x.example", name="Camille", role=Role.csm)
        s.add(csm)
        s.flush()
        accounts = [Account(crm_source="events", crm_external_id=n, name=n, segment="mid_market", timezone="UTC",
                            csm_id=csm.id) for n in ("Acme", "Globex")]
        s.add_all(accounts)
        s.flush()
        return accounts[0].id, accounts[1].id


@pytest.mark.clock("2026-11-12T08:00:00Z")
def test_red_with_an_open_escalation_alerts_after_three_days_then_once_per_cool_down(clock) -> None:
    acme, globex = setup()
    send(acme, RED | {"escalation_open": 1}, "d0")  # red from today, escalation open from today
    send(globex, RED, "d0")  # red, no escalation: alerted once red for 7 days
    nightly()
    assert unresolved() == []
    for day in (1, 2):
        clock.shift(timedelta(days=1))
        send(acme, {"nps": -20, "active_users": 10}, f"d{day}")  # still bad, still open
        send(globex, {"nps": -20, "active_users": 10}, f"d{day}")
        nightly()
    assert unresolved() == []

    clock.shift(timedelta(days=1))  # 2026-11-15: the escalation has been open for 3 days
    send(acme, {"nps": -20, "active_users": 10}, "d3")
    for _ in range(5):  # the nightly run and evaluations on change: one alert
        nightly()
        with db.transaction() as s:
            evaluation.evaluate(s, account_ids=[acme, globex], now=datetime.now(UTC), actor=Actor.flow("test"))
    [alert] = unresolved()
    assert alert.account_id == acme
    assert alert.reason == ("Acme: red since 2026-11-12 (3 days): escalation open since 2026-11-12 (3 days), "
                            "Seat utilisation 10 %, Feature adoption 10 %.")  # the two factors costing the most
    with db.transaction(writer=False) as s:
        channels = s.scalars(select(OutboxMessage.channel).where(OutboxMessage.reminder_id == alert.id)).all()
    assert sorted(channels) == ["email", "slack"]

    for day in range(4, 10):  # within the 7-day cool-down for Acme; Globex red for 7 days on the 19th
        clock.shift(timedelta(days=1))
        send(acme, {"nps": -20, "active_users": 10}, f"d{day}")
        send(globex, {"nps": -20, "active_users": 10}, f"d{day}")
        nightly()
    alerts = unresolved()
    assert [(a.account_id, a.created_at.date().isoformat()) for a in alerts] == [
        (acme, "2026-11-15"), (globex, "2026-11-19")]
    assert alerts[1].reason.startswith("Globex: red since 2026-11-12 (7 days): ")

    clock.shift(timedelta(days=1))  # 2026-11-22: seven days after Acme's alert, still red and open
    nightly()
    assert [a.account_id for a in unresolved()].count(acme) == 2
    assert unresolved()[-1].reason.startswith("Acme: red since 2026-11-12 (10 days): escalation open since "
                                              "2026-11-12 (10 days)")


@pytest.mark.clock("2026-11-12T08:00:00Z")
def test_a_closed_escalation_stops_the_alerts(clock) -> None:
    acme, _ = setup()
    send(acme, {"escalation_open": 1, "nps": 50}, "open")
    clock.shift(timedelta(days=2))
    send(acme, {"escalation_open": 0}, "closed")
    clock.shift(timedelta(days=2))
    nightly()
    assert unresolved() == []
