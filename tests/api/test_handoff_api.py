"""The handoff story through the API: an incomplete packet blocks acknowledgement and reminds the AE;
completed by the AE, acknowledged by the CSM and the AM, it opens the plan's gated tasks."""
from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from journey import db
from journey.handoff import service as handoff_service
from journey.models import OutboxMessage, Reminder
from tests.builders import deal_signed, drain, member_with_token, post_event

pytestmark = pytest.mark.usefixtures("db_url")

OBJECTIVE = {"title": "Cut agent onboarding time", "kpi": "days to first ticket", "baseline": 21, "target": 7,
             "unit": "days", "due": "2027-06-01", "source": "customer_validated"}
ACC = "/api/accounts/crm:events:C-77"


@pytest.fixture
def people(client):  # type: ignore[no-untyped-def]
    assert post_event(client, deal_signed(objectives=[])).status_code == 202
    assert drain() == ["processed"]
    return {role: member_with_token(f"{role}@vendor.example", role) for role in ("ae", "csm", "am")}


def _remind(day: int, hour: int = 9, minute: int = 0) -> int:
    with db.transaction() as session:
        return handoff_service.remind_incomplete_packets(session, now=datetime(2026, 11, day, hour, minute,
                                                                                 tzinfo=UTC))


def _task(client, headers, key):  # type: ignore[no-untyped-def]
    plan = client.get(f"{ACC}/plan", headers=headers).json()
    return next(t for m in plan["milestones"] for t in m["tasks"] if t["key"] == key)


def test_incomplete_packet_blocks_acknowledgement_and_reminds_the_ae(client, people) -> None:
    packet = client.get(f"{ACC}/handoff", headers=people["csm"]).json()
    assert packet["state"] == "draft" and packet["missing"] == ["objectives"] and packet["completeness"] == 86
    assert packet["missing_reasons"] == {"objectives": "no objective"}
    answer = client.post(f"{ACC}/handoff/acknowledgements", headers=people["csm"], json={"decision": "accept"})
    assert answer.status_code == 409 and answer.json()["code"] == "packet_incomplete"
    assert "objectives" in answer.json()["detail"]

    assert (_remind(23), _remind(23), _remind(24), _remind(25)) == (1, 0, 0, 1)  # Mon, again, Tue, Wed
    with db.transaction(writer=False) as s:
        reminders = s.scalars(select(Reminder).where(Reminder.kind == "packet_incomplete")).all()
        assert len(reminders) == 2
        assert "86% complete" in reminders[0].reason and "objectives (no objective)" in reminders[0].reason
        assert {m.recipient for m in s.scalars(select(OutboxMessage))} == {"ae@vendor.example"}
    assert _remind(28) == 0  # Saturday: never on a weekend


def test_the_ae_is_reminded_only_in_the_accounts_working_hours(client, people) -> None:
    # the account is in Paris (UTC+1 in November): 18:00-08:00 there is the night, whatever UTC says
    assert _remind(23, 17, 0) == 0  # Monday 18:00 in Paris: the day is over
    assert _remind(23, 22, 30) == 0  # 23:30
    assert _remind(24, 6, 59) == 0  # Tuesday 07:59
    assert _remind(24, 7, 0) == 1  # 08:00: the first reminder
    assert _remind(24, 16, 59) == 0  # the same day again: once per two business days (the playbook)
    with db.transaction(writer=False) as s:
        [reminder] = s.scalars(select(Reminder).where(Reminder.kind == "packet_incomplete")).all()
        assert reminder.created_at == datetime(2026, 11, 24, 7, tzinfo=UTC)


