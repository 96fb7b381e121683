"""Prometheus metrics of this process: the standard process and Python collectors, HTTP requests per route
template and status class, counters per webhook source (received, duplicate, rejected by reason), inbox event
outcomes and CRM writes run here; and who may scrape them.

Counters live in the process that counts: in scaled-out mode flows run in `journey worker`'s flow-run
subprocesses, so `journey_event_outcome_total` of an API process counts only what it ran itself. The cluster's
truth (backlogs, dead letters, events by status, the scheduler's heartbeats) is read from the database at scrape
time by `journey.metrics_db`, which any API process serves alike. The operations docs list every metric.
"""
from __future__ import annotations

import hmac
import ipaddress
from collections.abc import Callable

from prometheus_client import (
    GC_COLLECTOR,
    PLATFORM_COLLECTOR,
    PROCESS_COLLECTOR,
    CollectorRegistry,
    Counter,
    Histogram,
    disable_created_metrics,
)

disable_created_metrics()  # no `_created` series beside every counter and histogram
REGISTRY = CollectorRegistry()
for _standard in (PROCESS_COLLECTOR, PLATFORM_COLLECTOR, GC_COLLECTOR):  # process_*, python_info, python_gc_*
    REGISTRY.register(_standard)
_HTTP = Histogram("journey_http_request_duration_seconds", "HTTP requests by method, route template and status "
                  "class (2xx, 4xx...), from the first byte received to the last sent",
                  ["method", "route", "status"], registry=REGISTRY,
                  buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10))


def http_request(method: str, route: str, status: int, seconds: float) -> None:
    _HTTP.labels(method, route, f"{status // 100}xx").observe(seconds)
_RECEIVED = Counter("journey_webhook_received_total", "Deliveries stored in the inbox", ["source"],
                    registry=REGISTRY)
_DUPLICATE = Counter("journey_webhook_duplicate_total", "Deliveries already in the inbox", ["source"],
                     registry=REGISTRY)
_REJECTED = Counter("journey_webhook_rejected_total", "Deliveries refused", ["source", "reason"],
                    registry=REGISTRY)
_OUTCOME = Counter("journey_event_outcome_total",
                   "Inbox events by source, type and outcome (processed, ignored, retry, waiting, dead)",
                   ["source", "type", "outcome"], registry=REGISTRY)
_DURATION = Histogram("journey_event_processing_seconds", "Time to process one inbox event", ["source"],
                      registry=REGISTRY)


def received(source: str, *, duplicate: bool) -> None:
    (_DUPLICATE if duplicate else _RECEIVED).labels(source).inc()


def rejected(source: str, reason: str) -> None:
    _REJECTED.labels(source, reason).inc()


_LOCK_WAIT = Histogram("journey_db_lock_wait_seconds", "Time a SQLite writer waited for the write lock (BEGIN "
                      "IMMEDIATE), by process role (server: intake and pages; runner: flows)", ["role"],
                      buckets=(0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30), registry=REGISTRY)
_forward: Callable[[str, tuple[object, ...]], None] | None = None


def forward_to(sink: Callable[[str, tuple[object, ...]], None] | None) -> None:
    """In the runner's child process: send what it counts to `journey serve`, whose /metrics shows it."""
    global _forward
    _forward = sink


def outcome(source: str, event_type: str, result: str, seconds: float | None = None) -> None:
    if _forward is not None:
        _forward("outcome", (source, event_type, result, seconds))
        return
    _OUTCOME.labels(source, event_type, result).inc()
    if seconds is not None:
        _DURATION.labels(source).observe(seconds)


def lock_wait(role: str, seconds: float) -> None:
    if _forward is not None:
        _forward("lock_wait", (role, seconds))
        return
    _LOCK_WAIT.labels(role).observe(seconds)


_CRM_WRITES = Counter("journey_crm_write_total", "CRM write-back records by CRM and outcome (written, unchanged, "
                      "retry, dead)", ["crm", "outcome"], registry=REGISTRY)
_CRM_LAG = Histogram("journey_crm_write_lag_seconds", "From a change in journey to its write acknowledged by the CRM",
                     ["crm"], buckets=(1, 5, 15, 30, 60, 120, 300, 900, 3600, 21600, 86400), registry=REGISTRY)


def crm_write(crm: str, result: str, lag_seconds: float | None = None) -> None:
    _CRM_WRITES.labels(crm, result).inc()
    if lag_seconds is not None:
        _CRM_LAG.labels(crm).observe(lag_seconds)


def is_loopback(host: str | None) -> bool:
    if not host:
        return False
    if host.lower() == "localhost":
        return True
    try:
        address = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    mapped = getattr(address, "ipv4_mapped", None)  # ::ffff:127.0.0.1
    return (mapped or address).is_loopback


def scrape_allowed(*, authorization: str | None, token: str | None, bind_host: str | None,
                   client_host: str | None) -> bool:
    """With JOURNEY_METRICS_TOKEN set, only a request bearing it (compared in constant time). Without it,
    only a loopback client of a server bound to loopback: a server bound to another interface, or whose
    bind address is unknown (run by another ASGI server), shows its counters to nobody."""
    if token:
        scheme, _, given = (authorization or "").partition(" ")
        return scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), token.encode())
    return is_loopback(bind_host) and is_loopback(client_host)
