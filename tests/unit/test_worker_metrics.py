"""`journey worker --metrics-port`: the events a worker counts are scraped from it, under the API's rule."""
from __future__ import annotations

import httpx
import pytest

from journey import metrics, metrics_server


@pytest.fixture
def served():  # type: ignore[no-untyped-def]
    servers = []

    def start(token: str | None = None, host: str = "127.0.0.1") -> str:
        servers.append(metrics_server.start(host, 0, token=token))
        return f"http://127.0.0.1:{servers[-1].server_port}"

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def test_a_worker_serves_the_event_outcomes_it_counted_to_a_loopback_scrape(served) -> None:
    metrics.outcome("hubspot", "deal.creation", "processed", 0.2)
    scraped = httpx.get(served() + "/metrics")
    assert scraped.status_code == 200
    assert 'journey_event_outcome_total{outcome="processed",source="hubspot",type="deal.creation"}' in scraped.text
    assert httpx.get(served() + "/other").status_code == 404


def test_with_a_metrics_token_only_its_bearer_reads_the_worker_metrics(served) -> None:
    url = served(token="s3cret") + "/metrics"
    refused = httpx.get(url)
    assert (refused.status_code, refused.headers["www-authenticate"]) == (401, "Bearer")
    assert httpx.get(url, headers={"Authorization": "Bearer wrong"}).status_code == 401
    assert httpx.get(url, headers={"Authorization": "Bearer s3cret"}).status_code == 200


def test_a_worker_bound_beyond_loopback_without_a_token_shows_its_metrics_to_nobody(served) -> None:
    assert httpx.get(served(host="0.0.0.0") + "/metrics").status_code == 401  # noqa: S104 - the case under test
