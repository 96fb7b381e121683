"""Prometheus counters per webhook source: received, duplicate, rejected (by reason), processed, dead; CRM writes."""
from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram

REGISTRY = CollectorRegistry()
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


def outcome(source: str, event_type: str, result: str, seconds: float | None = None) -> None:
    _OUTCOME.labels(source, event_type, result).inc()
    if seconds is not None:
        _DURATION.labels(source).observe(seconds)


_CRM_WRITES = Counter("journey_crm_write_total", "CRM write-back records by CRM and outcome (written, unchanged, "
                      "retry, dead)", ["crm", "outcome"], registry=REGISTRY)
_CRM_LAG = Histogram("journey_crm_write_lag_seconds", "From a change in journey to its write acknowledged by the CRM",
                     ["crm"], buckets=(1, 5, 15, 30, 60, 120, 300, 900, 3600, 21600, 86400), registry=REGISTRY)


def crm_write(crm: str, result: str, lag_seconds: float | None = None) -> None:
    _CRM_WRITES.labels(crm, result).inc()
    if lag_seconds is not None:
        _CRM_LAG.labels(crm).observe(lag_seconds)
