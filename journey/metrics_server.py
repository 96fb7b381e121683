"""`/metrics` of a process without a web app (`journey worker --metrics-port`): the counters it counts (events
processed, retried, dead...) are scraped from it, under the API's rule (`metrics.scrape_allowed`)."""
from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from journey.metrics import REGISTRY, scrape_allowed


class _Quiet(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's name
        return None  # one line per scrape on stderr would drown the worker's own log


def app(token: str | None, bind_host: str) -> Callable[..., Iterable[bytes]]:
    def metrics(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if environ.get("PATH_INFO") != "/metrics":
            start_response("404 Not Found", [("Content-Type", "text/plain")])
            return [b"only /metrics here\n"]
        if not scrape_allowed(authorization=environ.get("HTTP_AUTHORIZATION"), token=token, bind_host=bind_host,
                              client_host=environ.get("REMOTE_ADDR")):
            start_response("401 Unauthorized", [("Content-Type", "text/plain"), ("WWW-Authenticate", "Bearer")])
            return [b"send 'Authorization: Bearer <JOURNEY_METRICS_TOKEN>', or scrape from loopback a worker "
                    b"bound to loopback\n"]
        start_response("200 OK", [("Content-Type", CONTENT_TYPE_LATEST)])
        return [generate_latest(REGISTRY)]

    return metrics


def start(host: str, port: int, *, token: str | None) -> WSGIServer:
    """Serve /metrics on host:port from a daemon thread; the server (its `server_port` is the bound port)."""
    server = make_server(host, port, app(token, host), handler_class=_Quiet)
    threading.Thread(target=server.serve_forever, name="journey-metrics", daemon=True).start()
    return server
