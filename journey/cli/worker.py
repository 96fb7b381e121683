"""`journey worker`: run journey flows for a multi-process deployment (Prefect server + PostgreSQL)."""
from __future__ import annotations

import os

import typer


def worker(concurrency: int = typer.Option(4, min=1, max=64, help="flow runs at once in this worker"),
           poll_seconds: int = typer.Option(1, min=1, max=60, help="how often to look for submitted runs")) -> None:
    """Register the deployments (flows/deploy.py) and run what the API processes submit."""
    from journey import logs
    from journey.config import get_settings

    settings = get_settings()
    logs.configure(settings.log_level, settings.resolved_log_format)
    if not os.environ.get("PREFECT_API_URL"):
        raise typer.BadParameter("set PREFECT_API_URL to the Prefect server (e.g. http://127.0.0.1:4200/api)")
    if settings.is_sqlite:
        raise typer.BadParameter("a worker needs JOURNEY_DATABASE_URL on PostgreSQL, shared with the API processes")
    os.environ.setdefault("PREFECT_RUNNER_POLL_FREQUENCY", str(poll_seconds))
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("DO_NOT_TRACK", "1")
    from flows.deploy import serve_forever

    typer.echo(f"journey worker: serving process-inbox/journey (concurrency {concurrency}) "
               f"from {os.environ['PREFECT_API_URL']}")
    serve_forever(concurrency=concurrency)
