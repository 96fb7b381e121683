"""What the process that answers webhooks loads at start: never the flows, never Prefect; its runner child runs
at a lower CPU priority (JOURNEY_RUNNER_NICE).

With the runner in a child process (the default), the API server only verifies, stores and answers; loading
Prefect there (~0.7 s and ~60 MB) would slow every start and sit idle in memory. Run in a fresh interpreter,
since this test session itself has long since imported both.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

SCRIPT = """
import json, sys, warnings
warnings.simplefilter("ignore")
from journey import migrations
migrations.upgrade()
from fastapi.testclient import TestClient
from journey.app import create_app
import time
with TestClient(create_app()) as client:
    ready = client.get("/readyz").json()
    loaded = sorted(m for m in ("prefect", "flows", "flows.runner") if m in sys.modules)
    deadline = time.monotonic() + 60
    while client.get("/readyz").json()["runner_process"] != "running" and time.monotonic() < deadline:
        time.sleep(0.05)
    later = client.get("/readyz").json()
    import os
    child = client.app.state.dispatcher.pid
    nicer = os.getpriority(os.PRIO_PROCESS, child) - os.getpriority(os.PRIO_PROCESS, 0)
print(json.dumps({"ready": ready, "later": later, "loaded": loaded, "nicer": nicer}))
"""


def test_the_api_process_starts_its_runner_child_without_loading_flows_or_prefect(tmp_path: Path) -> None:
    env = {**os.environ, "JOURNEY_DATA_DIR": str(tmp_path / "data"), "JOURNEY_ENVIRONMENT": "development",
           "JOURNEY_DATABASE_URL": f"sqlite:///{tmp_path / 'journey.db'}"}
    env.pop("JOURNEY_RUNNER_PROCESS", None)
    env.pop("JOURNEY_RUNNER", None)
    env.pop("JOURNEY_RUNNER_NICE", None)
    done = subprocess.run([sys.executable, "-c", SCRIPT], env=env, cwd=tmp_path, capture_output=True, text=True,
                          timeout=120, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    assert seen["ready"]["flow_engine"] in ("standby", "inline")  # the child answers for the engine
    assert seen["ready"]["runner_process"] in ("starting", "running")  # the API answers before the child is up
    assert seen["later"]["runner_process"] == "running"  # once it reported: its runner and scheduler run
    assert seen["loaded"] == []
    assert seen["nicer"] == 10  # JOURNEY_RUNNER_NICE: its work yields the cores to the requests
