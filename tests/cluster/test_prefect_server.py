"""The same acceptance as the embedded tests, through a real Prefect server (on PostgreSQL) and real
`journey worker` subprocesses: same journeys, same plans, same packets, same reviews as the same deliveries
processed inline on SQLite; a claim submitted twice is one run; a run waiting for a worker keeps its events;
a worker SIGKILLed while it holds a run loses nothing and doubles nothing.

Marked `cluster` (a Prefect server takes 10-60 s to start here); runs in `make test` where PostgreSQL is up.
The test process plays the API processes' submitter (`PrefectSubmitter.submit_once`, as `journey serve`
does in server mode); short leases (JOURNEY_SERVER_LEASE_SECONDS) keep the whole module to a few minutes.
"""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import create_engine, func, select, text

from journey import db
from journey.models import AuditEntry, InboundEvent, Journey, Review
from tests.builders import deal_signed, drain, event, member_with_token, post_event
from tests.conftest import PG_SERVER, wait_until
from tests.reliability.server import kill_tree

pytestmark = [pytest.mark.cluster, pytest.mark.usefixtures("db_url")]
BIN = Path(sys.executable).parent
REGISTERED = "Your deployments are being served"  # Prefect prints it once the deployment is registered


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
    log = open(home / "server.log", "w")  # noqa: SIM115 - the server's output for the whole module
    proc = subprocess.Popen([str(BIN / "prefect"), "server", "start", "--host", "127.0.0.1", "--port", str(port)],
                            env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}/api"
    try:
        ok = wait_until(lambda: _healthy(url), timeout=240, step=1)
        assert ok, "Prefect server did not start: " + (home / "server.log").read_text()[-500:]
        yield url
    finally:
        kill_tree(proc.pid)
        proc.wait()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _healthy(url: str) -> bool:
    try:
        return httpx.get(url + "/health", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


class Worker:
    def __init__(self, proc: subprocess.Popen, log: Path) -> None:  # type: ignore[type-arg]
        self.proc, self.log = proc, log

    def kill(self) -> None:
        kill_tree(self.proc.pid)
        self.proc.wait()


SLOW_STEP = """
import time
import flows.steps as steps
_open_journey = steps.open_journey
def _slowly(event_id):
    time.sleep({seconds})
    return _open_journey(event_id)
steps.open_journey = _slowly
"""


@pytest.fixture
def start_worker(prefect_server, db_url, tmp_path, monkeypatch) -> Iterator[Callable[[], Worker]]:
    """Start `journey worker` subprocesses on the test's database; each is SIGKILLed (with its flow runs)
    at the end of the test."""
    if not db_url.startswith("postgresql"):
        pytest.skip("the scaled-out mode runs on PostgreSQL")
    monkeypatch.setenv("PREFECT_API_URL", prefect_server)
    started: list[Worker] = []

    def start(concurrency: int = 2, *, wait: bool = True, seconds_per_event: float = 0) -> Worker:
        """wait=False when the deployment is registered already: the caller keeps submitting meanwhile,
        as the API processes would (leases of queued runs are renewed only while something submits).
        seconds_per_event: each deal.signed takes at least this long in this worker (a sitecustomize
        slows its first step), so a test can catch a run while it works."""
        log = tmp_path / f"worker-{len(started) + 1}.log"
        env = {**os.environ, "JOURNEY_DATABASE_URL": db_url, "PREFECT_API_URL": prefect_server,
               "PREFECT_HOME": str(tmp_path / "prefect"), "PREFECT_LOGGING_LEVEL": "INFO"}
        if seconds_per_event:
            slow = tmp_path / f"slow-{len(started) + 1}"
            slow.mkdir()
            (slow / "sitecustomize.py").write_text(SLOW_STEP.format(seconds=seconds_per_event))
            env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(slow), env.get("PYTHONPATH")]))
        proc = subprocess.Popen([str(BIN / "journey"), "worker", "--concurrency", str(concurrency)], env=env,
                                cwd=tmp_path, stdout=open(log, "w"), stderr=subprocess.STDOUT)  # noqa: SIM115
        started.append(Worker(proc, log))
        assert not wait or wait_until(lambda: REGISTERED in log.read_text(), timeout=180, step=0.5), (
            log.read_text()[-500:])
        return started[-1]

    yield start
    for w in started:
        w.kill()


