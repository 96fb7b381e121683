"""`journey serve` as users run it: a queued signals batch (202) tells the runner process's scheduler, which
evaluates the accounts once the burst settles, not at the sweep's next poll."""
from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from journey.models import Account, HealthScore, PendingEvaluation
from tests.reliability.server import Server, wait_until


def test_a_queued_batch_is_evaluated_right_after_it_by_the_runner_process_scheduler(tmp_path: Path) -> None:
    server = Server(tmp_path, JOURNEY_EVALUATE_INTERVAL_SECONDS="3600", JOURNEY_ORCHESTRATOR="inline")
    server.migrate()
    assert server.cli("users", "create", "--email", "admin@x.example", "--name", "A", "--role", "admin").returncode == 0
    token = server.cli("tokens", "create", "--email", "admin@x.example").stdout.strip()
    engine = server.engine()
    with Session(engine) as s:
        accounts = [Account(crm_source="import", crm_external_id=f"Q{i}", name=f"Q{i}", timezone="UTC")
                    for i in range(25)]
        s.add_all(accounts)
        s.commit()
        ids = [a.id for a in accounts]
    server.start()
    try:
        assert wait_until(lambda: httpx.get(server.base + "/readyz", timeout=5).json()["runner_process"] == "running",
                          timeout=60), server.log_tail()
        time.sleep(0.5)  # the sweep's run at start is done: the next poll is an hour away
        at = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
        items = [{"id": f"s-{a}", "account": str(a), "metric": "nps", "value": 40, "at": at} for a in ids]
        r = httpx.post(server.base + "/api/signals", json={"items": items},
                       headers={"Authorization": f"Bearer {token}"}, timeout=30)
        assert (r.status_code, r.json()["queued"]) == (202, 25)

        def evaluated() -> bool:
            with engine.connect() as conn:
                return (conn.scalar(select(func.count()).select_from(PendingEvaluation)) == 0
                        and conn.scalar(select(func.count()).select_from(HealthScore)) == 25)

        assert wait_until(evaluated, timeout=10, step=0.05), server.log_tail()
    finally:
        server.stop()
        engine.dispose()
