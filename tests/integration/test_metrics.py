"""`/metrics` as Prometheus scrapes it: standard collectors, HTTP by route template, the database's backlogs and
the scheduler's heartbeats (the same from any process), Prometheus naming; the shipped alert rules and dashboard
refer to metrics that exist, and promtool accepts the rules and their unit tests."""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from datetime import timedelta
from pathlib import Path

import pytest
import yaml
from prometheus_client.parser import text_string_to_metric_families

from journey import db
from journey.kit import utcnow
from journey.models import Account, CrmWrite, EventStatus, InboundEvent, JobRun, OutboxMessage
from tests.builders import deal_signed, drain, post_event

ROOT = Path(__file__).resolve().parents[2]
RULES = ROOT / "deploy" / "prometheus" / "alerts.yml"
RULE_TESTS = ROOT / "deploy" / "prometheus" / "alerts_test.yml"
DASHBOARD = ROOT / "deploy" / "grafana" / "journey.json"
TOKEN = "metrics-token-for-tests-0123"


@pytest.fixture
def scrape(client, monkeypatch):  # type: ignore[no-untyped-def]
    from journey.config import get_settings

    monkeypatch.setenv("JOURNEY_METRICS_TOKEN", TOKEN)
    get_settings.cache_clear()

    def read() -> tuple[str, dict[str, float]]:
        answer = client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
        assert answer.status_code == 200, answer.text
        samples = {}
        for family in text_string_to_metric_families(answer.text):
            for s in family.samples:
                labels = ",".join(f'{k}="{v}"' for k, v in sorted(s.labels.items()))
                samples[f"{s.name}{{{labels}}}" if labels else s.name] = s.value
        return answer.text, samples

    return read


def _row(session, **over):  # type: ignore[no-untyped-def]
    now = utcnow()
    values = {"source": "events", "external_id": f"x-{over.get('status', 'p')}-{id(over)}", "type": "deal.signed",
              "subject": "D-9", "payload": "{}", "status": EventStatus.pending, "received_at": now} | over
    session.add(InboundEvent(**values))


def test_standard_collectors_and_no_created_series(scrape) -> None:
    text, samples = scrape()
    for name in ("process_cpu_seconds_total", "process_resident_memory_bytes", "process_start_time_seconds",
                 "python_gc_objects_collected_total"):
        assert any(k.startswith(name) for k in samples), name
    assert 'python_info{' in text
    assert "_created" not in text


def test_http_requests_are_counted_by_route_template_and_status_class_never_raw_path(client, admin, scrape) -> None:
    key = 'journey_http_request_duration_seconds_count{method="GET",route="/api/accounts/{ref}",status="4xx"}'
    before = scrape()[1].get(key, 0)  # the histogram is the process's: other tests' requests are in it
    for ref in ("crm:events:A-1", "crm:events:B-2"):
        assert client.get(f"/api/accounts/{ref}", headers=admin).status_code == 404
    client.get("/no/such/page/ZZUNIQUEZZ")
    text, samples = scrape()
    assert samples[key] - before == 2
    assert "A-1" not in text and "ZZUNIQUEZZ" not in text
    assert samples['journey_http_request_duration_seconds_count{method="GET",route="unmatched",status="4xx"}'] >= 1


def test_backlogs_are_read_from_the_database_at_scrape_time(client, scrape, clock) -> None:
    post_event(client, deal_signed())
    drain()
    now = utcnow()
    with db.transaction() as session:
        account = session.query(Account).one()
        _row(session, external_id="due", received_at=now - timedelta(minutes=10))
        _row(session, external_id="retry", received_at=now - timedelta(hours=2),
             next_attempt_at=now + timedelta(hours=1))
        _row(session, external_id="dead", status=EventStatus.dead)
        _row(session, external_id="by-a-worker", source="hubspot", type="deal.propertyChange",
             status=EventStatus.processed)  # as another process (a `journey worker`) would have left it
        for n, status in enumerate(("pending", "unconfirmed", "dead", "dead", "sent")):
            session.add(OutboxMessage(channel="email", recipient="a@b.example", subject="s", body_text="b",
                                      dedupe_key=f"k{n}", status=status, created_at=now))
        session.add(CrmWrite(crm="hubspot", object_type="deal", object_id="1", account_id=account.id,
                             status="pending", created_at=now))
        session.add(CrmWrite(crm="hubspot", object_type="company", object_id="2", account_id=account.id,
                             status="idle", created_at=now))
        session.add(JobRun(job_id="drain_outbox", last_run_at=now - timedelta(minutes=3)))
    _, samples = scrape()
    assert samples["journey_database_up"] == 1
    assert samples["journey_inbox_pending_events"] == 2
    assert samples["journey_inbox_dead_events"] == 1
    assert 595 <= samples["journey_inbox_oldest_pending_age_seconds"] <= 660  # the due one; the retry is not due
    assert samples['journey_inbox_events_total{source="events",status="processed",type="deal.signed"}'] == 1
    assert samples['journey_inbox_events_total{source="hubspot",status="processed",type="deal.propertyChange"}'] == 1
    assert samples['journey_inbox_events_total{source="events",status="dead",type="deal.signed"}'] == 1
    outbox = [samples[f'journey_outbox_messages{{status="{s}"}}'] for s in ("pending", "unconfirmed", "dead")]
    assert outbox == [1, 1, 2]
    assert samples['journey_crm_writes{crm="hubspot",state="waiting"}'] == 1
    assert abs(samples['journey_job_last_success_timestamp_seconds{scheduled_job="drain_outbox"}']
               - (now - timedelta(minutes=3)).timestamp()) < 1
    assert samples['journey_job_interval_seconds{scheduled_job="drain_outbox"}'] == 60
    assert samples['journey_job_interval_seconds{scheduled_job="kpi_snapshot"}'] == 7 * 86400
    assert samples['journey_job_interval_seconds{scheduled_job="recompute_all_health"}'] == 86400
    clock.shift(timedelta(minutes=5))
    assert 895 <= scrape()[1]["journey_inbox_oldest_pending_age_seconds"] <= 960


