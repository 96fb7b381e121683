"""What `journey serve`, `journey demo` and `journey db upgrade` do on their own: run as production, never load
the published demo login into real data, and create the data folder and database owner-only."""
from __future__ import annotations

import signal
import stat
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner


def _env(monkeypatch, **values: str) -> None:
    from journey.config import get_settings

    for key, value in values.items():
        monkeypatch.setenv(f"JOURNEY_{key.upper()}", value)
    get_settings.cache_clear()


@pytest.fixture
def started(monkeypatch) -> Iterator[list[str]]:
    """`journey serve` without uvicorn: the demo loaders it starts are recorded instead of run."""
    import uvicorn

    from journey import demo

    calls: list[str] = []
    monkeypatch.delenv("JOURNEY_PUBLIC_BASE_URL", raising=False)  # serve may set it: gone after the test
    monkeypatch.setattr(uvicorn, "run", lambda *a, **k: None)
    monkeypatch.setattr(demo, "load_demo_when_ready", lambda base: calls.append(base))
    sigterm = signal.getsignal(signal.SIGTERM)  # serve may install its own handler: the test process keeps its
    yield calls
    signal.signal(signal.SIGTERM, sigterm)


def _serve() -> None:
    from journey.cli.serving import serve

    serve(host="127.0.0.1", port=8765)
    for thread in threading.enumerate():
        if thread.name == "journey-demo":
            thread.join(5)


def test_serve_alone_runs_as_production_without_the_demo(db_url, monkeypatch, started, capsys) -> None:
    monkeypatch.delenv("JOURNEY_DEMO")  # the default, not the test fixture's 0
    _serve()
    assert started == []
    assert "production" in capsys.readouterr().out


def test_serve_refuses_the_demo_in_production(db_url, monkeypatch, started, capsys) -> None:
    _env(monkeypatch, demo="1")
    _serve()
    assert started == []
    assert "JOURNEY_DEMO=1 needs JOURNEY_ENVIRONMENT=development" in capsys.readouterr().err


def test_make_run_settings_start_the_demo(db_url, monkeypatch, started) -> None:
    from journey.config import get_settings

    _env(monkeypatch, demo="1", environment="development")
    _serve()
    assert started == ["http://127.0.0.1:8765"]
    assert get_settings().public_base_url == "http://127.0.0.1:8765"  # development links point at this server


def test_the_demo_never_joins_a_database_with_a_team_member(db_url, monkeypatch) -> None:
    from journey import db, demo
    from journey.team import service as team_service

    _env(monkeypatch, environment="development")
    with db.transaction() as session:
        team_service.create_member(session, email="real@vendor.example", name="Real", role="admin")
    with pytest.raises(demo.DemoRefused, match="already has team members"):
        _load_demo_inline(demo)
    with db.transaction(writer=False) as session:
        assert not demo.is_loaded(session)


def test_journey_demo_refuses_production(db_url) -> None:
    from journey import db, demo

    with pytest.raises(demo.DemoRefused, match="JOURNEY_ENVIRONMENT=development"):
        _load_demo_inline(demo)
    with db.transaction(writer=False) as session:
        assert not demo.is_loaded(session)


def test_serve_prints_the_demo_login_only_when_the_demo_is_loaded(db_url, monkeypatch, capsys) -> None:
    import httpx

    from journey import db, demo
    from journey.team import service as team_service

    class Up:
        status_code = 200

    _env(monkeypatch, environment="development", demo="1")
    monkeypatch.setattr(httpx, "get", lambda *a, **k: Up())
    with db.transaction() as session:
        team_service.create_member(session, email="real@vendor.example", name="Real", role="admin")
    demo.load_demo_when_ready("http://127.0.0.1:8765")
    out = capsys.readouterr()
    assert demo.DEMO_PASSWORD not in out.out + out.err and "already has team members" in out.err


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_db_upgrade_creates_an_owner_only_data_folder_and_database(tmp_path, monkeypatch) -> None:
    from journey.cli import app

    _env(monkeypatch, data_dir=str(tmp_path / "var"), database_url=f"sqlite:///{tmp_path / 'var' / 'journey.db'}")
    result = CliRunner().invoke(app, ["db", "upgrade"])
    assert result.exit_code == 0, result.output
    assert _mode(tmp_path / "var") == 0o700
    files = [p for p in (tmp_path / "var").iterdir() if p.name.startswith("journey.db")]
    assert files and {p.name: _mode(p) for p in files} == {p.name: 0o600 for p in files}


def test_the_demo_creates_its_database_and_secrets_owner_only(tmp_path, monkeypatch) -> None:
    from journey import demo

    var = tmp_path / "var"
    _env(monkeypatch, environment="development", data_dir=str(var), database_url=f"sqlite:///{var / 'demo.db'}")
    monkeypatch.delenv("JOURNEY_WEBHOOK_SECRET")  # generated, as `make run` does
    monkeypatch.setattr(demo, "demo_deals", lambda: [])  # the team and its files; the deals are tested elsewhere
    from journey import migrations

    migrations.upgrade()
    _load_demo_inline(demo)
    assert _mode(var) == 0o700
    assert {p.name: _mode(p) for p in var.iterdir()} == {p.name: 0o600 for p in var.iterdir()}
    assert {"demo.db", "webhook_secret"} <= {p.name for p in var.iterdir()}


def _load_demo_inline(demo) -> None:  # type: ignore[no-untyped-def]
    """As `journey demo` does: the app and the runner's drain handed to the demo."""
    from flows.runner import drain_inline
    from journey.app import create_app

    demo.load_demo_inline(create_app=create_app, drain=drain_inline)
