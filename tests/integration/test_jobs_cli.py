"""`journey jobs list` / `journey jobs run NAME [--dry-run]`: every scheduled job runs now through the CLI,
on an empty database and on one with work waiting; a dry run changes no row; the audit trail says `cli`."""
from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, update
from typer.testing import CliRunner

from journey import db
from journey.audit import Actor
from journey.cli import app
from journey.config import get_settings
from journey.health import service
from journey.health.service import SignalIn
from journey.jobs.registry import jobs_for
from journey.models import (
    Account,
    AuditEntry,
    Base,
    HealthScore,
    OutboxMessage,
    Review,
    ReviewReminder,
    Role,
    TeamMember,
)
from tests.builders import deal_signed, drain, post_event

pytestmark = pytest.mark.usefixtures("db_url")
EVERY_JOB = {"evaluate_changed_accounts", "send_review_reminders", "mark_missed_reviews", "remind_incomplete_packets",
             "refresh_objective_statuses", "drain_outbox", "recompute_all_health", "evaluate_expansion_rules",
             "send_weekly_digests", "drain_writeback", "sync_crm_writeback",
             "kpi_snapshot"}


def jobs(*args: str) -> tuple[int, str]:
    """Exit code and stdout (logs and the progress bar go to stderr)."""
    result = CliRunner().invoke(app, ["jobs", *args])
    return result.exit_code, result.stdout if result.exit_code == 0 else result.output


def snapshot() -> dict[str, list[tuple]]:
    """Every row of every table, as text: what a dry run must leave exactly as it found it."""
    with db.transaction(writer=False) as s:
        return {t.name: sorted(tuple(str(v) for v in row) for row in s.execute(select(t)))
                for t in Base.metadata.sorted_tables}


def work_waiting(client) -> int:  # type: ignore[no-untyped-def]
    """A signed deal (plan, packet, reviews, objectives) with work due for every job: a review reminder
    due, a review that passed without an outcome, signals not evaluated yet on an account scored green
    before, a notification to send, a manager for the team digest. The account's id."""
    post_event(client, deal_signed())
    assert drain() == ["processed"]
    now = datetime.now(UTC)
    with db.transaction() as s:
        s.add(TeamMember(email="boss@vendor.example", name="Boss", role=Role.manager))
        account_id = s.scalar(select(Account.id))
        first, second = s.scalars(select(Review).order_by(Review.due_on)).all()[:2]
        first.starts_at, first.ends_at = now - timedelta(days=3), now - timedelta(days=3) + timedelta(hours=1)
        second.starts_at, second.ends_at = now + timedelta(days=5), now + timedelta(days=5, hours=1)
        s.execute(update(ReviewReminder).where(ReviewReminder.review_id == second.id)
                  .values(due_at=now - timedelta(minutes=1)))
        s.add(HealthScore(account_id=account_id, score=90, band="green", scorecard="default_onboarding",
                          scorecard_version=1, stage="onboarding", computed_at=now - timedelta(days=1),
                          band_changed_at=now - timedelta(days=30)))
        s.flush()
        items = [SignalIn(f"w-{m}", str(account_id), m, v, now - timedelta(hours=2))
                 for m, v in {"active_users": 5, "seats": 120, "escalation_open": 1, "nps": -40}.items()]
        service.record_signals(s, items=items, source="test", now=now, actor=Actor.flow("test"), rescore=False)
    return account_id


def test_jobs_list_names_every_job_with_its_schedule_and_as_json() -> None:
    code, out = jobs("list")
    assert code == 0, out
    assert {line.split()[0] for line in out.strip().splitlines()} == EVERY_JOB
    assert "recompute_all_health" in out and "daily at 02:00 UTC" in out and "every 0.25 s" in out
    code, out = jobs("list", "--json")
    listed = {j["name"]: j for j in json.loads(out)}
    assert set(listed) == EVERY_JOB
    assert listed["send_weekly_digests"]["trigger"] == {"trigger": "cron", "timezone": "UTC", "day_of_week": "mon",
                                                       "hour": 7, "minute": 0}
    assert listed["send_weekly_digests"]["schedule"] == "every mon at 07:00 UTC"
    assert all(j["description"] for j in listed.values())


