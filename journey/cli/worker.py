"""`journey worker`: run journey flows for a multi-process deployment (Prefect server + PostgreSQL)."""
from __future__ import annotations

import os

import typer


def worker(concurrency: int = typer.Option(4, min=1, max=64, help="flow runs at once in this worker"),
           poll_seconds: int = typer.Option(1, min=1, max=60, help="how often to look for submitted runs"),
           process_per_run: bool = typer.Option(False, "--process-per-run",
                                                help="run each batch in a new Python process (Prefect's `serve`): "
                                                     "isolated, but 2-3x the CPU per journey"),
           metrics_host: str = typer.Option("127.0.0.1", help="address of this worker's /metrics"),
           metrics_port: int = typer.Option(0, min=0, max=65535,
                                            help="serve this worker's event counters on /metrics at this port "
                                                 "(0: not served)")) -> None:
    """Register the deployments (flows/deploy.py) and run what the API processes submit."""
    from journey import logs
    from journey.config import get_settings

    settings = get_settings()
    logs.configure(settings.log_level, settings.resolved_log_format)
    if not os.environ.get("PREFECT_API_URL"):
        raise typer.BadParameter("set PREFECT_API_URL to the Prefect server (e.g. http://127.0.0.1:4200/api)")
    if settings.is_sqlite:
        raise typer.BadParameter("a worker needs JOURNEY_DATABASE_URL on PostgreSQL, shared with the API processes")
    if metrics_port and process_per_run:
        raise typer.BadParameter("--metrics-port counts the events run in this process: not with --process-per-run")
    os.environ.setdefault("PREFECT_RUNNER_POLL_FREQUENCY", str(poll_seconds))
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("DO_NOT_TRACK", "1")
    if metrics_port:
        from journey import metrics_server

        bound = metrics_server.start(metrics_host, metrics_port, token=settings.metrics_token)
        typer.echo(f"journey worker: metrics on http://{metrics_host}:{bound.server_port}/metrics")
    how = "a new process per run" if process_per_run else "in this process"
    typer.echo(f"journey worker: serving process-inbox/journey ({how}, concurrency {concurrency}) "
               f"from {os.environ['PREFECT_API_URL']}")
    if process_per_run:
        from flows.deploy import serve_forever

        serve_forever(concurrency=concurrency)
    else:
        from flows.worker import InProcessWorker

        InProcessWorker(concurrency=concurrency, poll_seconds=poll_seconds).serve()
