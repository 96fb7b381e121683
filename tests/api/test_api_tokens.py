"""API tokens: they expire, they can be listed (never their secret) and revoked, and deactivating a member
ends their tokens and browser sessions for good, wherever it is done."""
from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest
from typer.testing import CliRunner

from journey.cli import app
from tests.builders import member_with_password, member_with_token, sign_in

pytestmark = pytest.mark.usefixtures("db_url")
CSM = "csm@vendor.example"
WIDE = {"COLUMNS": "200"}
runner = CliRunner()


def _create(email: str = CSM, *args: str) -> str:
    result = runner.invoke(app, ["tokens", "create", "--email", email, *args], env=WIDE)
    assert result.exit_code == 0, result.output
    assert re.fullmatch(r"jt_[\w-]{43}\n", result.stdout), result.stdout  # alone on stdout: scripts read it
    return result.stdout.strip()


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _refusal(client, token: str) -> str:  # type: ignore[no-untyped-def]
    """The problem code of a 401 to this token."""
    response = client.get("/api/accounts", headers=_bearer(token))
    assert response.status_code == 401, response.text
    return response.json()["code"]


def _listed(*args: str) -> list[dict[str, object]]:
    result = runner.invoke(app, ["tokens", "list", "--json", *args], env=WIDE)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_a_token_works_for_the_configured_days_then_answers_token_expired(client, clock, monkeypatch) -> None:
    from journey.config import get_settings

    monkeypatch.setenv("JOURNEY_TOKEN_DAYS", "30")
    get_settings.cache_clear()
    member_with_password(CSM, "csm")
    token = _create()
    assert client.get("/api/accounts", headers=_bearer(token)).status_code == 200
    clock.shift(timedelta(days=29, hours=23))
    assert client.get("/api/accounts", headers=_bearer(token)).status_code == 200
    clock.shift(timedelta(hours=2))
    expired = client.get("/api/accounts", headers=_bearer(token))
    assert expired.status_code == 401 and expired.json()["code"] == "token_expired"
    assert "expired on" in expired.json()["detail"] and expired.headers["www-authenticate"] == "Bearer"


def test_tokens_create_days_gives_a_token_its_own_lifetime(client, clock) -> None:
    member_with_password(CSM, "csm")
    short, default = _create(CSM, "--days", "2"), _create()
    clock.shift(timedelta(days=2, minutes=1))
    assert _refusal(client, short) == "token_expired"
    assert client.get("/api/accounts", headers=_bearer(default)).status_code == 200
    clock.shift(timedelta(days=88))  # 90 days (JOURNEY_TOKEN_DAYS' default) after its creation
    assert _refusal(client, default) == "token_expired"
    assert runner.invoke(app, ["tokens", "create", "--email", CSM, "--days", "0"]).exit_code == 2


def test_the_list_shows_tokens_without_their_secret_and_revoked_ones_answer_token_revoked(client) -> None:
    member_with_password(CSM, "csm")
    first, second = _create(), _create(CSM, "--label", "ci")
    assert client.get("/api/accounts", headers=_bearer(first)).status_code == 200
    listed = _listed("--email", CSM)
    assert [(t["label"], t["token"], t["state"]) for t in listed] == [
        ("cli", f"jt_...{first[-4:]}", "active"), ("ci", f"jt_...{second[-4:]}", "active")]
    assert listed[0]["last_used_at"] is not None and listed[1]["last_used_at"] is None
    assert {"id", "created_at", "expires_at", "revoked_at"} <= set(listed[0])
    table = runner.invoke(app, ["tokens", "list"], env=WIDE).stdout
    for shown in (json.dumps(listed), table):
        assert first not in shown and second not in shown and first[3:-4] not in shown

    revoked = runner.invoke(app, ["tokens", "revoke", str(listed[0]["id"])], env=WIDE)
    assert revoked.exit_code == 0 and "revoked" in revoked.stdout
    assert _refusal(client, first) == "token_revoked"
    assert client.get("/api/accounts", headers=_bearer(second)).status_code == 200
    everything = runner.invoke(app, ["tokens", "revoke", "--email", CSM, "--all"], env=WIDE)
    assert everything.exit_code == 0 and "1 token(s)" in everything.stdout
    assert _refusal(client, second) == "token_revoked"
    assert [t["state"] for t in _listed()] == ["revoked", "revoked"]


def test_revoke_refuses_an_unknown_id_and_a_vague_request() -> None:
    from journey.errors import NotFound

    member_with_password(CSM, "csm")
    assert isinstance(runner.invoke(app, ["tokens", "revoke", "999"]).exception, NotFound)
    for args in ([], ["--email", CSM], ["1", "--email", CSM, "--all"], ["--all"]):
        vague = runner.invoke(app, ["tokens", "revoke", *args])
        assert vague.exit_code == 2 and "give a token ID, or --email E --all" in vague.output, args


def _signed_in_with_token(client) -> str:  # type: ignore[no-untyped-def]
    member_with_password(CSM, "csm")
    token = _create()
    assert sign_in(client, CSM).status_code == 303
    assert client.get("/", follow_redirects=False).status_code == 200
    return token


def _member_id(client, manager: dict[str, str]) -> int:  # type: ignore[no-untyped-def]
    return next(m["id"] for m in client.get("/api/team", headers=manager).json() if m["email"] == CSM)


def test_deactivating_a_member_in_the_api_ends_their_tokens_and_sessions_even_once_reactivated(client) -> None:
    token = _signed_in_with_token(client)
    cookie = client.cookies.get("journey_session")
    manager = member_with_token("boss@vendor.example", "manager")
    url = f"/api/team/{_member_id(client, manager)}"
    assert client.patch(url, headers=manager, json={"active": False}).json()["active"] is False
    assert client.patch(url, headers=manager, json={"active": True}).json()["active"] is True
    assert _refusal(client, token) == "token_revoked"
    client.cookies.set("journey_session", cookie)
    assert client.get("/", follow_redirects=False).status_code == 303  # back to the sign-in page


def test_deactivating_a_member_from_the_cli_does_the_same(client) -> None:
    token = _signed_in_with_token(client)
    for flag in ("--inactive", "--active"):
        assert runner.invoke(app, ["team", "set", "--email", CSM, flag], env=WIDE).exit_code == 0
    assert _refusal(client, token) == "token_revoked"
    assert client.get("/", follow_redirects=False).status_code == 303
    assert client.get("/api/accounts", headers=_bearer(_create())).status_code == 200  # a new token works
