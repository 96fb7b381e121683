"""Defaults that let nobody in by accident: sign-in links from JOURNEY_PUBLIC_BASE_URL only, no demo login on
show unless the demo is loaded, and members a CRM names wait for an admin before they can sign in."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from tests.builders import WEB_PASSWORD, deal_signed, drain, member_with_password, post_event, sign_in, web_csrf

pytestmark = pytest.mark.usefixtures("db_url")


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    from journey.web import auth

    for limiter in (auth.FAILED_PASSWORDS, auth.ATTEMPTS_PER_IP, auth.LINK_REQUESTS):
        limiter._hits.clear()
    yield


def _env(monkeypatch, **values: str) -> None:
    from journey.config import get_settings

    for key, value in values.items():
        monkeypatch.setenv(f"JOURNEY_{key.upper()}", value)
    get_settings.cache_clear()


def _outbox(recipient: str) -> list:  # type: ignore[type-arg]
    from journey import db
    from journey.models import OutboxMessage

    with db.transaction(writer=False) as session:
        return list(session.scalars(select(OutboxMessage).where(OutboxMessage.recipient == recipient)))


def _member(email: str):  # type: ignore[no-untyped-def]
    from journey import db
    from journey.models import TeamMember

    with db.transaction(writer=False) as session:
        return session.scalars(select(TeamMember).where(TeamMember.email == email)).one()


# ----------------------------------------------------------------------------------- sign-in links
def test_a_sign_in_link_never_follows_the_host_header(client, monkeypatch) -> None:
    from structlog.testing import capture_logs

    _env(monkeypatch, public_base_url="http://journey.example.com")
    member_with_password("am@vendor.example", "am")
    with capture_logs() as logs:
        answer = client.post("/signin/link", headers={"Host": "evil.example"},
                             data={"email": "am@vendor.example", "csrf_token": web_csrf(client)},
                             follow_redirects=False)
    assert answer.status_code == 303
    [mail] = _outbox("am@vendor.example")
    assert re.search(r"^http://journey\.example\.com/signin/link/\S+$", mail.body_text, re.MULTILINE)
    assert "evil.example" not in mail.body_text
    assert not [entry for entry in logs if "url" in entry]  # production (the default) never logs the link


def test_without_a_public_base_url_email_sign_in_says_what_it_needs(client) -> None:
    member_with_password("am@vendor.example", "am")
    page = client.get("/signin").text
    assert 'action="/signin/link"' not in page and "JOURNEY_PUBLIC_BASE_URL" in page
    answer = client.post("/signin/link", headers={"Host": "evil.example"},
                         data={"email": "am@vendor.example", "csrf_token": web_csrf(client)}, follow_redirects=False)
    assert answer.status_code == 503 and "JOURNEY_PUBLIC_BASE_URL" in answer.text
    assert _outbox("am@vendor.example") == []
    assert sign_in(client, "am@vendor.example").status_code == 303  # passwords still work


def test_development_logs_the_link_for_trying_without_a_mail_server(client, monkeypatch) -> None:
    from structlog.testing import capture_logs

    _env(monkeypatch, environment="development", public_base_url="http://127.0.0.1:8000")
    member_with_password("am@vendor.example", "am")
    with capture_logs() as logs:
        client.post("/signin/link", data={"email": "am@vendor.example", "csrf_token": web_csrf(client)})
    assert [e["url"] for e in logs if "url" in e][0].startswith("http://127.0.0.1:8000/signin/link/")


# ---------------------------------------------------------------------------------- the demo login
def test_the_sign_in_page_shows_no_demo_login_by_default(client, monkeypatch) -> None:
    from journey.demo import DEMO_PASSWORD

    monkeypatch.delenv("JOURNEY_DEMO")  # the default, not the test fixture's 0
    assert DEMO_PASSWORD not in client.get("/signin").text


def test_the_demo_login_shows_only_once_the_demo_is_loaded(client, monkeypatch) -> None:
    from journey import demo

    _env(monkeypatch, environment="development", demo="1")
    assert demo.DEMO_PASSWORD not in client.get("/signin").text  # asked for, not loaded yet
    demo._create_team()
    assert demo.DEMO_PASSWORD in client.get("/signin").text
    assert sign_in(client, "csm@demo.example", demo.DEMO_PASSWORD).status_code == 303


# ------------------------------------------------------------------------- members a CRM names
def _crm_names_a_stranger(client) -> None:  # type: ignore[no-untyped-def]
    post_event(client, deal_signed(owners={"csm": {"email": "stranger@crm.example", "name": "Stranger"}}))
    assert drain() == ["processed"]


def _raw_token_for(email: str) -> str:
    """A token row written straight to the database (as before this rule existed, or by a bug)."""
    from datetime import timedelta

    from journey import db
    from journey.kit import new_token, token_digest, utcnow
    from journey.models import ApiToken

    token = new_token()
    with db.transaction() as session:
        session.add(ApiToken(member_id=_member(email).id, digest=token_digest(token), label="old",
                             expires_at=utcnow() + timedelta(days=90)))
    return token


def test_a_member_named_by_a_crm_is_assigned_but_cannot_sign_in(client, monkeypatch) -> None:
    from journey import db
    from journey.kit import utcnow
    from journey.models import Account
    from journey.web import service as web_service

    _env(monkeypatch, public_base_url="http://journey.example.com")
    _crm_names_a_stranger(client)
    stranger = _member("stranger@crm.example")
    assert stranger.active and not stranger.can_sign_in
    with db.transaction(writer=False) as session:
        assert session.scalars(select(Account.csm_id)).one() == stranger.id  # still assigned
    client.post("/signin/link", data={"email": "stranger@crm.example", "csrf_token": web_csrf(client)})
    assert not [m for m in _outbox("stranger@crm.example") if "sign-in link" in m.subject]
    token = _raw_token_for("stranger@crm.example")
    refused = client.get("/api/team", headers={"Authorization": f"Bearer {token}"})
    assert refused.status_code == 401 and refused.json()["code"] == "sign_in_disabled"
    with db.transaction() as session:  # a session opened before the right was taken away
        session_token = web_service.open_session(session, member=session.merge(stranger), user_agent=None,
                                                 now=utcnow(), method="password")
    from journey.web import auth

    client.cookies.set(auth.SESSION_COOKIE, auth._serializer("journey.session").dumps(session_token))
    assert client.get("/", follow_redirects=False).status_code == 303  # sent to sign in


def test_journey_tokens_create_waits_for_users_enable(client) -> None:
    from journey.cli import app

    _crm_names_a_stranger(client)
    runner = CliRunner()
    refused = runner.invoke(app, ["tokens", "create", "--email", "stranger@crm.example"])
    assert refused.exit_code != 0 and "journey users enable --email stranger@crm.example" in refused.exception.detail
    enabled = runner.invoke(app, ["users", "enable", "--email", "Stranger@CRM.example"])
    assert enabled.exit_code == 0, enabled.output
    token = runner.invoke(app, ["tokens", "create", "--email", "stranger@crm.example"]).stdout.strip()
    assert client.get("/api/team", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    runner.invoke(app, ["users", "enable", "--email", "stranger@crm.example", "--disable"])
    assert client.get("/api/team", headers={"Authorization": f"Bearer {token}"}).status_code == 401


def test_an_allowed_domain_signs_in_at_once_and_created_members_always(client, monkeypatch) -> None:
    from journey.cli import app

    _env(monkeypatch, allowed_email_domains=" Vendor.example, @partner.example")
    post_event(client, deal_signed(owners={"csm": {"email": "new.csm@vendor.example"},
                                           "am": {"email": "am@partner.example"}}))
    post_event(client, deal_signed("D-2", "C-2", owners={"csm": {"email": "x@vendor.example.evil"}}))
    assert drain() == ["processed", "processed"]
    assert _member("new.csm@vendor.example").can_sign_in and _member("am@partner.example").can_sign_in
    assert not _member("x@vendor.example.evil").can_sign_in
    created = CliRunner().invoke(app, ["users", "create", "--email", "ops@elsewhere.example", "--name", "Ops",
                                       "--role", "admin"])
    assert created.exit_code == 0 and _member("ops@elsewhere.example").can_sign_in


def test_an_admin_allows_a_waiting_member_from_the_members_page(client) -> None:
    _crm_names_a_stranger(client)
    member_with_password("root@vendor.example", "admin")
    member_with_password("csm@vendor.example", "csm")
    sign_in(client, "csm@vendor.example")
    assert client.get("/admin/members").status_code == 403
    client.cookies.clear()
    sign_in(client, "root@vendor.example")
    page = client.get("/admin/members").text
    assert "stranger@crm.example" in page and "Waiting for an admin" in page
    stranger = _member("stranger@crm.example")
    action = f"/admin/members/{stranger.id}/sign-in"
    done = client.post(action, data={"allow": "true", "csrf_token": web_csrf(client, "/admin/members", action)},
                       follow_redirects=False)
    assert done.status_code == 303 and _member("stranger@crm.example").can_sign_in
    own = f"/admin/members/{_member('root@vendor.example').id}/sign-in"
    refused = client.post(own, data={"allow": "false", "csrf_token": web_csrf(client, "/admin/members")})
    assert refused.status_code == 409 and _member("root@vendor.example").can_sign_in


def test_a_member_without_the_right_cannot_use_a_password(client) -> None:
    from journey import db
    from journey.team import repository

    member_with_password("csm@vendor.example", "csm")
    with db.transaction() as session:
        repository.by_email(session, "csm@vendor.example").can_sign_in = False
    assert sign_in(client, "csm@vendor.example", WEB_PASSWORD).status_code == 401
