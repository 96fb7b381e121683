"""Every scheduled job, once: its name, what it does, when it runs and the function that does it.

The scheduler (`journey scheduler run`, the embedded server's thread), `journey jobs run NAME` and the
tests all run a job through `run_job`, so a job does the same thing whoever starts it; only the actor in
the audit trail differs (`scheduler` or `cli`). Every function takes a `JobContext` and returns counts.
"""
from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from journey.adapters.orchestrator import server_mode
from journey.audit import Actor
from journey.config import Settings
from journey.digests.jobs import send_weekly_digests
from journey.evaluation.jobs import EVALUATE_JOB, Rhythm, evaluate_changed_accounts, warm_up
from journey.expansion.jobs import evaluate_expansion_rules
from journey.handoff import service as handoff_service
from journey.health.jobs import recompute_all_health
from journey.inbox.jobs import submit_due_inbox, sweep_inbox
from journey.job_context import JobContext, dry_run_session
from journey.kpis import domain as kpis_domain
from journey.kpis import service as kpis_service
from journey.notify import outbox
from journey.notify import repository as notify_repository
from journey.objectives import service as objectives_service
from journey.reviews.jobs import mark_missed_reviews, send_review_reminders
from journey.writeback import drain as writeback_drain
from journey.writeback import repository as writeback_repository


@dataclass(frozen=True)
class Every:
    seconds: float

    def fields(self) -> dict[str, Any]:
        return {"trigger": "interval", "seconds": self.seconds}

    def describe(self) -> str:
        s = self.seconds
        if s >= 3600 and s % 3600 == 0:
            return f"every {s // 3600:g} h"
        return f"every {s // 60:g} min" if s >= 60 and s % 60 == 0 else f"every {s:g} s"


@dataclass(frozen=True)
class Cron:
    hour: int
    minute: int = 0
    day_of_week: str | None = None  # mon, tue, ...; None: every day

    def fields(self) -> dict[str, Any]:
        days = {"day_of_week": self.day_of_week} if self.day_of_week else {}
        return {"trigger": "cron", "timezone": "UTC", **days, "hour": self.hour, "minute": self.minute}

    def describe(self) -> str:
        days = f"every {self.day_of_week}" if self.day_of_week else "daily"
        return f"{days} at {self.hour:02d}:{self.minute:02d} UTC"


@dataclass(frozen=True)
class JobSpec:
    name: str
    description: str
    trigger: Every | Cron
    run: Callable[[JobContext], dict[str, int]]
    run_at_start: bool = True  # interval jobs; a cron job runs at start only if it missed a fire time
    warm_up: Callable[[], None] | None = None  # run once when a scheduler starts leading, before any job

    @property
    def is_cron(self) -> bool:
        return isinstance(self.trigger, Cron)


def jobs_for(settings: Settings, *, wake: Callable[[], None] | None = None,
             submit: Callable[[Settings], int] | None = None, rhythm: Rhythm | None = None) -> list[JobSpec]:
    """The jobs of this deployment: with `wake` (the embedded server) the inbox sweep wakes its runner;
    in server mode the scheduler submits due inbox events to Prefect with `submit` (flows/runner.py's
    submit_due, which the caller hands over); otherwise each `journey serve` polls its inbox itself and no
    inbox job is needed. `rhythm` is the scheduler's (`evaluation.jobs.Rhythm`): its sweep settles by it."""
    sweep = Every(settings.scheduler_interval_seconds)
    jobs = [
        JobSpec(EVALUATE_JOB, "rescore the accounts whose inputs moved (signals, a task, a review "
                "outcome, a go-live slip, a packet acknowledged) and evaluate their risk and expansion rules",
                Every(settings.evaluate_interval_seconds), functools.partial(evaluate_changed_accounts, rhythm=rhythm),
                warm_up=warm_up),
        JobSpec("send_review_reminders", "send every review reminder that fell due, once each", sweep,
                send_review_reminders),
        JobSpec("mark_missed_reviews", "mark reviews that passed without an outcome missed; escalate the recent "
                "ones to the managers", sweep, mark_missed_reviews),
    ]
    if wake is not None:
        jobs.append(JobSpec("sweep_inbox", "wake this server's runner for due inbox events (retries)", Every(30),
                            sweep_inbox))
    elif server_mode():
        if submit is None:
            raise ValueError("server mode: jobs_for() needs the inbox submitter (flows.runner.submit_due)")
        jobs.append(JobSpec("submit_due_inbox", "submit due inbox events (retries) to the Prefect server",
                            Every(30), functools.partial(submit_due_inbox, submit=submit)))
    return jobs + [
        JobSpec("remind_incomplete_packets", "remind AEs of incomplete handoff packets (account working hours, "
                "every few business days)", Every(3600), remind_incomplete_packets),
        JobSpec("refresh_objective_statuses", "re-assess every open objective against today's date", Cron(4),
                refresh_objective_statuses),
        JobSpec("drain_outbox", "send the notifications that are due (email, Slack)", Every(15), drain_outbox),
        JobSpec("drain_writeback", "write journey's changed values to the CRMs (coalesced, rate-limited)", Every(15),
                drain_writeback),
        JobSpec("sync_crm_writeback", "write every account's values to the CRMs again (repairs drift)",
                Cron(2, 30), sync_crm_writeback, run_at_start=False),
        JobSpec("recompute_all_health", "rescore every account and raise its risk alerts (the safety net for "
                "what time alone moves: overdue tasks, stale data, red for a week)", Cron(2), recompute_all_health,
                run_at_start=False),
        JobSpec("evaluate_expansion_rules", "evaluate the AM's expansion rules for every account (the safety "
                "net for reviews coming up and renewal windows)", Cron(3), evaluate_expansion_rules,
                run_at_start=False),
        JobSpec("kpi_snapshot", "store the week that just ended's KPIs per team, segment, region and person (the "
                "weekly review reads what was true then)", Cron(0, 15, day_of_week="mon"), kpi_snapshot,
                run_at_start=False),
        JobSpec("send_weekly_digests", "queue this week's digest for every CSM / AM with a book and every "
                "manager", Cron(7, day_of_week="mon"), send_weekly_digests, run_at_start=False),
    ]


