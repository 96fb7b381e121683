"""deploy/systemd units, Containerfile, compose.yaml and .env.example: parsed, checked against the CLI and the
settings class, and the units verified by `systemd-analyze verify` where it is installed."""
from __future__ import annotations

import configparser
import json
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import typer
import yaml

from journey.cli import app
from journey.config import Settings
from journey.settings_docs import env_example, variables

ROOT = Path(__file__).resolve().parents[2]
UNITS = sorted((ROOT / "deploy" / "systemd").glob("*.service"))
VENV_BIN = "/opt/journey/.venv/bin/"
JOURNEY_SERVICES = {"migrate", "api", "worker", "scheduler"}


def _check_cli(args: list[str]) -> None:
    """Parse `journey ARGS` as the CLI would, without running it: an unknown command or option raises."""
    command: Any = typer.main.get_command(app)
    args = list(args)
    while hasattr(command, "commands"):
        name = args.pop(0)
        assert name in command.commands, f"journey has no command {name!r}"
        command = command.commands[name]
    command.make_context("journey", args)


def _unit(path: Path) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(strict=False, interpolation=None, delimiters=("=",))
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read(path)
    return parser


def test_the_units_are_there() -> None:
    assert {u.name for u in UNITS} == {"journey-api@.service", "journey-worker@.service",
                                       "journey-scheduler.service", "prefect-server.service"}


@pytest.mark.parametrize("unit", UNITS, ids=lambda u: u.name)
def test_each_unit_runs_as_the_dedicated_user_hardened(unit: Path) -> None:
    service = _unit(unit)["Service"]
    assert service["User"] == "journey" and service["Group"] == "journey"
    for key, value in {"NoNewPrivileges": "yes", "ProtectSystem": "strict", "PrivateTmp": "yes",
                       "ProtectHome": "yes", "RestrictSUIDSGID": "yes", "CapabilityBoundingSet": ""}.items():
        assert service[key] == value, f"{unit.name}: {key}={service.get(key)}"
    state = "/var/lib/" + service["StateDirectory"]
    assert service["ReadWritePaths"] == state, "the state folder is the only one written"
    assert service["EnvironmentFile"].startswith("/etc/journey/")
    for line in [service["ExecStart"], *([service["ExecStartPre"]] if "ExecStartPre" in service else [])]:
        argv = shlex.split(line.replace("%i", "8001"))
        assert argv[0].startswith(VENV_BIN)
        if argv[0] == VENV_BIN + "journey":
            _check_cli(argv[1:])
        else:
            assert argv[:3] == [VENV_BIN + "prefect", "server", "start"]


@pytest.mark.skipif(shutil.which("systemd-analyze") is None,
                    reason="systemd-analyze is not installed: the units are not verified by systemd here")
def test_systemd_analyze_verifies_every_unit_without_a_warning(tmp_path: Path) -> None:
    """Units copied with the paths of this checkout's venv (verify wants the commands to exist); templates are
    verified as an instance. systemd's unknown keys and bad values are warnings only: any output fails."""
    bin_dir = str(Path(sys.executable).parent) + "/"
    paths = []
    for unit in UNITS:
        name = unit.name.replace("@.", "@8001.")
        (tmp_path / name).write_text(unit.read_text().replace(VENV_BIN, bin_dir))
        paths.append(str(tmp_path / name))
    done = subprocess.run(["systemd-analyze", "verify", *paths], capture_output=True, text=True, check=False,
                          cwd=tmp_path)
    assert done.returncode == 0 and not (done.stdout + done.stderr).strip(), done.stdout + done.stderr


def _compose() -> dict[str, Any]:
    return yaml.safe_load((ROOT / "compose.yaml").read_text())


def test_compose_has_the_scaled_out_layout() -> None:
    services = _compose()["services"]
    assert set(services) == {"postgres", "prefect"} | JOURNEY_SERVICES
    assert services["postgres"]["image"].endswith("postgres:15")
    for name in JOURNEY_SERVICES | {"prefect"}:
        service = services[name]
        assert service["build"] == {"context": ".", "dockerfile": "Containerfile"}
        assert service["image"] == services["api"]["image"]  # one image, the command decides the role
    for name, service in services.items():
        for dependency in service.get("depends_on", {}):
            assert dependency in services, f"{name} depends on an unknown service {dependency}"
    assert services["api"]["depends_on"]["migrate"] == {"condition": "service_completed_successfully"}
    assert services["prefect"]["depends_on"]["postgres"] == {"condition": "service_healthy"}


def test_compose_commands_and_variables_are_journeys() -> None:
    services = _compose()["services"]
    known = {f"JOURNEY_{name.upper()}" for name in Settings.model_fields}
    for name in JOURNEY_SERVICES:
        _check_cli(services[name]["command"])
        env = services[name]["environment"]
        assert set(k for k in env if k.startswith("JOURNEY_")) <= known
        assert "@postgres:5432/journey" in env["JOURNEY_DATABASE_URL"]
        assert env["JOURNEY_DATABASE_URL"].startswith("postgresql+psycopg://")
        assert env["PREFECT_API_URL"] == "http://prefect:4200/api"
        assert ":?" in env["JOURNEY_SECRET_KEY"] and ":?" in env["JOURNEY_WEBHOOK_SECRET"]  # required, no default
    prefect = services["prefect"]
    assert prefect["entrypoint"] == ["prefect"] and prefect["command"][:2] == ["server", "start"]
    assert "@postgres:5432/prefect" in prefect["environment"]["PREFECT_SERVER_DATABASE_CONNECTION_URL"]
    init = services["postgres"]["volumes"][1].split(":")[0]
    assert "CREATE DATABASE prefect" in (ROOT / init).read_text()


def test_the_containerfile_runs_journey_as_a_user() -> None:
    text = (ROOT / "Containerfile").read_text()
    assert re.search(r"^FROM python:3\.11-slim$", text, re.M)
    users = re.findall(r"^USER (\S+)$", text, re.M)
    assert users and users[-1] not in {"root", "0"}
    assert json.loads(re.search(r"^ENTRYPOINT (.+)$", text, re.M).group(1)) == ["journey"]
    _check_cli(json.loads(re.search(r"^CMD (.+)$", text, re.M).group(1)))
    ignored = {line.strip() for line in (ROOT / ".dockerignore").read_text().splitlines()}
    for sources in re.findall(r"^COPY (.+) \S+$", text, re.M):
        for source in sources.split():
            assert (ROOT / source).exists(), f"the Containerfile copies {source}, which is not in the repository"
            assert source not in ignored, f"{source} is copied but .dockerignore leaves it out"


def test_env_example_is_generated_from_the_settings() -> None:
    assert (ROOT / ".env.example").read_text() == env_example(), \
        "run: .venv/bin/journey config env-example > .env.example"
    listed = {v.name for v in variables()}
    assert listed == {f"JOURNEY_{name.upper()}" for name in Settings.model_fields}
    assert all(v.meaning and "\n" not in v.meaning for v in variables())


def test_env_example_shows_each_default() -> None:
    text = (ROOT / ".env.example").read_text()
    assert "# JOURNEY_DATABASE_URL=sqlite:///./var/journey.db\n" in text
    assert "# JOURNEY_TOKEN_DAYS=90\n" in text and "# JOURNEY_DEMO=0\n" in text
    assert "# JOURNEY_SECRET_KEY=\n" in text  # unset by default: generated into the data folder
