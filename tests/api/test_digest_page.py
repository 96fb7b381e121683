"""/digest: the weekly digest in the app, so it works without SMTP: the team's for a manager, their own
for a CSM; signed in only; names escaped."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from journey import db
from journey.kit import utcnow
from journey.models import Account, Reminder, Review, TeamMember
from tests.builders import deal_signed, drain, member_with_password, post_event, sign_in

pytestmark = pytest.mark.usefixtures("db_url")


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    from journey.web import auth

    for limiter in (auth.FAILED_PASSWORDS, auth.ATTEMPTS_PER_IP, auth.LINK_REQUESTS):
        limiter._hits.clear()
    yield


@pytest.fixture
def team(client) -> None:  # type: ignore[no-untyped-def]
    for email, role, name in (("csm@vendor.example", "csm", "Camille <b>CSM</b>"), ("am@vendor.example", "am", None),
                              ("boss@vendor.example", "manager", None)):
        member_with_password(email, role, name)
    post_event(client, deal_signed())
    assert drain() == ["processed"]


@pytest.mark.clock("2027-02-08T07:00:00Z")  # the kickoff tasks are late, the 90-day review is ten days away
def test_a_manager_reads_the_team_digest(client, team) -> None:
    assert client.get("/digest", follow_redirects=False).status_code == 303  # signed out: to sign in
    sign_in(client, "boss@vendor.example")
    page = client.get("/digest")
    assert page.status_code == 200 and "Team digest" in page.text
    assert "Camille &lt;b&gt;CSM&lt;/b&gt;" in page.text and "<b>CSM</b>" not in page.text  # autoescaped
    assert "Reviews (14 d)" in page.text and "Overdue tasks" in page.text


@pytest.mark.clock("2027-02-08T07:00:00Z")
def test_a_csm_reads_their_own_week(client, team) -> None:
    with db.transaction() as session:
        am = session.scalar(select(TeamMember).where(TeamMember.email == "am@vendor.example"))
        account_id = session.scalar(select(Account.id))
        session.add(Reminder(kind="expansion.renewal_window", account_id=account_id, assignee_id=am.id,
                             due_at=utcnow(), reason="not the CSM's", status="open", dedupe_key="am-only",
                             details={}, created_at=utcnow()))
        first_review = session.scalars(select(Review.title).order_by(Review.due_on)).first()
    sign_in(client, "csm@vendor.example")
    page = client.get("/digest").text
    assert "Your week" in page and "Team digest" not in page
    assert "Your overdue tasks" in page and "days ago" in page
    assert "Reviews in the next 14 days" in page and f"— {first_review}</span>" in page
    assert "Société Acme" in page and "not the CSM&#39;s" not in page and "not the CSM's" not in page
