"""Screenshots of the demo for the docs: docs/images/team-dashboard.png (the manager's /team),
docs/images/account-page.png (an account as the manager sees it) and docs/images/account-health.png (the
CSM's account page, its health card and explanation).

    .venv/bin/python scripts/screenshots.py [--out docs/images]

Loads the demo (`journey db upgrade`, `journey demo`) into a temporary data folder as development, serves it
on a free port, and drives Debian's chromium through Playwright (`make browser` installs it).
"""
from __future__ import annotations

import argparse
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
from playwright.sync_api import Page, sync_playwright

from journey.demo import DEMO_PASSWORD

ROOT = Path(__file__).resolve().parents[1]
JOURNEY = str(Path(sys.executable).parent / "journey")
PASSWORD = DEMO_PASSWORD
VIEWPORT = {"width": 1366, "height": 900}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _sign_in(page: Page, base: str, email: str) -> None:
    page.goto(f"{base}/signin")
    page.fill("form[action='/signin'] input[name=email]", email)
    page.fill("input[name=password]", PASSWORD)
    page.click("form[action='/signin'] button[type=submit]")
    page.wait_for_load_state("networkidle")


def _first_red_account(page: Page, base: str) -> str:
    """The first account of the book whose band is red (the page worth explaining), else the first one."""
    page.goto(f"{base}/")
    links = page.locator("a[href^='/accounts/']:not([href*='/handoff'])")
    hrefs = [h for h in links.evaluate_all("els => els.map(e => e.getAttribute('href'))") if h]
    red = page.locator("tr:has(.band-red) a[href^='/accounts/']").first
    return red.get_attribute("href") if red.count() else hrefs[0]


def take(out: Path) -> list[Path]:
    chromium = shutil.which("chromium")
    if chromium is None:
        raise SystemExit("chromium is missing: run `make browser`")
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="journey-shots-") as folder:
        env = {k: v for k, v in os.environ.items() if not k.startswith("JOURNEY_")} | {
            "JOURNEY_ENVIRONMENT": "development", "JOURNEY_DEMO": "0", "JOURNEY_DATA_DIR": folder,
            "JOURNEY_DATABASE_URL": f"sqlite:///{folder}/journey.db", "JOURNEY_LOG_LEVEL": "WARNING"}
        for args in (["db", "upgrade"], ["demo"]):
            subprocess.run([JOURNEY, *args], env=env, cwd=folder, check=True, stdout=subprocess.DEVNULL)
        port = _free_port()
        base = f"http://127.0.0.1:{port}"
        server = subprocess.Popen([JOURNEY, "serve", "--port", str(port)], env=env, cwd=folder,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if time.monotonic() > deadline:
                    raise SystemExit("journey serve did not answer /healthz in 60 s")
                time.sleep(0.3)
            return _shoot(base, out, chromium)
        finally:
            server.terminate()
            server.wait(timeout=20)


def _shoot(base: str, out: Path, chromium: str) -> list[Path]:
    saved = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=["--no-sandbox", "--disable-background-networking"])
        try:
            manager = browser.new_context(viewport=VIEWPORT).new_page()
            _sign_in(manager, base, "manager@demo.example")
            manager.goto(f"{base}/team")
            saved.append(out / "team-dashboard.png")
            manager.screenshot(path=saved[-1], full_page=True)
            account = _first_red_account(manager, base)
            manager.goto(f"{base}{account}")
            saved.append(out / "account-page.png")
            manager.screenshot(path=saved[-1], full_page=True)
            csm = browser.new_context(viewport=VIEWPORT).new_page()
            _sign_in(csm, base, "csm@demo.example")
            csm.goto(f"{base}{_first_red_account(csm, base)}")
            saved.append(out / "account-health.png")
            csm.locator("#health").screenshot(path=saved[-1])
        finally:
            browser.close()
    return saved


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "images")
    for path in take(parser.parse_args().out):
        print(path)


if __name__ == "__main__":
    main()
