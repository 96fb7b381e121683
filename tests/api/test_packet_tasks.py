"""Promises and risks become work: at signing, on each packet version, and cancelled when removed."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from journey import db
from journey.audit import Actor
from journey.models import AuditEntry, Journey, PlanTask, TeamMember
from journey.worked import packet_sync
from tests.builders import deal_signed, drain, member_with_token, post_event

pytestmark = [pytest.mark.usefixtures("db_url"), pytest.mark.clock("2026-11-23T09:00:00Z")]
ACCOUNT = "/api/accounts/crm:events:C-77"


def _packet_tasks() -> dict[str, tuple[str, str, str | None, str | None]]:
    with db.transaction() as s:
        rows = s.execute(select(PlanTask, TeamMember.email).outerjoin(TeamMember, TeamMember.id == PlanTask.assignee_id)
                         .where(PlanTask.key.like("pk-%")).order_by(PlanTask.id)).all()
        return {t.title: (str(t.status), t.raci["responsible"], email, t.skip_reason) for t, email in rows}


def test_promises_risks_and_missing_baselines_become_tasks_and_follow_the_packet(client, admin) -> None:
    objectives = [{"title": "Faster onboarding", "kpi": "days", "target": 7}]  # no baseline
    post_event(client, deal_signed(objectives=objectives))
    assert drain() == ["processed"]
    assert _packet_tasks() == {
        "Keep the promise: SSO in Q1": ("todo", "se", "csm@vendor.example", None),  # no SE on the deal: the CSM
        "Mitigate the risk: IT capacity": ("todo", "csm", "csm@vendor.example", None),
        "Measure the baseline: Faster onboarding": ("todo", "csm", "csm@vendor.example", None)}
    plan = client.get(f"{ACCOUNT}/plan", headers=admin).json()
    sso = next(t for m in plan["milestones"] for t in m["tasks"] if t["title"] == "Keep the promise: SSO in Q1")
    assert sso["due_on"] == "2027-03-31"

    ae = member_with_token("ae@vendor.example", "ae")
    edited = client.patch(f"{ACCOUNT}/handoff", headers=ae,
                          json={"promises": ["10% discount on year two"], "risks": ["IT capacity"]})
    assert edited.status_code == 200, edited.text
    tasks = _packet_tasks()
    assert tasks["Keep the promise: SSO in Q1"] == ("skipped", "se", "csm@vendor.example", packet_sync.CANCELLED)
    assert tasks["Keep the promise: 10% discount on year two"] == ("todo", "ae", "ae@vendor.example", None)
    assert tasks["Mitigate the risk: IT capacity"][0] == "todo"

    with db.transaction() as s:  # idempotent: the same version again changes nothing
        journey_id = s.scalar(select(Journey.id))
        again = packet_sync.sync_packet_tasks(s, journey_id=journey_id, actor=Actor.flow("test"), now=None)  # type: ignore[arg-type]
    assert again == {"created": 0, "cancelled": 0, "revived": 0}
    assert _packet_tasks() == tasks
    with db.transaction() as s:
        actions = list(s.scalars(select(AuditEntry.action).where(AuditEntry.action.like("task.%"))))
    assert actions.count("task.created_from_packet") == 4 and actions.count("task.cancelled") == 1

    client.patch(f"{ACCOUNT}/handoff", headers=ae, json={"promises": ["10% discount on year two", "SSO in Q1"]})
    assert _packet_tasks()["Keep the promise: SSO in Q1"][0] == "todo"  # back with its promise
