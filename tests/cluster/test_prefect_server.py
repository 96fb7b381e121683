"""The same acceptance as the embedded tests, through a real Prefect server (on PostgreSQL) and a real
`journey worker` subprocess: same journeys, same plans, same reviews.

Marked `cluster` (a Prefect server takes 10-60 s to start here); runs in `make test` where PostgreSQL is up.
"""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine, text

from tests.builders import deal_signed, event, post_event
from tests.conftest import PG_SERVER, wait_until

pytestmark = [pytest.mark.cluster, pytest.mark.usefixtures("db_url")]
BIN = Path(sys.executable).parent


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def prefect_server(tmp_path_factory):  # type: ignore[no-untyped-def]
    name = f"prefect_test_{uuid.uuid4().hex[:8]}"
    admin = create_engine(f"{PG_SERVER}/postgres", isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:  # noqa: BLE001
        pytest.skip(f"PostgreSQL not reachable: {exc}")
    port, home = _free_port(), tmp_path_factory.mktemp("prefect-server")
    env = {**os.environ, "PREFECT_HOME": str(home), "PREFECT_SERVER_ANALYTICS_ENABLED": "false", "DO_NOT_TRACK": "1",
           "PREFECT_UI_ENABLED": "false",
           "PREFECT_SERVER_DATABASE_CONNECTION_URL": f"{PG_SERVER.replace('+psycopg', '+asyncpg')}/{name}"}
    log = open(home / "server.log", "w")
    proc = subprocess.Popen([str(BIN / "prefect"), "server", "start", "--host", "127.0.0.1", "--port", str(port)],
                            env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}/api"
    try:
        ok = wait_until(lambda: _healthy(url), timeout=240, step=1)
        assert ok, "Prefect server did not start: " + (home / "server.log").read_text()[-500:]
        yield url
    finally:
        os.killpg(proc.pid, 9)
        proc.wait()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _healthy(url: str) -> bool:
    try:
        return httpx.get(url + "/health", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


@pytest.fixture
def worker(prefect_server, db_url, tmp_path, monkeypatch):  # type: ignore[no-untyped-def]
    if not db_url.startswith("postgresql"):
        pytest.skip("the scaled-out mode runs on PostgreSQL")
    monkeypatch.setenv("PREFECT_API_URL", prefect_server)
    env = {**os.environ, "JOURNEY_DATABASE_URL": db_url, "PREFECT_API_URL": prefect_server,
           "PREFECT_HOME": str(tmp_path / "prefect"), "PREFECT_LOGGING_LEVEL": "INFO"}
    log = open(tmp_path / "worker.log", "w")
    proc = subprocess.Popen([str(BIN / "journey"), "worker", "--concurrency", "2"], env=env, cwd=tmp_path,
                            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    registered = "Your deployments are being served"  # Prefect prints it once the deployment is registered
    assert wait_until(lambda: registered in (tmp_path / "worker.log").read_text(), timeout=180,
                      step=0.5), (tmp_path / "worker.log").read_text()[-500:]
    yield tmp_path / "worker.log"
    os.killpg(proc.pid, 9)
    proc.wait()


SUBMIT_ERRORS: list[str] = []


def _submit_until_done(client, admin, want: int, timeout: float = 300) -> list[dict]:  # type: ignore[no-untyped-def]
    """Submit like an API process does, until `want` events are no longer pending."""
    from prefect.settings import PREFECT_API_URL, temporary_settings

    from journey.config import get_settings
    from journey.runner import PrefectSubmitter

    submitter = PrefectSubmitter(get_settings())
    deadline = time.monotonic() + timeout
    with temporary_settings({PREFECT_API_URL: os.environ["PREFECT_API_URL"]}):  # whatever ran before us
        while time.monotonic() < deadline:
            try:
                submitter.submit_once()
            except Exception as exc:  # noqa: BLE001 - the deployment may not be registered yet
                SUBMIT_ERRORS.append(f"{type(exc).__name__}: {exc}"[:300])
                time.sleep(1)
            events = client.get("/api/events?limit=1000", headers=admin).json()["items"]
            if sum(e["status"] != "pending" for e in events) >= want:
                return events
            time.sleep(1)
    return client.get("/api/events?limit=1000", headers=admin).json()["items"]


def _why(worker: Path) -> str:
    return f"submit errors: {SUBMIT_ERRORS[-3:]}; worker log: {worker.read_text()[-600:]}"


def test_journeys_through_a_prefect_server_match_the_embedded_ones(client, admin, worker) -> None:
    assert post_event(client, deal_signed()).status_code == 202
    events = _submit_until_done(client, admin, want=1)
    assert [e["status"] for e in events] == ["processed"], _why(worker)
    acc = client.get("/api/accounts/crm:events:C-77", headers=admin).json()
    assert acc["name"] == "Société Acme — Ünïcødé 🚀"
    plan = client.get(f"/api/accounts/{acc['id']}/plan", headers=admin).json()
    assert plan["milestones"][0]["name"] == "Kickoff"
    packet = client.get(f"/api/accounts/{acc['id']}/handoff", headers=admin).json()
    assert [o["title"] for o in packet["objectives"]] == ["Réduire le temps d'intégration des agents"]
    reviews = client.get(f"/api/accounts/{acc['id']}/reviews", headers=admin).json()["items"]
    assert {r["kind"]: r["due_on"] for r in reviews} == {
        "90_day": "2027-02-18", "3_month": "2027-04-15", "6_month": "2027-07-15"}  # as embedded
    post_event(client, deal_signed(), msg_id="msg_again")
    post_event(client, event("deal.lost", {"deal": {"id": "D-1001"}}, timestamp="2026-11-22T10:00:00Z"))
    events = _submit_until_done(client, admin, want=3)
    assert sorted(e["status"] for e in events) == ["processed"] * 3, _why(worker)
    journeys = client.get("/api/journeys?deal=crm:events:D-1001", headers=admin).json()["items"]
    assert [j["status"] for j in journeys] == ["paused"]
    assert "deal.signed · deal D-1001" in worker.read_text()  # readable flow-run names in Prefect
