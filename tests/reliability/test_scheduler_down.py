"""The scheduler down while review reminders fall due, then two schedulers started at once.

Deals signed 80 days ago get a 90-day review in 10 days whose 30- and 14-day reminders are already due.
With the scheduler off nothing is sent; once `journey serve` (scheduler thread) and a second
`journey scheduler run` start together, each review sends exactly one reminder (the nearest due one: a
scheduler back from downtime does not send a burst), none is lost, none is sent twice.
    make reliability RELIABILITY_ARGS="-k scheduler"
"""
from __future__ import annotations

import asyncio
import subprocess
from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from journey.kit import utcnow
from journey.models import Reminder, ReviewReminder
from tests.builders import deal_signed
from tests.reliability import checks
from tests.reliability.server import BIN, Delivery, Server, scale, send_all, wait_until

pytestmark = pytest.mark.reliability


def _due_pending(engine) -> set[int]:  # type: ignore[no-untyped-def]
    with engine.connect() as conn:
        return set(conn.scalars(select(ReviewReminder.review_id)
                                .where(ReviewReminder.status == "pending", ReviewReminder.due_at <= utcnow())))


def _sent_per_review(engine) -> Counter[int]:  # type: ignore[no-untyped-def]
    with engine.connect() as conn:
        keys = conn.scalars(select(Reminder.dedupe_key).where(Reminder.kind == "review_reminder")).all()
    return Counter(int(key.split(":")[1]) for key in keys)


def _statuses(engine) -> dict[str, int]:  # type: ignore[no-untyped-def]
    with engine.connect() as conn:
        return dict(conn.execute(select(ReviewReminder.status, func.count()).group_by(ReviewReminder.status))
                    .tuples().all())


def test_reminders_due_while_the_scheduler_was_down_are_sent_once_when_it_returns(tmp_path):
    n = max(20, round(200 * scale()))
    signed = (utcnow() - timedelta(days=80)).strftime("%Y-%m-%dT%H:%M:%SZ")
    deliveries = [Delivery.of(deal_signed(f"S-{i}", f"SC-{i}", deal={"signed_at": signed})) for i in range(n)]
    down = Server(tmp_path / "sched", JOURNEY_ORCHESTRATOR="inline", JOURNEY_SCHEDULER="0")
    down.migrate()
    with down:
        down.start()
        assert {o.status for o in asyncio.run(send_all(down.base, deliveries, senders=8))} == {202}
        engine = down.engine()
        assert wait_until(lambda: checks.pending_count(engine) == 0, timeout=60 + n), down.log_tail()
        due = _due_pending(engine)
    assert len(due) >= n, f"each deal should have a review with due reminders; {len(due)} for {n} deals"
    assert _sent_per_review(engine) == Counter(), "nothing may be sent while the scheduler is down"

    up = Server(tmp_path / "sched", JOURNEY_ORCHESTRATOR="inline", JOURNEY_SCHEDULER_INTERVAL_SECONDS="2")
    with open(tmp_path / "scheduler.log", "wb") as log:
        second = subprocess.Popen([str(BIN / "journey"), "scheduler", "run", "--poll", "0.5"], cwd=up.work,
                                  env=up.env, stdout=log, stderr=subprocess.STDOUT)
    try:
        with up:
            up.start()
            assert wait_until(lambda: not _due_pending(engine), timeout=120), _statuses(engine)
            wait_until(lambda: False, timeout=5)  # a second sweep by whichever scheduler leads: still once
    finally:
        second.terminate()
        second.wait(30)

    sent = _sent_per_review(engine)
    assert set(sent) == due, f"reviews without their reminder: {sorted(due - set(sent))[:5]}"
    assert set(sent.values()) == {1}, f"reminders sent twice: {[r for r, k in sent.items() if k > 1][:5]}"
    statuses = _statuses(engine)
    assert statuses.get("sent") == len(due) and statuses.get("superseded", 0) >= 1, statuses
