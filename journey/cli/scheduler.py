"""`journey scheduler run`: the one APScheduler process of a multi-process deployment."""
from __future__ import annotations

import signal
import threading

import typer

from journey.cli.groups import command_group

scheduler_app = command_group("The scheduler: review reminders, missed reviews, and periodic jobs.")


@scheduler_app.command("run")
def run(poll: float = typer.Option(2.0, help="seconds between leader checks (and takeover delay)")) -> None:
    """Run the scheduler until stopped (Ctrl-C / SIGTERM). On PostgreSQL one process leads (advisory
    lock); others wait and take over within POLL seconds if it dies."""
    from journey import logs
    from journey.config import get_settings
    from journey.scheduler import SchedulerService, collect_for_batches

    settings = get_settings()
    logs.configure(settings.log_level, settings.resolved_log_format)
    collect_for_batches()
    service = SchedulerService(settings, poll=poll)
    stopped = threading.Event()

    def _stop(*_: object) -> None:
        stopped.set()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    typer.echo(f"journey scheduler: jobs {', '.join(j.name for j in service.jobs)}", err=True)
    service.start()
    while not stopped.wait(0.5):
        if not service.is_alive():
            raise typer.Exit(1)
    service.stop()


@scheduler_app.command("jobs")
def jobs(as_json: bool = typer.Option(False, "--json", help='print {"jobs": [...], "inbox": "..."}')) -> None:
    """List the jobs this scheduler would run, with their triggers, and who retries inbox events
    (`journey jobs list` describes them; `journey jobs run NAME` runs one now)."""
    from journey.config import get_settings
    from journey.jobs.registry import jobs_for
    from journey.scheduler import inbox_owner, inbox_submitter

    settings = get_settings()
    specs = jobs_for(settings, submit=inbox_submitter())
    if as_json:
        import json

        typer.echo(json.dumps({"jobs": [{"name": j.name, "trigger": j.trigger.fields()} for j in specs],
                               "inbox": inbox_owner(settings)}, indent=2))
        return
    for job in specs:
        trigger = ", ".join(f"{k}={v}" for k, v in job.trigger.fields().items())
        typer.echo(f"{job.name}\t{trigger}")
    typer.echo(f"# {inbox_owner(settings)}")
