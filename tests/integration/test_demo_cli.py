"""`journey demo` as a new user runs it, in its own process: refused in one line before the app is imported
outside development; in development it migrates a fresh database itself, shows progress lines instead of a
log line per request and event, prints no deprecation warning, and refuses a second load in one line."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

JOURNEY = str(Path(sys.executable).parent / "journey")


def _env(tmp_path: Path, **values: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("JOURNEY_", "PYTHONWARNINGS"))}
    env.update({"JOURNEY_DATA_DIR": str(tmp_path / "var"),
                "JOURNEY_DATABASE_URL": f"sqlite:///{tmp_path / 'var' / 'journey.db'}"})
    env.update({f"JOURNEY_{k.upper()}": v for k, v in values.items()})
    return env


def test_outside_development_the_demo_is_refused_in_one_line_before_the_app_loads(tmp_path) -> None:
    probe = ("import sys\nfrom journey.cli import main\ntry:\n    sys.argv = ['journey', 'demo']; main()\n"
             "except SystemExit as exc:\n    print('exit', exc.code, 'journey.app' in sys.modules, "
             "'flows.runner' in sys.modules)\n")
    run = subprocess.run([sys.executable, "-c", probe], env=_env(tmp_path, environment="production"),
                         capture_output=True, text=True, timeout=60, check=False)
    assert run.stdout.strip() == "exit 1 False False"  # refused, and neither the app nor the flows were imported
    assert run.stderr.strip().splitlines() == [
        "error: the demo has a published password: it loads only with JOURNEY_ENVIRONMENT=development"]
    assert not (tmp_path / "var" / "journey.db").exists()


def test_the_demo_migrates_a_fresh_database_and_loads_quietly_then_refuses_a_second_load(tmp_path) -> None:
    env = _env(tmp_path, environment="development")
    run = subprocess.run([JOURNEY, "demo"], env=env, capture_output=True, text=True, timeout=600, check=False)
    output = run.stdout + run.stderr
    assert run.returncode == 0, output
    for noise in ("Traceback", "Warning", "no such table", "http.request", "event.done", "[info", "[debug"):
        assert noise not in output
    assert "demo events: 31 sent (31 processed)" in run.stdout
    assert "running their flows" in run.stdout and "sign in at http://127.0.0.1:8000" in run.stdout
    again = subprocess.run([JOURNEY, "demo"], env=env, capture_output=True, text=True, timeout=120, check=False)
    assert again.returncode == 1 and "Traceback" not in again.stdout + again.stderr
    assert again.stderr.strip().splitlines() == [
        "error: the database already has team members or accounts: the demo loads only into an empty one"]