def run_job(job: JobSpec, *, now: datetime, actor: Actor, dry_run: bool = False, debounce: bool = True,
            wake: Callable[[], None] | None = None, on_total: Callable[[int], None] | None = None,
            on_advance: Callable[[int], None] | None = None) -> dict[str, int]:
    """Run a job now; its counts. A dry run writes nothing: its one transaction is rolled back."""
    ctx = JobContext(now=now, actor=actor, dry_run=dry_run, debounce=debounce, wake=wake, on_total=on_total,
                     on_advance=on_advance)
    if not dry_run:
        return job.run(ctx)
    with dry_run_session() as session:
        ctx._dry_session = session
        return job.run(ctx)


def describe_result(job: JobSpec, result: dict[str, int], *, seconds: float, dry_run: bool) -> str:
    """One line: `recompute_all_health: 1,000 accounts, 12 band changes in 3.2 s`."""
    counts = ", ".join(f"{value:,} {key.replace('_', ' ')}" for key, value in result.items()) or "nothing to do"
    note = " (dry run: nothing written, nothing sent)" if dry_run else ""
    return f"{job.name}: {counts} in {seconds:.1f} s{note}"


# --- jobs whose work is one service call: the transaction around it -------------------------------------------

def remind_incomplete_packets(ctx: JobContext) -> dict[str, int]:
    with ctx.transaction() as session:
        return {"reminders": handoff_service.remind_incomplete_packets(session, now=ctx.now, actor=ctx.actor)}


def refresh_objective_statuses(ctx: JobContext) -> dict[str, int]:
    with ctx.transaction() as session:
        return {"changed": objectives_service.refresh_objective_statuses(session, now=ctx.now, actor=ctx.actor)}


def drain_outbox(ctx: JobContext) -> dict[str, int]:
    """Send what is due; a dry run only counts it (a message sent cannot be rolled back)."""
    if ctx.dry_run:
        with ctx.transaction() as session:
            return {"due": notify_repository.count_due(session, now=ctx.now)}
    return outbox.drain_outbox(ctx.now)


def drain_writeback(ctx: JobContext) -> dict[str, int]:
    """Write what is due to the CRMs; a dry run only counts it (a write sent cannot be rolled back)."""
    if ctx.dry_run:
        with ctx.transaction() as session:
            return {"due": writeback_repository.count_due(session, now=ctx.now)}
    return writeback_drain.drain_writeback(ctx.now)


def sync_crm_writeback(ctx: JobContext) -> dict[str, int]:
    result = writeback_drain.sync_all(ctx.now, dry_run=ctx.dry_run)
    return {key: value for key, value in result.items() if isinstance(value, int)}


def kpi_snapshot(ctx: JobContext) -> dict[str, int]:
    """The week that ended (run on Monday just after midnight UTC), stored once and kept."""
    week = kpis_domain.week_of((ctx.now - timedelta(days=1)).date())
    with ctx.transaction() as session:
        return {"scopes": kpis_service.snapshot_week(session, week=week, now=ctx.now)}
