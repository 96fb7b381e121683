"""The customer's shared success plan: share links (invite, list, revoke, expiry), the portal's JSON API and
page, which show customer-facing fields only, of their own account only, and tell the CSM what the customer did."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from journey import db
from journey.models import Objective, OutboxMessage, PlanTask, Reminder, Review, ShareLink, TaskStatus
from tests.builders import deal_signed, drain, member_with_token, post_event

pytestmark = [pytest.mark.usefixtures("db_url"), pytest.mark.clock("2026-11-23T09:00:00Z")]
ACCOUNT = "/api/accounts/crm:events:C-77"
MARK = "ZZSECRETZZ"


@pytest.fixture
def public_url(monkeypatch):  # type: ignore[no-untyped-def]
    from journey.config import get_settings

    monkeypatch.setenv("JOURNEY_PUBLIC_BASE_URL", "https://journey.example.com")
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def _sign(client, **over) -> None:  # type: ignore[no-untyped-def]
    post_event(client, deal_signed(**over))
    assert drain() == ["processed"]


def _invite(client, csm, account: str = ACCOUNT) -> tuple[int, str]:  # type: ignore[no-untyped-def]
    answer = client.post(f"{account}/share-links", headers=csm, json={"email": "chloe@acme.example", "name": "Chloé"})
    assert answer.status_code == 201, answer.text
    body = answer.json()
    assert body["url"].startswith("https://journey.example.com/p/sp_")
    return body["id"], body["url"].rsplit("/", 1)[1]


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _task(key: str) -> int:
    with db.transaction() as s:
        return s.scalar(select(PlanTask.id).where(PlanTask.key == key))


def test_a_link_is_emailed_stored_as_a_digest_listed_and_revoked_at_once(client, admin, public_url) -> None:
    _sign(client)
    csm = member_with_token("csm@vendor.example", "csm")
    link_id, token = _invite(client, csm)
    with db.transaction() as s:
        link = s.get(ShareLink, link_id)
        assert token not in link.token_digest and len(link.token_digest) == 64
        assert str(link.expires_at.date()) == "2027-01-22"  # 60 days
        [mail] = s.scalars(select(OutboxMessage).where(OutboxMessage.recipient == "chloe@acme.example")).all()
        assert f"https://journey.example.com/p/{token}" in mail.body_text
    [listed] = client.get(f"{ACCOUNT}/share-links", headers=csm).json()["items"]
    assert (listed["id"], listed["state"]) == (link_id, "active") and token not in str(listed)
    assert client.get("/api/portal", headers=_bearer(token)).status_code == 200

    assert client.delete(f"/api/share-links/{link_id}", headers=csm).status_code == 204
    assert client.get("/api/portal", headers=_bearer(token)).status_code == 410
    assert client.get(f"/p/{token}").status_code == 410
    assert client.get(f"{ACCOUNT}/share-links", headers=csm).json()["items"][0]["state"] == "revoked"


def test_without_a_public_base_url_no_link_is_built_from_the_host_header(client, admin) -> None:
    _sign(client)
    csm = member_with_token("csm@vendor.example", "csm")
    answer = client.post(f"{ACCOUNT}/share-links", headers=csm | {"Host": "evil.example"},
                         json={"email": "chloe@acme.example", "name": "Chloé"})
    assert answer.status_code == 409 and "JOURNEY_PUBLIC_BASE_URL" in answer.text


def test_a_link_expires_and_renewing_brings_it_back(client, admin, public_url, clock) -> None:
    _sign(client)
    csm = member_with_token("csm@vendor.example", "csm")
    link_id, token = _invite(client, csm)
    clock.shift(timedelta(days=61))
    assert client.get("/api/portal", headers=_bearer(token)).status_code == 410
    assert client.patch(f"/api/share-links/{link_id}", headers=csm, json={"days": 30}).json()["state"] == "active"
    assert client.get("/api/portal", headers=_bearer(token)).status_code == 200


def test_who_may_share_and_what_a_bad_token_gets(client, admin, public_url) -> None:
    _sign(client)
    ae = member_with_token("ae@vendor.example", "ae")
    stranger = member_with_token("other.csm@vendor.example", "csm")
    body = {"email": "chloe@acme.example", "name": "Chloé"}
    assert client.post(f"{ACCOUNT}/share-links", headers=ae, json=body).status_code == 403
    assert client.post(f"{ACCOUNT}/share-links", headers=stranger, json=body).status_code == 404
    assert client.get("/api/portal").status_code == 401
    assert client.get("/api/portal", headers=_bearer("sp_" + "x" * 43)).status_code == 404
    assert client.get("/p/not-a-token").status_code == 404


def test_the_customer_finishes_their_task_and_the_vendor_task_it_blocked_is_freed(client, admin, public_url) -> None:
    _sign(client)
    csm = member_with_token("csm@vendor.example", "csm")
    _, token = _invite(client, csm)
    with db.transaction() as s:
        s.scalars(select(PlanTask).where(PlanTask.key == "workspace_setup")).one().status = TaskStatus.done
    signoff, vendor = _task("configuration_signoff"), _task("admin_training")

    refused = client.patch(f"/api/portal/tasks/{vendor}", headers=_bearer(token), json={"status": "done"})
    assert refused.status_code == 403
    done = client.patch(f"/api/portal/tasks/{signoff}", headers=_bearer(token), json={"status": "done"})
    assert done.status_code == 200, done.text
    plan = client.get(f"{ACCOUNT}/plan", headers=csm).json()
    by_key = {t["key"]: t for m in plan["milestones"] for t in m["tasks"]}
    assert by_key["configuration_signoff"]["status"] == "done"
    assert by_key["admin_training"]["blocked_by"] == []
    with db.transaction() as s:
        [reminder] = s.scalars(select(Reminder).where(Reminder.kind == "portal_task_done")).all()
        assert "chloe@acme.example" in reminder.reason and "Train the customer admins" in reminder.reason
    assert client.get(f"{ACCOUNT}/share-links", headers=csm).json()["items"][0]["last_used_at"] is not None
    feed = client.get(f"{ACCOUNT}/activity", headers=csm).json()["items"]
    assert (feed[0]["actor"], feed[0]["actor_kind"], feed[0]["action"]) == (
        "chloe@acme.example", "customer", "task.updated")


def test_the_customer_validates_an_objective_and_the_packet_says_who_and_when(client, admin, public_url) -> None:
    objectives = [{"title": "Cut agent onboarding", "kpi": "days", "baseline": 21, "target": 7,
                   "source": "sales_assumed"}]
    _sign(client, objectives=objectives)
    csm = member_with_token("csm@vendor.example", "csm")
    _, token = _invite(client, csm)
    [objective] = client.get("/api/portal", headers=_bearer(token)).json()["objectives"]
    assert objective["source"] == "sales_assumed"
    url = f"/api/portal/objectives/{objective['id']}/validation"
    assert client.post(url, headers=_bearer(token), json={"decision": "comment"}).status_code == 422
    answer = client.post(url, headers=_bearer(token), json={"decision": "validate", "comment": "agreed"})
    assert answer.status_code == 201, answer.text
    [after] = answer.json()["objectives"]
    assert (after["source"], after["validated_by"]) == ("customer_validated", "chloe@acme.example")
    assert after["validated_at"].startswith("2026-11-23")
    packet = client.get(f"{ACCOUNT}/handoff", headers=csm).json()
    assert packet["content"]["objectives"][0]["source"] == "customer_validated"
    [tracked] = client.get(f"{ACCOUNT}/objectives", headers=csm).json()["items"]
    assert (tracked["source"], tracked["validated_by"]) == ("customer_validated", "chloe@acme.example")
    with db.transaction() as s:
        assert s.scalars(select(Reminder).where(Reminder.kind == "portal_objective_validate")).one()


def test_a_link_reads_and_acts_on_its_own_account_only(client, admin, public_url) -> None:
    _sign(client)
    _sign(client, deal_id="D-2002", account_id="C-88",
          account={"id": "C-88", "name": "Other Co", "domain": "other.example"})
    csm = member_with_token("csm@vendor.example", "csm")
    _, token = _invite(client, csm)
    with db.transaction() as s:
        theirs = s.scalars(select(PlanTask).where(PlanTask.key == "configuration_signoff")
                           .order_by(PlanTask.id.desc())).first()
        their_objective = s.scalars(select(Objective).order_by(Objective.id.desc())).first()
        their_review = s.scalars(select(Review).order_by(Review.id.desc())).first()
    mine = client.get("/api/portal", headers=_bearer(token)).json()
    assert mine["account"].startswith("Société Acme")
    assert theirs.id not in {t["id"] for m in mine["milestones"] for t in m["tasks"]}
    h = _bearer(token)
    assert client.patch(f"/api/portal/tasks/{theirs.id}", headers=h, json={"status": "done"}).status_code == 404
    assert client.post(f"/api/portal/tasks/{theirs.id}/comments", headers=h, json={"body": "hi"}).status_code == 404
    assert client.post(f"/api/portal/objectives/{their_objective.id}/validation", headers=h,
                       json={"decision": "validate"}).status_code == 404
    assert client.get(f"/p/{token}/reviews/{their_review.id}.ics").status_code == 404


def test_no_internal_field_reaches_the_customer(client, admin, public_url) -> None:
    """Every internal field holds a marker; no portal answer or page may contain it."""
    notes = {"why_bought": MARK, "alternatives": MARK, "promises": [MARK], "risks": [MARK], "technical_scope": MARK}
    owners = {"ae": {"email": "ae@vendor.example", "name": f"AE {MARK}"},
              "se": {"email": f"se.{MARK.lower()}@vendor.example", "name": f"SE {MARK}"},
              "csm": {"email": "csm@vendor.example", "name": "Camille CSM"},
              "am": {"email": "am@vendor.example", "name": "Morgan AM"}}
    _sign(client, notes=notes, owners=owners)
    csm = member_with_token("csm@vendor.example", "csm")
    assert client.patch(f"{ACCOUNT}/handoff", headers=admin, json={"se_notes": MARK}).status_code == 200
    task = _task("configuration_signoff")
    client.post(f"/api/tasks/{task}/comments", headers=csm, json={"body": f"internal {MARK}"})
    client.post(f"/api/tasks/{task}/comments", headers=csm, json={"body": "see you Tuesday", "shared": True})
    _, token = _invite(client, csm)
    with db.transaction() as s:
        for review in s.scalars(select(Review)):
            review.outcome = MARK
    h = _bearer(token)
    portal = client.get("/api/portal", headers=h)
    [objective] = portal.json()["objectives"]
    review_id = portal.json()["reviews"][0]["id"]
    answers = [
        portal, client.get(f"/p/{token}"), client.get(f"/p/{token}/reviews/{review_id}.ics"),
        client.post(f"/api/portal/tasks/{task}/comments", headers=h, json={"body": "looks good"}),
        client.patch(f"/api/portal/tasks/{task}", headers=h, json={"status": "done"}),
        client.post(f"/api/portal/objectives/{objective['id']}/validation", headers=h, json={"decision": "validate"}),
    ]
    for answer in answers:
        assert answer.status_code in (200, 201), answer.text
        assert MARK not in answer.text and MARK.lower() not in answer.text, answer.request.url
    with db.transaction() as s:  # the tasks made from promises and risks quote them: not the customer's
        internal = list(s.scalars(select(PlanTask.id).where(PlanTask.key.like("pk-%"))))
    assert len(internal) == 2
    for task_id in internal:
        assert client.patch(f"/api/portal/tasks/{task_id}", headers=h, json={"status": "done"}).status_code == 404
        assert client.post(f"/api/portal/tasks/{task_id}/comments", headers=h, json={"body": "x"}).status_code == 404
    page = client.get(f"/p/{token}").text
    assert "see you Tuesday" in page and "looks good" in page and "Camille CSM" in page


def test_the_page_s_forms_need_their_csrf_token(client, admin, public_url) -> None:
    _sign(client)
    csm = member_with_token("csm@vendor.example", "csm")
    _, token = _invite(client, csm)
    task = _task("configuration_signoff")
    page = client.get(f"/p/{token}")
    assert page.headers["Referrer-Policy"] == "no-referrer"
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    url = f"/p/{token}/tasks/{task}/comments"
    assert client.post(url, data={"body": "hello"}).status_code == 403
    answer = client.post(url, data={"body": "hello", "csrf_token": csrf}, follow_redirects=False)
    assert answer.status_code == 303
    assert "hello" in client.get(f"/p/{token}").text


def test_a_link_is_rate_limited(client, admin, public_url, monkeypatch) -> None:
    from journey.portal import access
    from journey.web.auth import RateLimiter

    monkeypatch.setattr(access, "PER_LINK", RateLimiter(limit=3, window=60))
    _sign(client)
    _, token = _invite(client, member_with_token("csm@vendor.example", "csm"))
    codes = [client.get("/api/portal", headers=_bearer(token)).status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
