"""`journey` command line. Imports stay inside commands so `journey --help` starts fast."""
from __future__ import annotations

import typer

from journey.cli import admin
from journey.cli.crm import crm_app
from journey.cli.groups import command_group
from journey.cli.health import health_app
from journey.cli.imports import import_app
from journey.cli.jobs import jobs_app
from journey.cli.journeys import go_live_app, objectives_app, owners_app, plan_app
from journey.cli.kpis import kpis_app
from journey.cli.onboarding import packets_app, tasks_app, team_app
from journey.cli.outbox import outbox_app
from journey.cli.scheduler import scheduler_app
from journey.cli.worker import worker as worker_command

app = command_group("journey: post-signature customer journeys from CRM webhooks.", add_completion=False,
                    pretty_exceptions_enable=False)


def _print_version(value: bool) -> None:
    if value:
        from importlib.metadata import version

        typer.echo(f"journey {version('journey')}")
        raise typer.Exit()


@app.callback()
def _options(_version: bool = typer.Option(False, "--version", callback=_print_version, is_eager=True,
                                           help="print journey's version and exit")) -> None:
    """journey: post-signature customer journeys from CRM webhooks."""


app.add_typer(admin.db_app, name="db")
app.add_typer(admin.users_app, name="users")
app.add_typer(admin.tokens_app, name="tokens")
app.add_typer(admin.events_app, name="events")
app.add_typer(admin.config_app, name="config")
app.add_typer(import_app, name="import")
app.add_typer(health_app, name="health")
app.add_typer(team_app, name="team")
app.add_typer(packets_app, name="packets")
app.add_typer(tasks_app, name="tasks")
app.add_typer(plan_app, name="plan")
app.add_typer(go_live_app, name="go-live")
app.add_typer(owners_app, name="owners")
app.add_typer(objectives_app, name="objectives")
app.add_typer(kpis_app, name="kpis")
app.add_typer(scheduler_app, name="scheduler")
app.add_typer(jobs_app, name="jobs")
app.add_typer(outbox_app, name="outbox")
app.add_typer(crm_app, name="crm")


@app.command()
def serve(host: str = typer.Option("127.0.0.1", help="interface to listen on"),
          port: int = typer.Option(8000, help="port to listen on")) -> None:
    """API + in-process flow runner (embedded mode: SQLite under ./var, no Prefect server to start)."""
    from journey.cli.serving import serve as run

    run(host=host, port=port)


@app.command()
def demo() -> None:
    """Load the demo workspace (a team nine months in) through the real webhook route, and process it.
    Development only, into an empty database, which it migrates first (as `make run` does)."""
    from journey.config import get_settings

    settings = get_settings()
    if not settings.is_development:  # before importing the app (~2 s): the answer is no whatever it holds
        typer.secho("error: the demo has a published password: it loads only with JOURNEY_ENVIRONMENT=development",
                    fg="red", err=True)
        raise typer.Exit(1)
    from flows.runner import drain_inline  # here, not at the top: flows import Prefect (~0.8 s)
    from journey import logs, migrations
    from journey.app import create_app
    from journey.demo import load_demo_inline

    logs.configure("WARNING", settings.resolved_log_format)  # a progress line, not a log line per request and event
    migrations.upgrade()
    load_demo_inline(create_app=create_app, drain=drain_inline)


app.command(help="Run journey flows for a multi-process deployment (Prefect server + PostgreSQL).")(
    worker_command)


def main() -> None:
    from pydantic import ValidationError

    from journey.config import describe
    from journey.errors import JourneyError

    try:
        app()
    except JourneyError as exc:
        typer.secho(f"error: {exc.detail}", fg="red", err=True)
        raise SystemExit(1) from exc
    except ValidationError as exc:
        if exc.title != "Settings":
            raise
        for line in describe(exc):  # a setting refused at start: one line each, no traceback
            typer.secho(f"error: {line}", fg="red", err=True)
        raise SystemExit(2) from exc
