"""Tasks are worked: assigned, re-dated with a reason (a slip), skipped with a reason, commented on with
@mentions that notify, linked to a document; and the account's activity feed tells who did what."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from journey import db
from journey.models import Journey, OutboxMessage, PlanTask, Reminder, TaskSlip, TeamMember
from tests.builders import deal_signed, drain, member_with_password, member_with_token, post_event, sign_in

pytestmark = [pytest.mark.usefixtures("db_url"), pytest.mark.clock("2026-11-23T09:00:00Z")]
ACCOUNT = "/api/accounts/crm:events:C-77"


def _signed(client) -> dict:  # type: ignore[no-untyped-def]
    post_event(client, deal_signed())
    assert drain() == ["processed"]
    with db.transaction() as s:
        task = s.scalars(select(PlanTask).where(PlanTask.needs_packet_ack.is_(False)).order_by(PlanTask.id)).first()
        return {"id": task.id, "key": task.key, "due_on": str(task.due_on)}


def test_the_csm_assigns_re_dates_skips_and_links_a_task_and_the_activity_says_so(client, admin) -> None:
    task = _signed(client)
    csm = member_with_token("csm@vendor.example", "csm")
    url = f"/api/tasks/{task['id']}"

    assigned = client.patch(url, headers=csm, json={"assignee": "am@vendor.example"})
    assert assigned.status_code == 200, assigned.text
    with db.transaction() as s:
        am_id = s.scalar(select(PlanTask.assignee_id).where(PlanTask.id == task["id"]))
    assert assigned.json()["assignee_id"] == am_id is not None

    assert client.patch(url, headers=csm, json={"due_on": "2027-01-20"}).status_code == 422  # no reason
    moved = client.patch(url, headers=csm, json={"due_on": "2027-01-20", "reason": "their IT lead is away"})
    assert moved.status_code == 200, moved.text
    assert moved.json()["due_on"] == "2027-01-20"
    with db.transaction() as s:
        slip = s.scalars(select(TaskSlip).where(TaskSlip.task_id == task["id"])).one()
        assert (str(slip.old_due_on), str(slip.new_due_on), slip.reason, slip.actor) == (
            task["due_on"], "2027-01-20", "their IT lead is away", "csm@vendor.example")

    linked = client.patch(url, headers=csm, json={"document_url": "https://docs.example/sso-plan"})
    assert linked.json()["document_url"] == "https://docs.example/sso-plan"
    assert client.patch(url, headers=csm, json={"document_url": "javascript:alert(1)"}).status_code == 422

    assert client.patch(url, headers=csm, json={"action": "skip"}).status_code == 422  # no reason
    skipped = client.patch(url, headers=csm, json={"action": "skip", "reason": "done by their IT already"})
    assert (skipped.json()["status"], skipped.json()["skip_reason"]) == ("skipped", "done by their IT already")

    feed = client.get(f"{ACCOUNT}/activity", headers=csm).json()["items"]
    actions = [(e["action"], e["actor"]) for e in feed if e["subject"] == f"task {task['key']}"]
    assert actions == [("task.updated", "csm@vendor.example"), ("task.document_linked", "csm@vendor.example"),
                       ("task.due_moved", "csm@vendor.example"), ("task.updated", "csm@vendor.example")]
    assert feed[0]["details"]["reason"] == "done by their IT already"

    with db.transaction() as s:
        title, account_id = s.execute(select(PlanTask.title, Journey.account_id).join(Journey)
                                      .where(PlanTask.id == task["id"])).one()
    member_with_password("lead@vendor.example", "manager")
    sign_in(client, "lead@vendor.example")
    page = client.get(f"/accounts/{account_id}").text
    activity = page.split('id="activity"', 1)[1].split("</section>", 1)[0]
    assert f"· {title}<" in activity and f"task {task['key']}" not in activity  # the task's title, not its key


def test_a_comment_mentioning_a_member_notifies_them_once(client, admin) -> None:
    task = _signed(client)
    csm = member_with_token("csm@vendor.example", "csm")
    url = f"/api/tasks/{task['id']}/comments"

    posted = client.post(url, headers=csm, json={"body": "@am please confirm the SSO scope, cc @nobody"})
    assert posted.status_code == 201, posted.text
    assert posted.json()["mentions"] == ["am@vendor.example"]
    assert client.post(url, headers=csm, json={"body": "   "}).status_code == 422
    [comment] = client.get(url, headers=csm).json()
    assert (comment["author"], comment["author_kind"], comment["body"]) == (
        "csm@vendor.example", "member", "@am please confirm the SSO scope, cc @nobody")
    with db.transaction() as s:
        [reminder] = s.scalars(select(Reminder).where(Reminder.kind == "task_mention")).all()
        [message] = s.scalars(select(OutboxMessage).where(OutboxMessage.reminder_id == reminder.id)).all()
        assert message.recipient == "am@vendor.example"
        assert "csm@vendor.example mentioned you" in message.body_text


@pytest.mark.parametrize(("who", "body", "status"), [
    ("ae", {"assignee": "csm@vendor.example"}, 403),  # sellers work tasks but do not assign them
    ("ae", {"due_on": "2027-02-01", "reason": "x"}, 403),
    ("ae", {"action": "start"}, 200),
    ("stranger", {"action": "start"}, 404),
])
def test_who_may_assign_and_re_date(client, admin, who, body, status) -> None:
    task = _signed(client)
    headers = (member_with_token("ae@vendor.example", "ae") if who == "ae"
               else member_with_token("other.csm@vendor.example", "csm"))
    assert client.patch(f"/api/tasks/{task['id']}", headers=headers, json=body).status_code == status


def test_comments_are_for_those_who_see_the_account(client, admin) -> None:
    task = _signed(client)
    stranger = member_with_token("other.csm@vendor.example", "csm")
    assert client.post(f"/api/tasks/{task['id']}/comments", headers=stranger, json={"body": "hi"}).status_code == 404
    assert client.get(f"/api/tasks/{task['id']}/comments", headers=stranger).status_code == 404
    assert client.get(f"{ACCOUNT}/activity", headers=stranger).status_code == 404


def test_a_new_plan_assigns_each_task_by_its_raci_and_the_account_s_pair(client, admin) -> None:
    _signed(client)
    with db.transaction() as s:
        rows = s.execute(select(PlanTask.raci, TeamMember.email).outerjoin(
            TeamMember, TeamMember.id == PlanTask.assignee_id).where(~PlanTask.key.like("pk-%"))).all()
    by_role = {(raci["responsible"], email) for raci, email in rows}
    assert ("csm", "csm@vendor.example") in by_role and ("ae", "ae@vendor.example") in by_role
    assert all(email is None for role, email in by_role if role in ("champion", "technical_lead"))
    assert ("se", None) in by_role  # the deal has no SE: nobody yet
