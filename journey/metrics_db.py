"""Gauges and counters read from the database when Prometheus scrapes: the same figures from every API process,
whatever process did the work (the embedded runner, a `journey worker`'s flow runs, the scheduler).

One read-only transaction per scrape, a handful of aggregate queries on indexed columns. If the database cannot
be read, `journey_database_up` is 0 and the other families are left out (Prometheus marks them stale) rather
than the scrape failing.
"""
from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

import structlog
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from journey import db, job_runs
from journey.config import get_settings
from journey.jobs.registry import Cron, jobs_for
from journey.kit import as_utc, utcnow
from journey.metrics import REGISTRY
from journey.models import CrmWrite, EventStatus, InboundEvent, OutboxMessage

log = structlog.get_logger("journey.metrics")
OUTBOX_WATCHED = ("pending", "unconfirmed", "dead")
HANDLED = (EventStatus.processed, EventStatus.ignored, EventStatus.dead)
_registered: list[Collector] = []


# --- queries ----------------------------------------------------------------------------------------------------
def inbox_figures(session: Session, now: datetime) -> dict[str, float]:
    pending = EventStatus.pending
    due_since = func.coalesce(InboundEvent.next_attempt_at, InboundEvent.received_at)
    oldest = session.scalar(select(func.min(due_since)).where(InboundEvent.status == pending, due_since <= now))
    counts = dict(session.execute(select(InboundEvent.status, func.count())
                                  .where(InboundEvent.status.in_([pending, EventStatus.dead]))
                                  .group_by(InboundEvent.status)).tuples().all())
    return {"pending": counts.get(pending, 0), "dead": counts.get(EventStatus.dead, 0),
            "oldest_due_age": max(0.0, (now - as_utc(oldest)).total_seconds()) if oldest else 0.0}


def handled_events(session: Session) -> list[tuple[str, str, str, int]]:
    stmt = (select(InboundEvent.source, InboundEvent.type, InboundEvent.status, func.count())
            .where(InboundEvent.status.in_(HANDLED))
            .group_by(InboundEvent.source, InboundEvent.type, InboundEvent.status))
    return [(source, kind, str(status), n) for source, kind, status, n in session.execute(stmt)]


def outbox_counts(session: Session) -> dict[str, int]:
    stmt = (select(OutboxMessage.status, func.count()).where(OutboxMessage.status.in_(OUTBOX_WATCHED))
            .group_by(OutboxMessage.status))
    return dict(session.execute(stmt).tuples().all())


def crm_write_counts(session: Session) -> list[tuple[str, str, int]]:
    """(crm, state, count): `waiting` rows are pending (due or coalescing), `dead` ones the CRM refused."""
    stmt = (select(CrmWrite.crm, CrmWrite.status, func.count())
            .where(or_(CrmWrite.status == "pending", CrmWrite.status == "dead"))
            .group_by(CrmWrite.crm, CrmWrite.status))
    return [(crm, "waiting" if status == "pending" else status, n) for crm, status, n in session.execute(stmt)]


# --- the collector ----------------------------------------------------------------------------------------------
def job_intervals() -> dict[str, float]:
    """Each scheduled job of this deployment's mode, with the expected time between two recorded successes (the
    alert allows two). A job of another mode (a `job_run` row left from before a move to PostgreSQL) has none,
    so it never alerts."""
    settings = get_settings()
    embedded = settings.is_sqlite  # the server's own scheduler thread, with its runner to wake
    intervals = {}
    for job in jobs_for(settings, wake=(lambda: None) if embedded else None):
        name = job.name
        if isinstance(job.trigger, Cron):
            intervals[name] = 7 * 86400.0 if job.trigger.day_of_week else 86400.0
        else:
            intervals[name] = max(job.trigger.seconds, float(job_runs.HEARTBEAT_SECONDS))
    return intervals


class DatabaseCollector(Collector):
    def collect(self) -> Iterator[Any]:
        up = GaugeMetricFamily("journey_database_up", "1 if /metrics could read the database just now, else 0")
        try:
            families = self._read()
        except Exception as exc:  # noqa: BLE001 - a scrape reports the database down, it does not fail
            log.warning("metrics.database_unreadable", error=f"{type(exc).__name__}: {exc}")
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        yield from families

    def _read(self) -> list[Any]:
        now = utcnow()
        with db.transaction(writer=False) as session:
            inbox = inbox_figures(session, now)
            handled = handled_events(session)
            outbox = outbox_counts(session)
            writes = crm_write_counts(session)
            runs = job_runs.last_runs(session)
        families: list[Any] = [
            _gauge("journey_inbox_pending_events", "Inbox events not yet handled (due now or waiting for a retry "
                   "or for their deal)", inbox["pending"]),
            _gauge("journey_inbox_dead_events", "Inbox events given up after their attempts (dead letters; "
                   "`journey events replay` retries them)", inbox["dead"]),
            _gauge("journey_inbox_oldest_pending_age_seconds", "How long the oldest due inbox event has waited "
                   "since it became due (0: none waiting)", inbox["oldest_due_age"]),
        ]
        total = CounterMetricFamily("journey_inbox_events", "Inbox events handled, by source, type and final "
                                    "status (read from the database: counts every process's work)",
                                    labels=["source", "type", "status"])
        for source, kind, status, n in handled:
            total.add_metric([source, kind, status], n)
        messages = GaugeMetricFamily("journey_outbox_messages", "Notifications (email, Slack) by state: pending, "
                                     "unconfirmed (the server may or may not have sent it), dead",
                                     labels=["status"])
        for status in OUTBOX_WATCHED:
            messages.add_metric([status], outbox.get(status, 0))
        crm = GaugeMetricFamily("journey_crm_writes", "CRM records by write-back state: waiting (a change not "
                                "yet acknowledged by the CRM), dead (refused for good)", labels=["crm", "state"])
        for name, state, n in writes:
            crm.add_metric([name, state], n)
        last = GaugeMetricFamily("journey_job_last_success_timestamp_seconds", "When each scheduled job last "
                                 "succeeded (Unix time; interval jobs are recorded at most once a minute)",
                                 labels=["scheduled_job"])
        for job_id, at in sorted(runs.items()):
            last.add_metric([job_id], as_utc(at).timestamp())
        expected = GaugeMetricFamily("journey_job_interval_seconds", "The time expected between two recorded "
                                     "successes of each scheduled job", labels=["scheduled_job"])
        for name, seconds in sorted(job_intervals().items()):
            expected.add_metric([name], seconds)
        return [*families, total, messages, crm, last, expected]


def _gauge(name: str, documentation: str, value: float) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, documentation, value=value)


def register() -> None:
    """Add the database's figures to journey's registry, once per process."""
    if not _registered:
        collector = DatabaseCollector()
        REGISTRY.register(collector)
        _registered.append(collector)