def test_completed_packet_acknowledged_by_both_opens_the_gated_tasks(client, people) -> None:
    gated = _task(client, people["csm"], "kickoff_deck")
    assert gated["needs_packet_ack"] and gated["waits_for_packet"]
    refused = client.patch(f"/api/tasks/{gated['id']}", headers=people["csm"], json={"action": "start"})
    assert refused.status_code == 409 and "accepted the handoff packet" in refused.json()["detail"]

    assert client.patch(f"{ACC}/handoff", headers=people["csm"], json={"objectives": [OBJECTIVE]}).status_code == 403
    edited = client.patch(f"{ACC}/handoff", headers=people["ae"], json={"base_version": 1, "objectives": [OBJECTIVE]})
    assert edited.status_code == 200, edited.text
    packet = edited.json()
    assert (packet["version"], packet["completeness"], packet["state"]) == (2, 100, "awaiting_ack")
    assert packet["versions"][-1]["author"] == "ae@vendor.example"
    assert packet["versions"][-1]["changes"] == [
        {"path": "objectives[Cut agent onboarding time]", "old": None, "new": {**OBJECTIVE, "baseline": 21.0,
                                                                                "target": 7.0, "metric": None}}]
    stale = client.patch(f"{ACC}/handoff", headers=people["ae"], json={"base_version": 1, "risks": ["x"]})
    assert stale.status_code == 409
    with db.transaction(writer=False) as s:  # completing the packet closes the AE's reminders
        assert {r.status for r in s.scalars(select(Reminder).where(Reminder.kind == "packet_incomplete"))} <= {"done"}

    ack = client.post(f"{ACC}/handoff/acknowledgements", headers=people["csm"], json={"decision": "accept"})
    assert ack.status_code == 201 and ack.json()["state"] == "awaiting_ack"
    assert _task(client, people["csm"], "kickoff_deck")["waits_for_packet"]
    assert client.post(f"{ACC}/handoff/acknowledgements", headers=people["ae"],
                       json={"decision": "accept"}).status_code == 403
    ack = client.post(f"{ACC}/handoff/acknowledgements", headers=people["am"], json={"decision": "accept"})
    assert ack.json()["state"] == "accepted"
    assert [(a["role"], a["decision"], a["version"]) for a in ack.json()["acknowledgements"]] == [
        ("csm", "accept", 2), ("am", "accept", 2)]

    assert not _task(client, people["csm"], "kickoff_deck")["waits_for_packet"]
    started = client.patch(f"/api/tasks/{gated['id']}", headers=people["csm"], json={"action": "start"})
    assert started.status_code == 200 and started.json()["status"] == "in_progress"
    done = client.patch(f"/api/tasks/{gated['id']}", headers=people["csm"], json={"action": "done"})
    assert done.json()["status"] == "done" and done.json()["done_at"]


def test_returning_the_packet_needs_a_comment_and_reminds_the_ae(client, people) -> None:
    client.patch(f"{ACC}/handoff", headers=people["ae"], json={"objectives": [OBJECTIVE]})
    bare = client.post(f"{ACC}/handoff/acknowledgements", headers=people["am"], json={"decision": "return"})
    assert bare.status_code == 422
    back = client.post(f"{ACC}/handoff/acknowledgements", headers=people["am"],
                       json={"decision": "return", "comment": "Which renewal terms were promised?"})
    assert back.json()["state"] == "returned"
    with db.transaction(writer=False) as s:
        reminder = s.scalars(select(Reminder).where(Reminder.kind == "packet_returned")).one()
        assert "Which renewal terms were promised?" in reminder.reason


def test_task_lifecycle_rules(client, people) -> None:
    task = _task(client, people["csm"], "internal_handoff")
    url = f"/api/tasks/{task['id']}"
    assert client.patch(url, headers=people["csm"], json={"action": "skip"}).status_code == 422
    skipped = client.patch(url, headers=people["csm"], json={"action": "skip", "reason": "done on the call"})
    assert skipped.json()["status"] == "skipped" and skipped.json()["skip_reason"] == "done on the call"
    assert client.patch(url, headers=people["csm"], json={"action": "start"}).status_code == 409
    assert client.patch(url, headers=people["csm"], json={"action": "reopen"}).json()["status"] == "todo"
    moved = client.patch(url, headers=people["csm"], json={"assignee": "am@vendor.example"})
    assert moved.status_code == 200 and moved.json()["assignee_id"] is not None
    assert client.patch(url, headers=people["csm"], json={"assignee": "nobody@x.example"}).status_code == 422
    assert client.patch(url, headers=people["csm"], json={}).status_code == 422
    outsider = member_with_token("other.csm@vendor.example", "csm")
    assert client.patch(url, headers=outsider, json={"action": "start"}).status_code == 404
    assert client.patch("/api/tasks/999999", headers=people["csm"], json={"action": "start"}).status_code == 404


def test_renders_escape_what_the_crm_sent(client) -> None:
    hostile = deal_signed("D-9", "C-9", account={"name": "<script>alert(1)</script> *Acme*"},
                          notes={"why_bought": "# not a heading\n- not a list <b>x</b>"})
    post_event(client, hostile)
    drain()
    admin = member_with_token("root@vendor.example", "admin")
    html = client.get("/api/accounts/crm:events:C-9/handoff.html", headers=admin)
    assert html.status_code == 200 and html.headers["content-type"].startswith("text/html")
    assert "<script>alert" not in html.text and "&lt;script&gt;alert(1)&lt;/script&gt;" in html.text
    md = client.get("/api/accounts/crm:events:C-9/handoff.md", headers=admin)
    assert md.headers["content-type"].startswith("text/markdown")
    assert "<script>" not in md.text and "<b>" not in md.text
    assert "# Handoff packet: &lt;script&gt;alert\\(1\\)&lt;/script&gt; \\*Acme\\*" in md.text
    assert "\\# not a heading  \n\\- not a list" in md.text
    assert client.get("/api/accounts/crm:events:C-9/handoff.md").status_code == 401