def _lease(monkeypatch, seconds: float) -> None:  # type: ignore[no-untyped-def]
    from journey.config import get_settings

    monkeypatch.setenv("JOURNEY_SERVER_LEASE_SECONDS", str(seconds))
    get_settings.cache_clear()


def _events() -> list[InboundEvent]:
    with db.transaction(writer=False) as s:
        return list(s.scalars(select(InboundEvent).order_by(InboundEvent.id)))


def _submit_until(done: Callable[[list[InboundEvent]], bool], timeout: float = 150) -> list[InboundEvent]:
    """Submit and renew leases like an API process does, until `done(events)`."""
    from prefect.settings import PREFECT_API_URL, temporary_settings

    from flows.runner import PrefectSubmitter
    from journey.config import get_settings

    submitter, errors = PrefectSubmitter(get_settings()), []
    deadline = time.monotonic() + timeout
    with temporary_settings({PREFECT_API_URL: os.environ["PREFECT_API_URL"]}):  # whatever ran before us
        while time.monotonic() < deadline:
            try:
                submitter.renew_queued_leases()
                submitter.submit_once()
            except Exception as exc:  # noqa: BLE001 - recorded for the failure message
                errors.append(f"{type(exc).__name__}: {exc}"[:300])
            if done(events := _events()):
                return events
            time.sleep(0.5)
    raise AssertionError(f"not done in {timeout:.0f} s: {[(e.id, e.status, e.attempts, e.error) for e in events]}"
                         f"; submit errors: {errors[-3:]}")


def _all_finished(want: int) -> Callable[[list[InboundEvent]], bool]:
    return lambda events: sum(str(e.status) != "pending" for e in events) >= want


def _prefect(call: Callable[[Any], Any]) -> Any:
    from prefect.client.orchestration import get_client
    from prefect.settings import PREFECT_API_URL, temporary_settings

    with temporary_settings({PREFECT_API_URL: os.environ["PREFECT_API_URL"]}), get_client(sync_client=True) as c:
        return call(c)


def _runs_of(flow_name: str) -> list[Any]:
    from prefect.client.schemas.filters import FlowFilter, FlowFilterName
    from prefect.client.schemas.sorting import FlowRunSort

    return _prefect(lambda c: c.read_flow_runs(flow_filter=FlowFilter(name=FlowFilterName(any_=[flow_name])),
                                               sort=FlowRunSort.ID_DESC, limit=200))


def _log_lines(flow_run_ids: list[Any]) -> list[str]:
    from prefect.client.schemas.filters import LogFilter, LogFilterFlowRunId

    def read(c: Any) -> list[str]:
        return [log.message for log in c.read_logs(LogFilter(flow_run_id=LogFilterFlowRunId(any_=flow_run_ids)),
                                                    limit=200, offset=0)]

    return _prefect(read)


# The acceptance: phases of deliveries, each processed before the next is posted.
SCENARIO: list[list[tuple[str, dict[str, Any]]]] = [
    [("early-update", event("deal.updated", {"deal": {"id": "D-2002", "expected_go_live": "2027-03-15"}},
                            timestamp="2026-11-21T10:00:00Z"))],  # before its deal.signed: it waits
    [("signed-1", deal_signed("D-1001", "C-77")),
     ("signed-2", deal_signed("D-2002", "C-88", account={"name": "Beta GmbH"})),  # older than the update
     ("signed-1-again", deal_signed("D-1001", "C-77"))],
    [("slip", event("deal.updated", {"deal": {"id": "D-1001", "expected_go_live": "2027-03-15",
                                              "reason": "customer IT freeze"}}, timestamp="2026-11-22T09:00:00Z")),
     ("lost", event("deal.lost", {"deal": {"id": "D-2002", "reason": "budget cut"}},
                    timestamp="2026-11-22T10:00:00Z"))],
]
WAITING = "waiting for its deal.signed"


