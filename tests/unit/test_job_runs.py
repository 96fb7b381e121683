"""Whether a cron job missed a fire time since its last run (the scheduler's start-up catch-up)."""
from __future__ import annotations

from datetime import UTC, datetime

import pytest

from journey.job_runs import cron_trigger, missed_fire

WEEKLY = cron_trigger({"trigger": "cron", "day_of_week": "mon", "hour": 7, "minute": 0, "timezone": "UTC"})
NIGHTLY = cron_trigger({"trigger": "cron", "hour": 2, "minute": 0, "timezone": "UTC"})


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@pytest.mark.parametrize(("trigger", "last_run", "now", "missed"), [
    (NIGHTLY, "2026-11-23T02:00:01", "2026-11-24T01:59:59", None),  # ran last night; tonight's is ahead
    (NIGHTLY, "2026-11-23T02:00:01", "2026-11-24T02:00:00", "2026-11-24T02:00:00"),
    (NIGHTLY, "2026-11-20T02:00:01", "2026-11-24T09:00:00", "2026-11-21T02:00:00"),  # four missed: one run
    (NIGHTLY, "2026-11-23T01:59:00", "2026-11-23T03:00:00", "2026-11-23T02:00:00"),  # down across 02:00
    (WEEKLY, "2026-11-23T07:00:00", "2026-11-29T23:00:00", None),  # Monday's digests went out
    (WEEKLY, "2026-11-16T07:00:04", "2026-11-23T10:00:00", "2026-11-23T07:00:00"),  # down on Monday morning
])
def test_missed_fire(trigger, last_run, now, missed) -> None:
    found = missed_fire(trigger, last_run=at(last_run), now=at(now))
    assert found == (at(missed) if missed else None)
