"""`journey jobs list` and `journey jobs run NAME [--dry-run]`: every scheduled job, run now by hand."""
from __future__ import annotations

import typer

from journey.cli.groups import command_group

jobs_app = command_group("Scheduled jobs: list them, run one now (as the scheduler would, acting as `cli`).")


@jobs_app.command("list")
def jobs_list(as_json: bool = typer.Option(False, "--json", help="print the jobs as JSON")) -> None:
    """The jobs `journey scheduler run` runs, with when and what for."""
    import json

    from journey.config import get_settings
    from journey.jobs.registry import jobs_for
    from journey.scheduler import inbox_submitter

    jobs = jobs_for(get_settings(), submit=inbox_submitter())
    if as_json:
        typer.echo(json.dumps([{"name": j.name, "description": j.description, "schedule": j.trigger.describe(),
                                "trigger": j.trigger.fields()} for j in jobs], indent=2))
        return
    width = max(len(j.name) for j in jobs)
    for job in jobs:
        typer.echo(f"{job.name:<{width}}  {job.trigger.describe():<22}  {job.description}")


@jobs_app.command("run")
def jobs_run(name: str = typer.Argument(..., help="a job of `journey jobs list`"),
             dry_run: bool = typer.Option(False, "--dry-run", help="compute what the job would do; write and "
                                                                    "send nothing (its transaction is rolled back)"),
             ) -> None:
    """Run one job now, whatever its schedule; prints what it did. The audit trail names `cli` as the actor."""
    import time

    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from journey import logs
    from journey.audit import Actor
    from journey.config import get_settings
    from journey.jobs.registry import describe_result, jobs_for, run_job
    from journey.kit import utcnow
    from journey.models import ActorKind
    from journey.scheduler import collect_for_batches, inbox_submitter

    settings = get_settings()
    collect_for_batches()  # the same batch work as in the scheduler's process
    jobs = {j.name: j for j in jobs_for(settings, submit=inbox_submitter())}
    job = jobs.get(name.strip())
    if job is None:
        typer.secho(f"error: no job {name!r}; the jobs are: {', '.join(jobs)}", fg="red", err=True)
        raise typer.Exit(2)
    console = Console(stderr=True)
    actor = Actor(ActorKind.cli, f"journey jobs run {job.name}")
    started = time.perf_counter()
    with logs.on_stderr(settings.log_level), Progress(  # stdout is the summary line alone
            TextColumn(job.name), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), console=console,
            disable=not console.is_terminal, transient=True) as progress:
        task = progress.add_task(job.name, total=None)
        result = run_job(job, now=utcnow(), actor=actor, dry_run=dry_run, debounce=False,
                         on_total=lambda n: progress.update(task, total=n),
                         on_advance=lambda n: progress.advance(task, n))
    typer.echo(describe_result(job, result, seconds=time.perf_counter() - started, dry_run=dry_run))
