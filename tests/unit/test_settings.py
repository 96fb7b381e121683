"""Settings that let nobody in by accident: production by default, weak secret keys refused in one line."""
from __future__ import annotations

import os
import stat
import subprocess
import sys

import pytest
from typer.testing import CliRunner


def _settings(monkeypatch, **env: str):  # type: ignore[no-untyped-def]
    from journey.config import Settings

    for key, value in env.items():
        monkeypatch.setenv(f"JOURNEY_{key.upper()}", value)
    return Settings()


def test_production_is_the_default_and_the_demo_is_opt_in(monkeypatch) -> None:
    monkeypatch.delenv("JOURNEY_DEMO")  # the test fixture turns it off; here the default speaks
    settings = _settings(monkeypatch)
    assert settings.environment == "production" and not settings.is_development
    assert settings.demo is False


@pytest.mark.parametrize("key", ["x", "CHANGEME", "changeme", "secret", "0123456789abcdef0123456789abcde",
                                 "CHANGEME-CHANGEME-CHANGEME-CHANGEME-CHANGEME", "é" * 15])
def test_production_refuses_a_short_or_placeholder_secret_key(monkeypatch, key: str) -> None:
    from pydantic import ValidationError

    from journey.config import describe

    with pytest.raises(ValidationError) as refused:
        _settings(monkeypatch, secret_key=key)
    [line] = describe(refused.value)
    assert line.startswith("JOURNEY_SECRET_KEY ") and "production" in line and "\n" not in line
    assert len(key) < 8 or key not in line  # the refusal never repeats the secret


def test_development_accepts_a_placeholder_and_production_a_real_key(monkeypatch) -> None:
    assert _settings(monkeypatch, environment="development", secret_key="x").secret_key == "x"
    monkeypatch.setenv("JOURNEY_ENVIRONMENT", "production")
    key = "k" * 16 + "0123456789abcdef"  # 32 bytes
    assert _settings(monkeypatch, secret_key=key).resolved_secret_key() == key


def test_an_unset_key_is_generated_owner_only_into_an_owner_only_data_folder(monkeypatch, tmp_path) -> None:
    settings = _settings(monkeypatch, data_dir=str(tmp_path / "data"), secret_key="")
    key = settings.resolved_secret_key()
    assert len(key) >= 64  # 48 random bytes, URL-safe
    assert settings.resolved_secret_key() == key  # generated once
    assert stat.S_IMODE((tmp_path / "data").stat().st_mode) == 0o700
    assert stat.S_IMODE((tmp_path / "data" / "secret_key").stat().st_mode) == 0o600


@pytest.mark.parametrize(("name", "value", "says"), [
    ("environment", "staging", "JOURNEY_ENVIRONMENT must be 'production'"),
    ("public_base_url", "journey.example.com", "JOURNEY_PUBLIC_BASE_URL must be the address"),
])
def test_other_bad_settings_are_named_in_one_line(monkeypatch, name: str, value: str, says: str) -> None:
    from pydantic import ValidationError

    from journey.config import describe

    with pytest.raises(ValidationError) as refused:
        _settings(monkeypatch, **{name: value})
    assert [line for line in describe(refused.value) if says in line]


def test_the_public_base_url_loses_its_trailing_slash(monkeypatch) -> None:
    assert _settings(monkeypatch, public_base_url="https://journey.example.com/").public_base_url == \
        "https://journey.example.com"


def test_config_check_reports_a_weak_key_in_one_line() -> None:
    from journey.cli import app

    result = CliRunner().invoke(app, ["config", "check"], env={"JOURNEY_SECRET_KEY": "s3cr3t-but-only-24-bytes"})
    assert result.exit_code == 1
    [line] = result.output.strip().splitlines()
    assert line.startswith("JOURNEY_SECRET_KEY is too short (24 bytes, 32 needed) in production")
    assert "Traceback" not in result.output and "pydantic" not in result.output


def test_a_command_refuses_to_start_with_a_weak_key_without_a_traceback(tmp_path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("JOURNEY_")}
    env.update(JOURNEY_SECRET_KEY="CHANGEME", JOURNEY_DATABASE_URL=f"sqlite:///{tmp_path / 'j.db'}")
    result = subprocess.run([sys.executable, "-c", "from journey.cli import main; main()", "db", "current"],
                            env=env, cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [result.stderr.strip()]  # one line
    assert result.stderr.startswith("error: JOURNEY_SECRET_KEY is a placeholder in production")
    assert not (tmp_path / "j.db").exists()  # refused before touching anything