def test_an_unreadable_database_is_a_figure_not_a_failed_scrape(scrape, monkeypatch) -> None:
    from journey import metrics_db
    from journey.errors import ServiceUnavailable

    def down(**kwargs):
        raise ServiceUnavailable("the database cannot be reached; retry later")

    monkeypatch.setattr(metrics_db.db, "transaction", down)
    text, samples = scrape()
    assert samples["journey_database_up"] == 0 and "journey_inbox_pending_events" not in text
    assert "process_cpu_seconds_total" in text


def test_names_follow_prometheus_conventions(client, admin, scrape) -> None:
    client.get("/healthz")
    text, _ = scrape()
    types = dict(re.findall(r"^# TYPE (journey_\w+) (\w+)$", text, re.MULTILINE))
    assert types, text
    for name, kind in types.items():
        assert not re.search(r"_(ms|milliseconds|minutes|hours|days)$", name), name
        if kind == "counter":
            assert name.endswith("_total") or re.search(rf"^{name}_total", text, re.MULTILINE), name
        if kind == "histogram":
            assert name.endswith("_seconds"), name


def test_an_interval_job_records_its_success_at_most_once_a_minute(db_url, clock) -> None:
    from journey.jobs.registry import Every, JobSpec
    from journey.scheduler import _logged

    calls = []
    job = JobSpec("heartbeat_test", "a test job", Every(1), lambda ctx: calls.append(ctx.now) or {})
    run = _logged(job, None)
    run()
    with db.transaction(writer=False) as session:
        first = session.get(JobRun, "heartbeat_test").last_run_at
    clock.shift(timedelta(seconds=30))
    run()
    with db.transaction(writer=False) as session:
        assert session.get(JobRun, "heartbeat_test").last_run_at == first
    clock.shift(timedelta(seconds=31))
    run()
    with db.transaction(writer=False) as session:
        assert (session.get(JobRun, "heartbeat_test").last_run_at - first).total_seconds() >= 60
    assert len(calls) == 3


# ------------------------------------------------------------------------------------ alert rules and dashboard
def _exported_names(scrape, client) -> set[str]:
    post_event(client, deal_signed())
    client.get("/healthz")
    text, _ = scrape()
    return set(re.findall(r"^# TYPE (\w+) \w+$", text, re.MULTILINE)) | {
        m for m in re.findall(r"^(\w+)(?:\{| )", text, re.MULTILINE)}


def _metric_names(expr: str) -> set[str]:
    words = set(re.findall(r"\b([a-z_]+_[a-z_]+)\b", expr))
    return {w for w in words if w.startswith(("journey_", "process_", "python_"))}


def test_the_alert_rules_parse_and_name_metrics_journey_exports(scrape, client) -> None:
    rules = yaml.safe_load(RULES.read_text())
    [group] = rules["groups"]
    alerts = {r["alert"]: r for r in group["rules"]}
    assert {"JourneyDeadLetters", "JourneyInboxBacklog", "JourneySchedulerSilent"} <= set(alerts)
    assert "journey_inbox_dead_events" in alerts["JourneyDeadLetters"]["expr"]
    assert "> 300" in alerts["JourneyInboxBacklog"]["expr"]
    assert "2 * " in alerts["JourneySchedulerSilent"]["expr"]
    exported = _exported_names(scrape, client)
    for rule in group["rules"]:
        assert set(rule) <= {"alert", "expr", "for", "labels", "annotations"}, rule
        assert rule["labels"]["severity"] in {"warning", "critical"} and rule["annotations"]["summary"]
        assert _metric_names(rule["expr"]) <= exported, rule["alert"]


def test_the_dashboard_is_grafana_json_whose_queries_name_exported_metrics(scrape, client) -> None:
    board = json.loads(DASHBOARD.read_text())
    exported = _exported_names(scrape, client)
    exported |= {n + suffix for n in exported for suffix in ("_bucket", "_count", "_sum")}
    assert board["title"] == "journey" and board["panels"]
    for panel in board["panels"]:
        assert panel["targets"], panel["title"]
        for target in panel["targets"]:
            assert _metric_names(target["expr"]) <= exported, (panel["title"], target["expr"])


def _promtool() -> str | None:
    local = ROOT / ".venv" / "bin" / "promtool"
    return shutil.which("promtool") or (str(local) if local.exists() else None)


@pytest.mark.parametrize("command", [["check", "rules", str(RULES)], ["test", "rules", str(RULE_TESTS)]])
def test_promtool_accepts_the_rules_and_their_unit_tests(command) -> None:
    promtool = _promtool()
    if promtool is None:
        if os.environ.get("CI") == "true":
            pytest.fail("promtool is missing (make promtool)")
        pytest.skip("promtool is missing: `make promtool` unpacks it from Debian's prometheus package")
    done = subprocess.run([promtool, *command], capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "SUCCESS" in done.stdout + done.stderr
