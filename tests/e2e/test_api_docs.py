"""`/docs` in a real browser: Swagger UI from journey's own server only (it works offline), and nothing the
Content-Security-Policy blocks. And `journey serve` on loopback serves /metrics to loopback."""
from __future__ import annotations

from urllib.parse import urlsplit

import httpx
import pytest

pytestmark = pytest.mark.browser


def test_swagger_ui_renders_every_operation_from_local_files(browser, server) -> None:
    context = browser.new_context()
    page = context.new_page()
    problems: list[str] = []
    page.on("console", lambda message: problems.append(message.text) if message.type == "error" else None)
    hosts: set[str] = set()
    page.on("request", lambda request: hosts.add(urlsplit(request.url).netloc))
    page.goto(server.base + "/docs")
    page.wait_for_selector(".opblock", timeout=20_000)
    assert page.locator(".opblock").count() >= 20
    page.get_by_text("/api/accounts/{ref}/plan", exact=True).first.click()
    page.wait_for_selector(".opblock.is-open")
    assert hosts == {urlsplit(server.base).netloc}
    assert problems == []  # a blocked inline script or stylesheet is a console error
    context.close()


def test_serve_on_loopback_answers_metrics_to_loopback(server) -> None:
    scraped = httpx.get(server.base + "/metrics", timeout=10)
    assert scraped.status_code == 200 and "journey_webhook_received_total" in scraped.text
