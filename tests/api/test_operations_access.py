"""Who may read `/metrics`, and `/docs` served from the package under a strict Content-Security-Policy.
Neither touches the database."""
from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from journey.metrics import is_loopback, scrape_allowed

TOKEN = "scrape-me-0123456789"


def _client(bind_host: str | None, address: str = "127.0.0.1") -> TestClient:
    from journey.app import create_app

    return TestClient(create_app(start_runner=False, bind_host=bind_host), client=(address, 50000))


@pytest.fixture
def metrics_token(monkeypatch):  # type: ignore[no-untyped-def]
    from journey.config import get_settings

    monkeypatch.setenv("JOURNEY_METRICS_TOKEN", TOKEN)
    get_settings.cache_clear()
    return TOKEN


@pytest.mark.parametrize(("bind_host", "address"), [
    (None, "127.0.0.1"),  # bind address unknown (another ASGI server): nobody without the token
    ("0.0.0.0", "127.0.0.1"),  # noqa: S104 - a public server, even asked from its own host
    ("0.0.0.0", "203.0.113.9"),  # noqa: S104
    ("127.0.0.1", "203.0.113.9"),  # a proxy on the host passed on a stranger's address
])
def test_metrics_without_the_token_are_refused_unless_loopback_on_both_ends(bind_host, address) -> None:
    refused = _client(bind_host, address).get("/metrics")
    assert refused.status_code == 401
    assert refused.headers["content-type"] == "application/problem+json"
    assert refused.json()["code"] == "metrics_unauthorized" and "JOURNEY_METRICS_TOKEN" in refused.json()["detail"]
    assert "journey_webhook_received_total" not in refused.text


def test_a_server_bound_to_loopback_serves_metrics_to_loopback() -> None:
    scraped = _client("127.0.0.1").get("/metrics")
    assert scraped.status_code == 200 and scraped.headers["content-type"].startswith("text/plain")
    assert "journey_webhook_received_total" in scraped.text


def test_with_a_metrics_token_only_its_bearer_reads_metrics_wherever_it_comes_from(metrics_token) -> None:
    public = _client("0.0.0.0", "203.0.113.9")  # noqa: S104
    assert public.get("/metrics", headers={"Authorization": f"Bearer {metrics_token}"}).status_code == 200
    for wrong in ("Bearer nope", f"Basic {metrics_token}", f"Bearer {metrics_token}x", ""):
        assert public.get("/metrics", headers={"Authorization": wrong}).status_code == 401, wrong
    assert _client("127.0.0.1").get("/metrics").status_code == 401  # set, it is asked of everyone


@pytest.mark.parametrize(("host", "loopback"), [
    ("127.0.0.1", True), ("127.8.0.1", True), ("::1", True), ("[::1]", True), ("localhost", True),
    ("::ffff:127.0.0.1", True), ("0.0.0.0", False), ("::", False), ("10.0.0.5", False),  # noqa: S104
    ("testclient", False), ("", False), (None, False),
])
def test_loopback_addresses(host, loopback) -> None:
    assert is_loopback(host) is loopback


def test_the_token_rule_compares_the_whole_bearer() -> None:
    assert scrape_allowed(authorization=f"bearer  {TOKEN} ", token=TOKEN, bind_host=None, client_host=None)
    assert not scrape_allowed(authorization=f"Bearer {TOKEN[:-1]}", token=TOKEN, bind_host="127.0.0.1",
                              client_host="127.0.0.1")


def test_docs_load_swagger_ui_from_the_package_under_a_strict_policy() -> None:
    client = _client(None)
    docs = client.get("/docs")
    assert docs.status_code == 200
    policy = docs.headers["content-security-policy"]
    nonce = re.search(r"script-src 'self' 'nonce-([\w-]+)';", policy).group(1)
    assert "unsafe-inline" not in policy and "default-src 'self'" in policy and "style-src 'self'" in policy
    assert not re.search(r"(src|href)=\"(https?:)?//", docs.text)  # nothing from a CDN
    scripts = re.findall(r"<script([^>]*)>", docs.text)
    assert len(scripts) == 2 and all(f'nonce="{nonce}"' in s or 'src="/docs/assets/' in s for s in scripts)
    assert re.search(r'<link[^>]+href="/docs/assets/swagger-ui.css"', docs.text)
    assert nonce not in client.get("/docs").headers["content-security-policy"]  # a new nonce each time
    bundle = client.get("/docs/assets/swagger-ui-bundle.js")
    assert bundle.status_code == 200 and "SwaggerUIBundle" in bundle.text[:2000]
    assert client.get("/docs/assets/swagger-ui.css").status_code == 200
    assert client.get("/openapi.json").json()["openapi"].startswith("3.")
    assert client.get("/redoc").status_code == 404  # ReDoc needs inline styles: off
