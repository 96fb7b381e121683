"""`journey serve`: migrations (embedded SQLite), the demo on an empty database, then uvicorn."""
from __future__ import annotations

import os
import secrets
import signal
import threading
from types import FrameType

import typer

from journey.config import Settings, get_settings
from journey.webhooks.signatures import check_secret

STOP_REQUESTS_SECONDS = 3  # at shutdown, how long requests in flight may take before they are cut


def _ensure_webhook_secret(settings: Settings) -> None:
    """The demo needs a signing secret: generate one into the data folder if none is configured."""
    if settings.webhook_secret:
        return
    import base64

    path = settings.data_dir / "webhook_secret"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("whsec_" + base64.b64encode(secrets.token_bytes(32)).decode())
        path.chmod(0o600)
    os.environ["JOURNEY_WEBHOOK_SECRET"] = path.read_text().strip()
    get_settings.cache_clear()
    typer.echo(f"webhook secret: generated into {path} (set JOURNEY_WEBHOOK_SECRET to use your own)")


def serve(*, host: str, port: int) -> None:
    import uvicorn

    from journey import logs, migrations
    from journey.app import create_app

    settings = get_settings()
    problem = check_secret(settings.webhook_secret)
    if problem:  # every delivery would fail: refuse to start rather than answer errors
        typer.secho(f"error: {problem}", fg="red", err=True)
        raise typer.Exit(2)
    logs.configure(settings.log_level)
    if settings.is_sqlite:
        migrations.upgrade()
    if settings.demo:
        _ensure_webhook_secret(settings)
        settings = get_settings()
    local = "127.0.0.1" if host in ("0.0.0.0", "::") else host  # noqa: S104 - only to reach ourselves
    base = f"http://{local}:{port}"
    if settings.demo:
        from journey.demo import load_demo_when_ready

        threading.Thread(target=load_demo_when_ready, args=(base,), daemon=True, name="journey-demo").start()
    typer.echo(f"journey serving on {base}  (API docs: {base}/docs)")
    signal.signal(signal.SIGTERM, _exit_cleanly)
    uvicorn.run(create_app(bind_host=host), host=host, port=port, log_level=settings.log_level.lower(),
                access_log=False, timeout_graceful_shutdown=STOP_REQUESTS_SECONDS)


def _exit_cleanly(signum: int, frame: FrameType | None) -> None:
    """SIGTERM ends the process like Ctrl-C does, through Python's exit (atexit hooks, exit code 0).

    uvicorn shuts down gracefully on SIGTERM, then raises it again with the handler it found: with the
    default one the process would die at once, and what it started, Prefect's temporary server included,
    would be left running."""
    raise SystemExit(0)
