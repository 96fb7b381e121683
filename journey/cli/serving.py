"""`journey serve`: migrations (embedded SQLite), the demo when asked for (development only), then uvicorn."""
from __future__ import annotations

import gc
import os
import signal
import threading
from types import FrameType

import typer

from journey import demo
from journey.config import Settings, get_settings
from journey.files import private_dir
from journey.webhooks.signatures import check_secret

STOP_REQUESTS_SECONDS = 3  # at shutdown, how long requests in flight may take before they are cut
URL_FILE = "server_url"  # in the data folder while serving: where scripts/send_event.py finds this server


def _development_base_url(settings: Settings, base: str) -> None:
    """In development, links (sign-in emails) point at this server unless JOURNEY_PUBLIC_BASE_URL says otherwise.

    Production never guesses: without JOURNEY_PUBLIC_BASE_URL, email sign-in is off.
    """
    if settings.is_development and not settings.public_base_url:
        os.environ["JOURNEY_PUBLIC_BASE_URL"] = base
        get_settings.cache_clear()


def _start_demo(settings: Settings, base: str) -> None:
    if not settings.is_development:
        typer.secho("demo: not loaded: JOURNEY_DEMO=1 needs JOURNEY_ENVIRONMENT=development (it has a published "
                    "password)", fg="yellow", err=True)
        return
    demo.ensure_webhook_secret(settings)
    threading.Thread(target=demo.load_demo_when_ready, args=(base,), daemon=True, name="journey-demo").start()


def serve(*, host: str, port: int) -> None:
    # Start-up builds ~200,000 long-lived objects (modules, routes, models): the cyclic collector would walk them over
    # and over (~0.25 s of the start here). Off while starting; then they are frozen out of its sight for good.
    gc.disable()
    import uvicorn

    from journey import logs, migrations
    from journey.app import create_app

    settings = get_settings()
    problem = check_secret(settings.webhook_secret)
    if problem:  # every delivery would fail: refuse to start rather than answer errors
        typer.secho(f"error: {problem}", fg="red", err=True)
        raise typer.Exit(2)
    logs.configure(settings.log_level, settings.resolved_log_format)
    if settings.is_sqlite:
        migrations.upgrade()
    local = "127.0.0.1" if host in ("0.0.0.0", "::") else host  # noqa: S104 - only to reach ourselves
    base = f"http://{local}:{port}"
    _development_base_url(settings, base)
    if settings.demo:
        gc.enable()  # loading the demo makes garbage of its own: collect it as usual
        _start_demo(settings, base)
    settings = get_settings()
    typer.echo(f"journey serving on {base}  (API docs: {base}/docs; {settings.environment})")
    signal.signal(signal.SIGTERM, _exit_cleanly)
    url_file = private_dir(settings.data_dir) / URL_FILE
    url_file.write_text(base + "\n")
    try:
        # log_config=None: uvicorn's loggers keep journey's pipeline (logs.configure); its access log stays off,
        # journey's own `http.request` line carries the request id, the route and a masked path instead
        app = create_app(bind_host=host)
        gc.freeze()
        gc.enable()
        uvicorn.run(app, host=host, port=port, log_level=settings.log_level.lower(),
                    log_config=None, access_log=False, timeout_graceful_shutdown=STOP_REQUESTS_SECONDS)
    finally:
        url_file.unlink(missing_ok=True)


def _exit_cleanly(signum: int, frame: FrameType | None) -> None:
    """SIGTERM ends the process like Ctrl-C does, through Python's exit (atexit hooks, exit code 0).

    uvicorn shuts down gracefully on SIGTERM, then raises it again with the handler it found: with the
    default one the process would die at once, and what it started, Prefect's temporary server included,
    would be left running."""
    raise SystemExit(0)
