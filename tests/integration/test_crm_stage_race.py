"""Two workers applying a deal's first stage changes at once: the stage record never moves backwards."""
from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta

import pytest

pytestmark = pytest.mark.usefixtures("db_url")
T0 = datetime(2026, 11, 20, 14, 0, tzinfo=UTC)


def _save(session, *, at: datetime, won: bool, event_id: int) -> bool:
    from journey.adapters.crm import repository

    return repository.save_stage(session, source="hubspot", external_id="race-1", pipeline="default",
                                 stage="closedwon" if won else "closedlost", won=won, occurred_at=at,
                                 event_id=event_id)


def test_the_second_worker_waits_for_the_first_and_sees_its_newer_change() -> None:
    from journey import db
    from journey.adapters.crm import repository

    first_locked, seen, errors = threading.Event(), {}, []

    def first() -> None:  # the newer change (won), processed first
        try:
            with db.transaction() as session:
                row = repository.lock_stage(session, source="hubspot", external_id="race-1")
                assert row.event_id is None  # nothing applied yet: a placeholder, already locked
                first_locked.set()
                time.sleep(0.5)  # the second worker is now blocked on the same row
                assert _save(session, at=T0 + timedelta(minutes=1), won=True, event_id=1)
        except Exception as exc:  # noqa: BLE001 - reported by the main thread
            errors.append(exc)

    def second() -> None:  # the older change (lost), delivered late
        try:
            assert first_locked.wait(10)
            with db.transaction() as session:
                row = repository.lock_stage(session, source="hubspot", external_id="race-1")
                seen["last"] = (row.event_id, row.occurred_at, row.won)
                seen["saved"] = _save(session, at=T0, won=False, event_id=2)
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert errors == []
    assert seen == {"last": (1, T0 + timedelta(minutes=1), True), "saved": False}
    with db.transaction(writer=False) as session:
        final = repository.read_stage(session, source="hubspot", external_id="race-1")
        assert final is not None
        assert (final.event_id, final.won, final.occurred_at) == (1, True, T0 + timedelta(minutes=1))


def test_save_refuses_an_older_change_even_without_the_caller_checking() -> None:
    from journey import db
    from journey.adapters.crm import repository

    with db.transaction() as session:
        repository.lock_stage(session, source="hubspot", external_id="race-1")
        assert _save(session, at=T0, won=True, event_id=1)
        assert not _save(session, at=T0 - timedelta(seconds=1), won=False, event_id=2)
        assert _save(session, at=T0, won=True, event_id=1)  # the same event again (a retry) is re-applied
        assert _save(session, at=T0 + timedelta(seconds=1), won=False, event_id=3)
    with db.transaction(writer=False) as session:
        final = repository.read_stage(session, source="hubspot", external_id="race-1")
        assert final is not None and (final.event_id, final.won) == (3, False)
