"""SIGKILL of `journey serve` in the middle of a burst, then a restart.

Every delivery answered 2xx before the kill is in the inbox and is processed exactly once after the
restart (one journey, opened once); senders that retry on no answer, as CRMs do, lose nothing either.
    make reliability RELIABILITY_ARGS="-k sigkill"
"""
from __future__ import annotations

import asyncio
import signal
import threading

import pytest

from tests.builders import deal_signed
from tests.reliability import checks
from tests.reliability.server import Delivery, Outcome, Server, orchestrator, scale, send_all, wait_until

pytestmark = pytest.mark.reliability


def test_sigkill_mid_burst_then_restart_processes_every_acknowledged_delivery_once(tmp_path):
    n = max(100, round(2_000 * scale()))
    deliveries = [Delivery.of(deal_signed(f"K-{i}", f"KC-{i}")) for i in range(n)]
    acked: set[str] = set()

    def on_answer(outcome: Outcome) -> None:
        if outcome.status is not None and 200 <= outcome.status < 300:
            acked.add(outcome.delivery.msg_id)

    with Server(tmp_path / "crash", JOURNEY_ORCHESTRATOR=orchestrator()) as server:
        server.migrate()
        server.start()
        outcomes: list[Outcome] = []
        sending = threading.Thread(target=lambda: outcomes.extend(asyncio.run(
            send_all(server.base, deliveries, senders=16, retry_for=240, on_answer=on_answer, timeout=10))))
        sending.start()
        assert wait_until(lambda: len(acked) >= n // 3, timeout=120, step=0.05), "the burst never got going"
        server.stop(signal.SIGKILL)
        acked_before_kill = set(acked)
        engine = server.engine()
        in_flight = len(checks.inbox(engine).status_by_delivery) - len(acked_before_kill)
        server.start()
        sending.join(300)
        assert not sending.is_alive(), "senders still retrying after 300 s"
        drained = wait_until(lambda: checks.pending_count(engine) == 0, timeout=120 + 0.3 * n, step=2)
        assert drained, f"{checks.pending_count(engine)} still pending; log: {server.log_tail()}"

    assert 0 < len(acked_before_kill) < n, "the kill must land in the middle of the burst"
    assert {o.status for o in outcomes} == {202}, "a retrying sender gets every delivery accepted in the end"
    box = checks.inbox(engine)
    assert box.not_processed(acked_before_kill) == {}, "a delivery acknowledged before the kill was lost"
    assert len(box.status_by_delivery) == n, f"inbox rows {len(box.status_by_delivery)} for {n} deliveries"
    assert box.not_processed({d.msg_id for d in deliveries}) == {}
    assert checks.journeys(engine).problems({d.deal for d in deliveries}) == []
    print(f"\n{len(acked_before_kill)} of {n} acknowledged before SIGKILL; {in_flight} stored but unanswered")
