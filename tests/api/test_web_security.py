"""The web UI's security: sign-in, sessions, CSRF, role scoping, escaping, rate limit."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from tests.builders import (
    deal_signed,
    drain,
    member_with_password,
    post_event,
    sign_in,
    web_csrf,
)

pytestmark = pytest.mark.usefixtures("db_url")


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    from journey.web import auth

    for limiter in (auth.FAILED_PASSWORDS, auth.ATTEMPTS_PER_IP, auth.LINK_REQUESTS):
        limiter._hits.clear()
    yield


def _two_books(client) -> None:  # type: ignore[no-untyped-def]
    member_with_password("csm@vendor.example", "csm")
    member_with_password("other.csm@vendor.example", "csm")
    post_event(client, deal_signed("D-1", "C-1"))
    post_event(client, deal_signed("D-2", "C-2", owners={"csm": {"email": "other.csm@vendor.example"},
                                                          "am": {"email": "other.am@vendor.example"}}))
    assert drain() == ["processed", "processed"]


def _account_id(external_id: str) -> int:
    from journey import db
    from journey.models import Account

    with db.transaction(writer=False) as session:
        return session.scalars(select(Account.id).where(Account.crm_external_id == external_id)).one()


def _first_task(account_id: int):  # type: ignore[no-untyped-def]
    from journey import db
    from journey.models import Journey, PlanTask

    with db.transaction(writer=False) as session:
        return session.scalars(select(PlanTask).join(Journey, Journey.id == PlanTask.journey_id)
                               .where(Journey.account_id == account_id, PlanTask.needs_packet_ack.is_(False))
                               .order_by(PlanTask.id).limit(1)).one()


def test_pages_send_strangers_to_sign_in(client) -> None:
    response = client.get("/accounts/1?x=1", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/signin?next=%2Faccounts%2F1%3Fx%3D1"


def test_the_session_cookie_is_httponly_and_lax(client) -> None:
    member_with_password("csm@vendor.example", "csm")
    response = sign_in(client, "csm@vendor.example")
    assert response.status_code == 303
    cookie = response.headers["set-cookie"]
    assert "journey_session=" in cookie and "HttpOnly" in cookie and "SameSite=lax" in cookie
    assert "Secure" not in cookie  # plain http on localhost


def test_the_cookie_is_secure_behind_https(client, monkeypatch) -> None:
    from journey.config import get_settings

    monkeypatch.setenv("JOURNEY_PUBLIC_BASE_URL", "https://journey.example.com")
    get_settings.cache_clear()
    client.base_url = "https://testserver"  # behind a TLS proxy: Secure cookies come back over https only
    member_with_password("csm@vendor.example", "csm")
    assert "Secure" in sign_in(client, "csm@vendor.example").headers["set-cookie"]


def test_a_form_post_without_the_csrf_token_is_refused(client) -> None:
    _two_books(client)
    sign_in(client, "csm@vendor.example")
    account_id = _account_id("C-1")
    task = _first_task(account_id)
    refused = client.post(f"/accounts/{account_id}/tasks/{task.id}", data={"action": "done"}, follow_redirects=False)
    assert refused.status_code == 403
    assert "reload the page" in refused.text
    forged = client.post(f"/accounts/{account_id}/tasks/{task.id}",
                         data={"action": "done", "csrf_token": "forged"}, follow_redirects=False)
    assert forged.status_code == 403
    assert str(_first_task(account_id).status) == "todo"
    token = web_csrf(client, f"/accounts/{account_id}", action=f"/accounts/{account_id}/tasks/{task.id}")
    ok = client.post(f"/accounts/{account_id}/tasks/{task.id}", data={"action": "done", "csrf_token": token},
                     follow_redirects=False)
    assert ok.status_code == 303
    assert str(_first_task(account_id).status) == "done"


def test_a_cross_site_origin_is_refused_even_with_the_token(client) -> None:
    _two_books(client)
    sign_in(client, "csm@vendor.example")
    account_id = _account_id("C-1")
    token = web_csrf(client, f"/accounts/{account_id}")
    task = _first_task(account_id)
    response = client.post(f"/accounts/{account_id}/tasks/{task.id}", data={"action": "done", "csrf_token": token},
                           headers={"Origin": "https://evil.example"}, follow_redirects=False)
    assert response.status_code == 403


def test_sign_in_without_the_form_token_is_refused(client) -> None:
    member_with_password("csm@vendor.example", "csm")
    response = client.post("/signin", data={"email": "csm@vendor.example", "password": "correct horse battery staple"},
                           follow_redirects=False)
    assert response.status_code == 403
    assert "journey_session" not in response.headers.get("set-cookie", "")


@pytest.mark.parametrize("page", ["", "/handoff"])
def test_a_csm_asking_for_another_csms_account_gets_404(client, page) -> None:
    _two_books(client)
    sign_in(client, "csm@vendor.example")
    mine, theirs = _account_id("C-1"), _account_id("C-2")
    assert client.get(f"/accounts/{mine}{page}").status_code == 200
    response = client.get(f"/accounts/{theirs}{page}")
    assert response.status_code == 404
    assert "Société" not in response.text  # nothing of the other account leaks
    assert client.get(f"/accounts/crm:events:C-2{page}").status_code == 404


def test_a_company_name_with_a_script_tag_is_shown_as_text(client) -> None:
    member_with_password("csm@vendor.example", "csm")
    evil = '<script>alert("pwned")</script> & Co'
    post_event(client, deal_signed("D-9", "C-9", account={"name": evil}))
    drain()
    sign_in(client, "csm@vendor.example")
    for path in ("/", f"/accounts/{_account_id('C-9')}", f"/accounts/{_account_id('C-9')}/handoff", "/reviews"):
        html = client.get(path).text
        assert "&lt;script&gt;alert(&#34;pwned&#34;)&lt;/script&gt; &amp; Co" in html, path
        assert "<script>alert" not in html, path
    assert "script-src 'self'" in client.get("/").headers["content-security-policy"]


def _from(client, address: str):  # type: ignore[no-untyped-def]
    """Another browser, on another address, of the same app."""
    from fastapi.testclient import TestClient

    return TestClient(client.app, client=(address, 50000))


def test_wrong_passwords_are_limited_per_address_and_email_and_never_lock_the_member_out(client) -> None:
    member_with_password("csm@vendor.example", "csm")
    for _ in range(5):
        assert sign_in(client, "csm@vendor.example", "wrong password").status_code == 401
    blocked = sign_in(client, "csm@vendor.example")  # even the right password waits now, from this address
    assert blocked.status_code == 429
    assert int(blocked.headers["retry-after"]) > 0
    assert "try again in" in blocked.text
    with _from(client, "203.0.113.7") as member:  # the member, elsewhere: the stranger's guesses cost nothing
        assert sign_in(member, "csm@vendor.example").status_code == 303
        assert member.get("/", follow_redirects=False).status_code == 200


def test_one_address_spraying_a_password_over_many_emails_is_stopped(client) -> None:
    from journey.web import auth

    member_with_password("csm@vendor.example", "csm")
    for _ in range(29):  # 29 emails already tried from this address (30 wrong passwords is the limit)
        auth.ATTEMPTS_PER_IP.hit("testclient")
    assert sign_in(client, "person30@vendor.example", "Winter2026!").status_code == 401
    assert sign_in(client, "csm@vendor.example").status_code == 429
    with _from(client, "203.0.113.7") as member:
        assert sign_in(member, "csm@vendor.example").status_code == 303


def test_right_passwords_do_not_count_against_an_address(client) -> None:
    """An office behind one NAT address signs in all morning."""
    from journey.web import auth

    member_with_password("csm@vendor.example", "csm")
    for _ in range(29):
        auth.ATTEMPTS_PER_IP.hit("testclient")
    for _ in range(2):
        assert sign_in(client, "csm@vendor.example").status_code == 303
        client.cookies.delete("journey_session")


def test_sign_out_ends_the_session_on_the_server(client) -> None:
    member_with_password("csm@vendor.example", "csm")
    sign_in(client, "csm@vendor.example")
    stolen = client.cookies.get("journey_session")
    token = web_csrf(client, "/")
    assert client.post("/signout", data={"csrf_token": token}, follow_redirects=False).status_code == 303
    client.cookies.set("journey_session", stolen)
    assert client.get("/", follow_redirects=False).status_code == 303


def test_sign_in_never_redirects_off_site(client) -> None:
    member_with_password("csm@vendor.example", "csm")
    response = client.post("/signin", follow_redirects=False, data={
        "email": "csm@vendor.example", "password": "correct horse battery staple", "next": "//evil.example/x",
        "csrf_token": web_csrf(client)})
    assert response.headers["location"] == "/"


def test_a_sign_in_link_works_once(client, monkeypatch) -> None:
    from journey import db
    from journey.config import get_settings
    from journey.models import OutboxMessage

    monkeypatch.setenv("JOURNEY_PUBLIC_BASE_URL", "http://journey.example.com")
    get_settings.cache_clear()
    member_with_password("am@vendor.example", "am")
    token = web_csrf(client)
    assert client.post("/signin/link", data={"email": "am@vendor.example", "csrf_token": token},
                       follow_redirects=False).status_code == 303
    # an unknown address gets the same answer and no email
    client.post("/signin/link", data={"email": "nobody@vendor.example", "csrf_token": token})
    with db.transaction(writer=False) as session:
        mails = session.scalars(select(OutboxMessage)).all()
    assert [m.recipient for m in mails] == ["am@vendor.example"]
    path = re.search(r"http://journey\.example\.com(/signin/link/\S+)", mails[0].body_text).group(1)
    assert "Continue as" in client.get(path).text  # a GET (a mail scanner) does not spend it
    used = client.post(path, data={"csrf_token": web_csrf(client, path)}, follow_redirects=False)
    assert used.status_code == 303 and "journey_session=" in used.headers["set-cookie"]
    assert client.get("/reminders").status_code == 200
    client.cookies.clear()
    again = client.post(path, data={"csrf_token": web_csrf(client)}, follow_redirects=False)
    assert "journey_session=" not in again.headers.get("set-cookie", "")
    assert client.get(path).status_code == 410


def test_only_admins_open_the_inbox(client) -> None:
    member_with_password("ae@vendor.example", "ae")
    member_with_password("root@vendor.example", "admin")
    sign_in(client, "ae@vendor.example")
    assert client.get("/admin/inbox").status_code == 403
    assert "Inbox" not in client.get("/").text.split("<main")[0]  # not in the navigation either
    client.cookies.clear()
    sign_in(client, "root@vendor.example")
    assert client.get("/admin/inbox").status_code == 200


def test_a_member_closes_only_their_own_reminders(client) -> None:
    from journey import db
    from journey.kit import utcnow
    from journey.models import Reminder, TeamMember
    from journey.notify import service as notify

    member_with_password("am@vendor.example", "am")
    member_with_password("other.am@vendor.example", "am")
    with db.transaction() as session:
        other = session.scalars(select(TeamMember).where(TeamMember.email == "other.am@vendor.example")).one()
        mine = session.scalars(select(TeamMember).where(TeamMember.email == "am@vendor.example")).one()
        theirs_id = notify.remind(session, kind="expansion_seats", assignee=other, account_id=None, now=utcnow(),
                                  due_at=utcnow(), reason="96 of 100 seats used", dedupe_key="t:1")
        mine_id = notify.remind(session, kind="expansion_seats", assignee=mine, account_id=None, now=utcnow(),
                                due_at=utcnow(), reason="Seats: 118 of 120 used", dedupe_key="t:2")
    sign_in(client, "am@vendor.example")
    assert "Seats: 118 of 120 used" in client.get("/reminders").text
    assert "96 of 100" not in client.get("/reminders").text
    token = web_csrf(client, "/reminders", action=f"/reminders/{mine_id}")
    assert client.post(f"/reminders/{theirs_id}", data={"csrf_token": token}).status_code == 404
    assert client.post(f"/reminders/{mine_id}", data={"csrf_token": token, "action": "done"},
                       follow_redirects=False).status_code == 303
    with db.transaction(writer=False) as session:
        assert session.get(Reminder, mine_id).status == "done"
        assert session.get(Reminder, theirs_id).status == "open"