def _scrub(value: Any) -> Any:
    """What a user compares: no row ids (each database numbers its own) and no wall-clock times."""
    if isinstance(value, dict):
        return {k: _scrub(v) for k, v in value.items() if not (k in ("id", "at") or k.endswith(("_id", "_at")))}
    if isinstance(value, list):
        return [_scrub(v) for v in value]
    return value


def _snapshot(client, admin) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    out: dict[str, Any] = {"events": sorted((e.external_id, e.type, str(e.status)) for e in _events())}
    for crm_id in ("C-77", "C-88"):
        acc = client.get(f"/api/accounts/crm:events:{crm_id}", headers=admin).json()
        out[crm_id] = _scrub({
            "account": {k: acc.get(k) for k in ("name", "csm", "am")},
            "plan": client.get(f"/api/accounts/{acc['id']}/plan", headers=admin).json(),
            "packet": client.get(f"/api/accounts/{acc['id']}/handoff", headers=admin).json(),
            "reviews": client.get(f"/api/accounts/{acc['id']}/reviews", headers=admin).json()["items"]})
    for deal in ("D-1001", "D-2002"):
        out[deal] = _scrub(client.get(f"/api/journeys?deal=crm:events:{deal}", headers=admin).json()["items"])
    return out


def _differences(a: Any, b: Any, path: str = "") -> list[str]:
    """Where two snapshots differ, as readable paths (empty when they are the same)."""
    if isinstance(a, dict) and isinstance(b, dict):
        return [d for k in sorted(a.keys() | b.keys(), key=str)
                for d in _differences(a.get(k), b.get(k), f"{path}.{k}")]
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        return [d for n, (x, y) in enumerate(zip(a, b, strict=True)) for d in _differences(x, y, f"{path}[{n}]")]
    return [] if a == b else [f"{path}: {a!r} != {b!r}"]


def _embedded_snapshot(tmp_path: Path, monkeypatch) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    """The scenario processed the embedded way (inline, no Prefect) on a SQLite database of its own."""
    from fastapi.testclient import TestClient

    from journey import migrations
    from journey.app import create_app
    from journey.config import get_settings

    url = f"sqlite:///{tmp_path / 'embedded.db'}"
    engine = create_engine(url)
    with engine.connect() as conn:
        migrations.upgrade(conn)
        conn.commit()
    engine.dispose()
    with monkeypatch.context() as m:
        m.setenv("JOURNEY_DATABASE_URL", url)
        m.delenv("PREFECT_API_URL", raising=False)
        get_settings.cache_clear()
        with TestClient(create_app(start_runner=False)) as client:
            admin = member_with_token("admin@test.example", "admin")
            for phase in SCENARIO:
                for msg_id, payload in phase:
                    assert post_event(client, payload, msg_id=msg_id).status_code == 202
                drain()
            snapshot = _snapshot(client, admin)
    get_settings.cache_clear()
    return snapshot


