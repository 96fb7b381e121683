"""The nightly recompute's batches in flight on PostgreSQL (`health.jobs._in_flight`): results in order, never
more than n batches at once, and a failing batch stops the job instead of letting the night's other batches run."""
from __future__ import annotations

import threading
import time

import pytest

from journey.health.jobs import _in_flight


def test_results_come_in_batch_order_with_at_most_n_running() -> None:
    running, most, lock = 0, 0, threading.Lock()

    def work(ids: list[int]) -> int:
        nonlocal running, most
        with lock:
            running += 1
            most = max(most, running)
        time.sleep(0.01 * (3 - ids[0] % 3))  # later batches finish first
        with lock:
            running -= 1
        return ids[0]

    assert list(_in_flight(([n] for n in range(9)), work, 2)) == list(range(9))
    assert most == 2


def test_a_failing_batch_stops_the_batches_not_yet_submitted() -> None:
    started: list[int] = []

    def work(ids: list[int]) -> int:
        started.append(ids[0])
        if ids[0] == 1:
            raise RuntimeError("database gone")
        return ids[0]

    with pytest.raises(RuntimeError, match="database gone"):
        list(_in_flight(([n] for n in range(50)), work, 2))
    assert max(started) <= 3  # batch 1 failed: at most the next one or two had been submitted
