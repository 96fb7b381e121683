"""Browser tests: a real `journey serve` (temp SQLite, demo workspace) driven by Playwright through Debian's
Chromium. Screenshots go to tests/screenshots/ (git-ignored) for a person to look at."""
from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "tests" / "screenshots"
PASSWORD = "journey-demo-2026"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-background-networking", "--disable-gpu", "--no-first-run",
                 "--disable-component-update", "--disable-sync"]
LAPTOP = {"width": 1366, "height": 900}
PHONE = {"width": 390, "height": 844}


def _chromium() -> str:
    path = shutil.which("chromium")
    if path is None:
        message = "no Chromium on PATH: `make browser` installs Debian's chromium (as root)"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    return path


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, base: str, token: str, log: Path, database_url: str = "") -> None:
        self.base, self.token, self.log, self.database_url = base, token, log, database_url

    def api(self, path: str) -> httpx.Response:
        return httpx.get(self.base + path, headers={"Authorization": f"Bearer {self.token}"}, timeout=10)


def _wait_for_demo(proc: subprocess.Popen, log: Path, base: str) -> Server:  # type: ignore[type-arg]
    """The demo prints its API token once everything is loaded: deals through the real inbox, then the months
    behind them (plans, reviews, signals, reminders, KPI snapshots)."""
    deadline = time.monotonic() + 240
    token = None
    while time.monotonic() < deadline and token is None:
        if proc.poll() is not None:
            raise RuntimeError(f"journey serve exited:\n{log.read_text()[-3000:]}")
        match = re.search(r"Bearer (jt_[\w-]+)", log.read_text())
        token = match.group(1) if match else None
        time.sleep(0.2)
    if token is None:
        raise RuntimeError(f"the demo never loaded:\n{log.read_text()[-3000:]}")
    return Server(base, token, log)


@pytest.fixture(scope="session")
def server(tmp_path_factory) -> Iterator[Server]:
    _chromium()
    home = tmp_path_factory.mktemp("serve")
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("JOURNEY_")}
    env.update(JOURNEY_DATABASE_URL=f"sqlite:///{home / 'journey.db'}", JOURNEY_DATA_DIR=str(home / "var"),
               JOURNEY_DEMO="1", JOURNEY_ENVIRONMENT="development", JOURNEY_ORCHESTRATOR="inline",
               PYTHONUNBUFFERED="1",  # as `make run`: the demo loads only in development
               JOURNEY_PUBLIC_BASE_URL=f"http://127.0.0.1:{port}")  # share links are built from it
    log = home / "serve.log"
    with log.open("w") as out:
        proc = subprocess.Popen([str(Path(sys.executable).parent / "journey"), "serve", "--port", str(port)], cwd=home,
                                env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        server = _wait_for_demo(proc, log, f"http://127.0.0.1:{port}")
        server.database_url = env["JOURNEY_DATABASE_URL"]
        yield server
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()


@pytest.fixture(scope="session")
def browser(server):  # type: ignore[no-untyped-def]
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=_chromium(), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def open_as(browser, server):  # type: ignore[no-untyped-def]
    """open_as("csm@demo.example", viewport=PHONE) -> a signed-in page in a fresh browser context."""
    contexts = []

    def _open(email: str, viewport: dict[str, int] | None = None):  # type: ignore[no-untyped-def]
        context = browser.new_context(viewport=viewport or LAPTOP, base_url=server.base)
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(15_000)
        page.goto("/signin")
        page.fill("form[action='/signin'] input[name=email]", email)
        page.fill("input[name=password]", PASSWORD)
        page.click("form[action='/signin'] button[type=submit]")
        page.wait_for_url(server.base + "/")
        return page

    yield _open
    for context in contexts:
        context.close()


def shot(page, name: str) -> Path:  # type: ignore[no-untyped-def]
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