def test_the_acceptance_through_a_prefect_server_matches_the_embedded_mode(client, admin, start_worker,
                                                                            tmp_path, monkeypatch) -> None:
    embedded = _embedded_snapshot(tmp_path, monkeypatch)
    assert embedded["D-1001"][0]["go_live_on"] == "2027-03-15"  # the slip, applied inline
    worker = start_worker()
    for n, phase in enumerate(SCENARIO):
        for msg_id, payload in phase:
            assert post_event(client, payload, msg_id=msg_id).status_code == 202
        if n == 0:  # the early update waits through phase 0 and is finished once its deal is signed
            _submit_until(lambda events: any(WAITING in (e.error or "") for e in events))
        else:
            _submit_until(_all_finished(sum(len(p) for p in SCENARIO[:n + 1])))
    scaled = _snapshot(client, admin)
    assert {status for *_, status in embedded["events"]} == {"processed"}
    assert scaled["events"] == embedded["events"], worker.log.read_text()[-800:]
    assert _differences(scaled, embedded) == []  # same journeys, plans (titles, due dates, statuses), packets, reviews
    assert [j["status"] for j in scaled["D-2002"]] == ["paused"]
    assert {r["status"] for r in scaled["C-88"]["reviews"]} == {"cancelled"}
    assert [j["go_live_on"] for j in scaled["D-2002"]] == ["2027-03-15"]  # the early update won
    batches = _runs_of("process-inbox")  # readable in Prefect's UI: names, tags, one log line per event
    assert any(r.name.startswith("inbox batch of ") and "D-1001 · Société Acme — Ünïcødé 🚀" in r.name
               and "D-2002 · Beta GmbH" in r.name for r in batches)
    assert any({"journey", "source:events", "type:deal.signed"} <= set(r.tags) for r in batches)
    assert {r.state_type.value for r in batches} == {"COMPLETED"}
    assert _runs_of("deal-signed") == []  # no subflow per event
    account = client.get("/api/accounts/crm:events:C-77", headers=admin).json()["id"]
    wanted = [f"deal.signed D-1001: processed; account /accounts/{account}", "deal.updated D-1001: processed",
              "deal.lost D-2002: processed"]  # each event's outcome, logged by the run (sent in batches)
    assert wait_until(lambda: all(any(w in line for line in _log_lines([r.id for r in batches])) for w in wanted),
                      timeout=30, step=1), _log_lines([r.id for r in batches])


def test_a_claim_is_one_run_and_a_run_waiting_for_a_worker_keeps_its_events(client, start_worker,
                                                                            monkeypatch) -> None:
    from prefect.settings import PREFECT_API_URL, temporary_settings

    from journey.adapters import orchestrator
    from journey.inbox import repository as inbox_repository
    from journey.inbox.domain import submission_key

    _lease(monkeypatch, 3)
    start_worker().kill()  # the deployment stays registered; no worker runs it for now
    post_event(client, deal_signed())
    (claimed,) = _submit_until(lambda events: events[0].attempts == 1, timeout=30)
    with db.transaction(writer=False) as s:
        key = submission_key(inbox_repository.claim_marks(s, [claimed.id]))
    batch = [(claimed.id, claimed.type)]
    with temporary_settings({PREFECT_API_URL: os.environ["PREFECT_API_URL"]}):
        first, again = (orchestrator.submit_batch(batch, idempotency_key=key) for _ in range(2))
    assert first == again  # the same claim submitted twice is the same flow run
    assert [str(r.id) for r in _runs_of("process-inbox") if r.parameters["events"] == [list(batch[0])]] == [first]

    deadline = time.monotonic() + 9  # three leases: only their renewal keeps the queued run's event
    _submit_until(lambda events: time.monotonic() > deadline, timeout=15)
    assert [e.attempts for e in _events()] == [1]  # not claimed again, not re-submitted

    _prefect(lambda c: c.delete_flow_run(first))  # the run vanished: the event is claimed and submitted again
    (event_,) = _submit_until(lambda events: events[0].attempts == 2, timeout=30)
    start_worker(wait=False)
    (event_,) = _submit_until(_all_finished(1), timeout=240)
    assert (str(event_.status), event_.attempts) == ("processed", 2)

    def runs() -> list[Any]:
        return [r for r in _runs_of("process-inbox") if r.parameters["events"] == [list(batch[0])]]

    assert wait_until(lambda: [r.state_type for r in runs()] == ["COMPLETED"], timeout=30), runs()
    assert str(runs()[0].id) != first