@pytest.mark.parametrize("waiting", [False, True], ids=["empty", "work-waiting"])
def test_every_job_runs_by_hand_and_a_dry_run_writes_nothing(client, waiting: bool) -> None:
    if waiting:
        work_waiting(client)
    names = [j.name for j in jobs_for(get_settings())]
    assert set(names) == EVERY_JOB
    for name in names:
        before = snapshot()
        code, out = jobs("run", name, "--dry-run")
        assert code == 0, f"{name}: {out}"
        assert out.startswith(f"{name}: ") and "(dry run: nothing written, nothing sent)" in out
        assert snapshot() == before, f"the dry run of {name} changed the database"
        code, out = jobs("run", name)
        assert code == 0, f"{name}: {out}"
        assert out.startswith(f"{name}: ") and "dry run" not in out


@pytest.mark.clock("2026-11-25T09:00:00Z")  # days after the builders' deal: its later reviews lie ahead
def test_a_dry_run_says_what_the_real_run_then_does(client) -> None:
    account_id = work_waiting(client)
    assert jobs("run", "send_review_reminders", "--dry-run")[1].startswith("send_review_reminders: 1 sent in ")
    assert jobs("run", "mark_missed_reviews", "--dry-run")[1].startswith("mark_missed_reviews: 1 missed in ")
    dry = jobs("run", "evaluate_changed_accounts", "--dry-run")[1]
    assert dry.startswith("evaluate_changed_accounts: 1 accounts, 1 band changes, 0 expansion reminders in ")
    assert jobs("run", "send_review_reminders")[1].startswith("send_review_reminders: 1 sent in ")
    assert jobs("run", "mark_missed_reviews")[1].startswith("mark_missed_reviews: 1 missed in ")
    assert jobs("run", "evaluate_changed_accounts")[1].startswith("evaluate_changed_accounts: 1 accounts, 1 band ")
    assert jobs("run", "evaluate_changed_accounts")[1].startswith("evaluate_changed_accounts: 0 accounts")
    with db.transaction(writer=False) as s:
        [change] = s.scalars(select(AuditEntry).where(AuditEntry.action == "health.band_changed",
                                                      AuditEntry.account_id == account_id)).all()
        due = s.scalars(select(OutboxMessage).where(OutboxMessage.status == "pending")).all()
    assert (change.actor_kind, change.actor) == ("cli", "journey jobs run evaluate_changed_accounts")
    assert jobs("run", "drain_outbox", "--dry-run")[1].startswith(f"drain_outbox: {len(due)} due in ")
    sent = jobs("run", "drain_outbox")[1]  # no SMTP or Slack configured: in-app only, skipped
    assert sent.startswith("drain_outbox: 0 sent, 0 retry, 0 dead, 0 unconfirmed, ") and f"{len(due)} skipped" in sent


def test_an_unknown_job_is_refused_with_the_list() -> None:
    code, out = jobs("run", "nightly")
    assert code == 2 and "no job 'nightly'" in out and "recompute_all_health" in out


def test_in_server_mode_the_inbox_submitter_is_a_job_too_and_its_dry_run_submits_nothing(monkeypatch) -> None:
    from journey.adapters import orchestrator
    from journey.kit import utcnow
    from journey.models import InboundEvent

    monkeypatch.setenv("PREFECT_API_URL", "http://127.0.0.1:9/api")
    submitted: list = []
    monkeypatch.setattr(orchestrator, "submit_batch",
                        lambda batch, *, idempotency_key, name=None, tags=None: submitted.append(batch) or "run-1")
    with db.transaction() as s:
        s.add(InboundEvent(source="events", external_id="e-1", type="deal.updated", payload="{}", received_at=utcnow()))
    assert "submit_due_inbox" in jobs("list")[1]
    assert jobs("run", "submit_due_inbox", "--dry-run")[1].startswith("submit_due_inbox: 1 due in ")
    assert submitted == []
    assert jobs("run", "submit_due_inbox")[1].startswith("submit_due_inbox: 1 submitted in ")
    assert len(submitted) == 1
