"""The README's "Your first signed deal", run as written: `make run`'s recipe starts the server (development, the
demo) in a fresh folder on a free port, then the README's commands send the example deal and show its journey.

The folder holds only what a clone holds that the commands use (`scripts`, `examples` and `.venv` linked from
this checkout), so `./var` is the data folder as with `make run`; no JOURNEY_* variable of the test run leaks in.
"""
from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
pytestmark = [pytest.mark.real_clock, pytest.mark.prefect]


def readme_steps() -> list[str]:
    """The shell blocks of the README's "Your first signed deal" section, one command each."""
    text = (ROOT / "README.md").read_text()
    section = text.split("## Your first signed deal", 1)[1].split("\n## ", 1)[0]
    blocks = [b.strip() for b in re.findall(r"```sh\n(.*?)```", section, re.S)]
    return [" ".join(line.strip() for line in block.splitlines()) for block in blocks]


def make_run_recipe(port: int) -> list[str]:
    """`make run`'s commands, with the Makefile's variables resolved (`run: install` is this checkout's .venv)."""
    makefile = (ROOT / "Makefile").read_text()
    values = {"BIN": ".venv/bin", "HOST": "127.0.0.1", "PORT": str(port),
              "RUN_ENV": re.search(r"^RUN_ENV := (.+)$", makefile, re.M).group(1).replace("$(JOURNEY_DEMO)", "1")}
    recipe = re.search(r"^run: .*\n((?:\t.*\n)+)", makefile, re.M).group(1)
    return [re.sub(r"\$\((\w+)\)", lambda m: values[m.group(1)], line.strip()) for line in recipe.splitlines()]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _shell(command: str, cwd: Path, env: dict[str, str], timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["bash", "-c", command], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=timeout, check=False)


@pytest.fixture
def clone(tmp_path: Path) -> Path:
    for name in ("scripts", "examples"):
        (tmp_path / name).symlink_to(ROOT / name)
    (tmp_path / ".venv").symlink_to(Path(sys.executable).parent.parent)
    return tmp_path


@pytest.fixture
def user_env() -> dict[str, str]:
    """The environment of a user's shell: none of the test run's JOURNEY_* settings."""
    return {k: v for k, v in os.environ.items() if not k.startswith(("JOURNEY_", "PREFECT_"))}


@pytest.fixture
def make_run(clone: Path, user_env: dict[str, str]) -> Iterator[tuple[Path, int]]:
    port = _free_port()
    *before, serve = make_run_recipe(port)
    for line in before:
        done = _shell(line, clone, user_env)
        assert done.returncode == 0, done.stderr
    log = (clone / "serve.log").open("w")
    server = subprocess.Popen(["bash", "-c", f"exec env {serve}"], cwd=clone, env=user_env, stdout=log,
                              stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 120
        while b"Uvicorn running" not in (clone / "serve.log").read_bytes():  # what the user waits for
            assert server.poll() is None, (clone / "serve.log").read_text()
            assert time.monotonic() < deadline, (clone / "serve.log").read_text()
            time.sleep(0.2)
        yield clone, port
    finally:
        server.send_signal(signal.SIGTERM)  # journey serve stops what it started (Prefect's temporary server)
        try:
            server.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait(10)
        log.close()


def test_the_readme_has_three_steps_and_the_first_is_make_run() -> None:
    steps = readme_steps()
    assert len(steps) == 3 and steps[0] == "make run"
    assert steps[1].startswith("python3 scripts/send_event.py ")
    recipe = make_run_recipe(8123)
    assert recipe[-1].endswith("journey serve --host 127.0.0.1 --port 8123")
    assert "JOURNEY_ENVIRONMENT=development JOURNEY_DEMO=1" in recipe[-1]


def test_the_first_signed_deal_as_written(make_run, user_env) -> None:
    clone, port = make_run
    _, send, show = readme_steps()
    sent = _shell(send, clone, user_env)
    assert sent.returncode == 0, sent.stdout + sent.stderr
    assert sent.stdout.startswith("202 ") and '"duplicate":false' in sent.stdout
    assert (clone / "var" / "server_url").read_text().strip() == f"http://127.0.0.1:{port}"  # found, not assumed

    deadline, shown = time.monotonic() + 120, None
    while time.monotonic() < deadline:  # the journey opens in the background; the demo admin is made meanwhile
        shown = _shell(show, clone, user_env)
        if shown.returncode == 0:
            break
        time.sleep(1)
    assert shown is not None and shown.returncode == 0, shown.stdout + shown.stderr if shown else ""
    assert shown.stdout.startswith("Société Acme")
    assert "Kickoff" in shown.stdout and "Go-live" in shown.stdout


def test_send_event_says_when_nothing_answers(clone, user_env) -> None:
    (clone / "var").mkdir()
    (clone / "var" / "webhook_secret").write_text("whsec_" + "A" * 43 + "=")
    _, send, _ = readme_steps()
    done = _shell(send + f" --url http://127.0.0.1:{_free_port()}", clone, user_env)
    assert done.returncode == 3 and done.stdout == ""
    assert done.stderr.startswith("error: nothing answers at http://127.0.0.1:") and "--url" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1 and "Traceback" not in done.stderr
    (clone / "var" / "webhook_secret").unlink()
    missing = _shell(send, clone, user_env)  # no secret anywhere: one line too
    assert missing.returncode == 2 and missing.stderr.startswith("error:") and "Traceback" not in missing.stderr