def test_a_worker_killed_while_it_holds_a_run_loses_and_doubles_nothing(client, start_worker, monkeypatch) -> None:
    from prefect.client.schemas.objects import StateType

    _lease(monkeypatch, 4)
    monkeypatch.setenv("JOURNEY_RUNNER_BATCH_SIZE", "4")
    # a run of 4 takes 2 s or more: the submitter's half-second polls see it working with events still pending
    first = start_worker(concurrency=1, seconds_per_event=0.5)
    deals = 12
    for n in range(deals):
        post_event(client, deal_signed(f"D-{n}", f"C-{n}"), msg_id=f"kill-{n}")

    held: set[int] = set()

    def holding(events: list[InboundEvent]) -> bool:
        """A run is working and at least two of its events are not finished yet."""
        pending = {e.id for e in events if str(e.status) == "pending"}
        for run in _runs_of("process-inbox"):
            mine = {e[0] for e in run.parameters["events"]} & pending
            if run.state_type == StateType.RUNNING and len(mine) >= 2:
                held.update(mine)
                return True
        return False

    _submit_until(holding, timeout=120)
    first.kill()  # SIGKILL, with the flow-run process it started
    queued = {e[0] for r in _runs_of("process-inbox") if r.state_type == StateType.SCHEDULED
              for e in r.parameters["events"]}
    deadline = time.monotonic() + 12  # three leases without a worker: the dead run's events lapse
    events = _submit_until(lambda events: time.monotonic() > deadline, timeout=20)
    unfinished = {e.id for e in events if e.id in held and str(e.status) == "pending"}
    assert unfinished, "the killed run finished its events: nothing was held"
    assert all(e.attempts == 2 for e in events if e.id in unfinished)  # claimed again and re-submitted
    assert all(e.attempts == 1 for e in events if e.id in queued)  # queued runs kept their leases

    start_worker(concurrency=2, wait=False)
    events = _submit_until(_all_finished(deals), timeout=300)
    assert {str(e.status) for e in events} == {"processed"}
    with db.transaction(writer=False) as s:
        assert s.scalar(select(func.count(func.distinct(Journey.deal_id)))) == s.scalar(
            select(func.count()).select_from(Journey)) == deals
        assert s.scalar(select(func.count()).select_from(Review)) == 3 * deals
        assert s.scalar(select(func.count()).where(AuditEntry.action == "journey.opened")) == deals


def test_a_batch_with_a_failed_event_ends_failed_naming_it_and_its_neighbour_is_done(client, prefect_server,
                                                                                     monkeypatch) -> None:
    """The batch flow a worker runs, run here against the server (so a step can be made to fail)."""
    from prefect.settings import PREFECT_API_URL, temporary_settings

    import flows.deal_signed as flow_module
    from flows.inbox_batch import process_inbox
    from flows.runner import claim_batch
    from journey.adapters import orchestrator

    monkeypatch.setenv("PREFECT_API_URL", prefect_server)
    post_event(client, deal_signed("D-OK", "C-OK"), msg_id="fine")
    post_event(client, deal_signed("D-BAD", "C-BAD"), msg_id="broken")
    fine, broken = (e.id for e in _events())
    real = flow_module.open_journey
    monkeypatch.setattr(flow_module, "open_journey", lambda event_id: 1 / 0 if event_id == broken else real(event_id))
    batch = claim_batch(10)
    with temporary_settings({PREFECT_API_URL: prefect_server}):
        outcomes = orchestrator.run_batch(process_inbox, batch)
    assert outcomes == {fine: "processed", broken: "retry"}
    (run,) = [r for r in _runs_of("process-inbox") if {e[0] for e in r.parameters["events"]} == {fine, broken}]
    assert (run.state_type.value, run.state.message) == ("FAILED", f"1 of 2 events failed: {broken} (retry)")
    assert run.run_count == 1  # nothing retried the batch, so nothing re-ran the event that was done
    assert [(e.id, str(e.status), e.attempts) for e in _events()] == [(fine, "processed", 1), (broken, "pending", 1)]
    assert wait_until(lambda: any(f"event {broken} deal.signed D-BAD: retry" in line and "ZeroDivisionError" in line
                                  for line in _log_lines([run.id])), timeout=30, step=1)
