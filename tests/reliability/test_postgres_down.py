"""PostgreSQL stopped in the middle of a burst, then started again.

While it is down, deliveries get 503 `database_unavailable` with `Retry-After` (never a 500, never a 2xx
that is then lost); a sender that retries gets everything in, and every delivery is processed once.

Which PostgreSQL is stopped: by default a private throwaway cluster (initdb on a free port, as the
`postgres` user), so the scenario never takes the database away from anything else on the machine.
`RELIABILITY_PG=system` stops the machine's own cluster instead (`pg_ctlcluster ... main stop`) and
starts it again in a `finally`: only on a machine where nothing else uses it (CI runs alone).
    make reliability RELIABILITY_ARGS="-k postgres"
"""
from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import subprocess
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from flows.runner import LEASE
from tests.builders import deal_signed
from tests.reliability import checks
from tests.reliability.server import Delivery, Outcome, Server, free_port, orchestrator, scale, send_all, wait_until

pytestmark = pytest.mark.reliability
DOWN_SECONDS = 6


def _pg_version() -> str:
    versions = sorted(os.listdir("/etc/postgresql")) if os.path.isdir("/etc/postgresql") else []
    if not versions:
        pytest.skip("no PostgreSQL installed (/etc/postgresql is empty)")
    return versions[-1]


class Cluster:
    """A PostgreSQL cluster this scenario may stop and start: (server URL, stop(), start())."""

    def __init__(self, url: str, stop: list[str], start: list[str]) -> None:
        self.url, self._stop, self._start = url, stop, start

    def stop(self) -> None:
        subprocess.run(self._stop, check=True, capture_output=True, timeout=60)

    def start(self) -> None:
        subprocess.run(self._start, check=True, capture_output=True, timeout=60)


@contextlib.contextmanager
def _private_cluster() -> Iterator[Cluster]:
    if os.geteuid() != 0 or shutil.which("runuser") is None:
        pytest.skip("a private cluster needs root (initdb runs as the postgres user); see RELIABILITY_PG=system")
    pg = Path(f"/usr/lib/postgresql/{_pg_version()}/bin")
    home = Path(tempfile.mkdtemp(prefix="journey-reliability-pg-"))
    shutil.chown(home, "postgres")
    port, data = free_port(), home / "data"
    as_pg = ["runuser", "-u", "postgres", "--"]
    subprocess.run([*as_pg, str(pg / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres", "--no-sync"],
                   check=True, capture_output=True, timeout=120)
    options = f"-p {port} -k {home} -c listen_addresses=127.0.0.1 -c fsync=off"
    start = [*as_pg, str(pg / "pg_ctl"), "-D", str(data), "-o", options, "-l", str(home / "log"), "-w", "start"]
    stop = [*as_pg, str(pg / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"]
    cluster = Cluster(f"postgresql+psycopg://postgres@127.0.0.1:{port}", stop, start)
    cluster.start()
    try:
        yield cluster
    finally:
        subprocess.run(stop, capture_output=True, check=False, timeout=60)
        shutil.rmtree(home, ignore_errors=True)


@contextlib.contextmanager
def _system_cluster() -> Iterator[Cluster]:
    version = _pg_version()
    ctl = ["pg_ctlcluster", "--skip-systemctl-redirect", version, "main"]
    cluster = Cluster(os.environ.get("JOURNEY_TEST_PG_SERVER", "postgresql+psycopg://postgres@127.0.0.1:5432"),
                      [*ctl, "stop", "-m", "fast"], [*ctl, "start"])
    try:
        yield cluster
    finally:  # never leave the machine without its database, whatever happened above
        subprocess.run([*ctl, "start"], capture_output=True, check=False, timeout=60)


@contextlib.contextmanager
def _fresh_database(server_url: str) -> Iterator[str]:
    name = f"journey_reliability_{uuid.uuid4().hex[:8]}"
    admin = create_engine(f"{server_url}/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield f"{server_url}/{name}"
    finally:
        with contextlib.suppress(Exception), admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def test_postgres_stopped_mid_burst_answers_503_and_a_retrying_sender_loses_nothing(tmp_path):
    n = max(90, round(1_500 * scale()))
    deliveries = [Delivery.of(deal_signed(f"P-{i}", f"PC-{i}")) for i in range(n)]
    answers: list[Outcome] = []
    cluster_of = _system_cluster if os.environ.get("RELIABILITY_PG") == "system" else _private_cluster
    with cluster_of() as cluster, _fresh_database(cluster.url) as url:
        with Server(tmp_path / "pg", database_url=url, JOURNEY_ORCHESTRATOR=orchestrator()) as server:
            server.migrate()
            server.start()
            outcomes: list[Outcome] = []
            sending = threading.Thread(target=lambda: outcomes.extend(asyncio.run(
                send_all(server.base, deliveries, senders=16, retry_for=240, on_answer=answers.append))))
            sending.start()
            assert wait_until(lambda: len(answers) >= n // 3, timeout=120, step=0.05), "the burst never started"
            cluster.stop()
            try:
                time.sleep(DOWN_SECONDS)
            finally:
                cluster.start()
            sending.join(300)
            assert not sending.is_alive(), "senders still retrying after 300 s"
            engine, back = server.engine(), time.monotonic()
            # a batch the outage interrupted is given back when the database returns: no lease to wait out
            assert wait_until(lambda: checks.pending_count(engine) == 0,
                              timeout=min(LEASE.total_seconds(), 120 + 0.3 * n), step=2), server.log_tail()
            print(f"\ninbox drained {time.monotonic() - back:.0f} s after PostgreSQL came back")
        box, journeys = checks.inbox(engine), checks.journeys(engine)
        engine.dispose()

    refused = [o for o in answers if o.status != 202]
    assert refused, "no delivery was refused while PostgreSQL was down"
    kinds = {(o.status, o.code, o.retry_after is not None) for o in refused}
    assert kinds == {(503, "database_unavailable", True)}, f"answers while PostgreSQL was down: {kinds}"
    assert {o.status for o in outcomes} == {202}
    assert box.not_processed({d.msg_id for d in deliveries}) == {}
    assert journeys.problems({d.deal for d in deliveries}) == []
