"""Promises, risks and missing baselines of a packet as plan tasks: owners, dates, keys."""
from __future__ import annotations

from datetime import date

import pytest

from journey.calendar import calendar_for
from journey.onboarding.playbook import FromPacket
from journey.worked import from_packet
from journey.worked.from_packet import Anchors

ANCHORS = Anchors(signed_on=date(2026, 11, 20), kickoff_on=date(2026, 12, 1), go_live_on=date(2027, 1, 15))
RULES = FromPacket()


@pytest.mark.parametrize(("promise", "scope", "owner"), [
    ("SSO in Q1", None, "se"),
    ("Okta provisioning", "Okta, CRM sync", "se"),  # named in the technical scope
    ("10% discount on the second year", None, "ae"),
    ("A French-speaking trainer", "SSO, CRM sync", "csm"),
])
def test_a_promise_goes_to_the_se_the_ae_or_the_csm(promise, scope, owner) -> None:
    assert from_packet.owner_of_promise(promise, RULES, scope) == owner


@pytest.mark.parametrize(("text", "due"), [
    ("SSO in Q1", date(2027, 3, 31)),  # the first Q1 ending after signature
    ("Reporting in Q4", date(2026, 12, 31)),
    ("Data import by 2027-02-15", date(2027, 2, 15)),
    ("SSO in Q2 2028", date(2028, 6, 30)),
    ("A French-speaking trainer", None),
])
def test_a_promise_s_own_date_is_its_due_date(text, due) -> None:
    assert from_packet.promised_date(text, after=ANCHORS.signed_on) == due


def test_the_packet_s_items_become_tasks_once_with_stable_keys() -> None:
    content = {"promises": ["SSO in Q1", "A French-speaking trainer", "sso  in q1"], "risks": ["IT capacity"],
               "objectives": [{"title": "Faster onboarding", "baseline": None}, {"title": "NPS", "baseline": 20}],
               "technical_scope": "SSO"}
    calendar = calendar_for("FR", "Europe/Paris")
    tasks = from_packet.packet_tasks(content, RULES, ANCHORS, calendar)
    assert [(t.kind, t.responsible) for t in tasks] == [("promise", "se"), ("promise", "csm"), ("risk", "csm"),
                                                         ("baseline", "csm")]
    assert tasks[0].title == "Keep the promise: SSO in Q1" and tasks[0].due_on == date(2027, 3, 31)
    assert tasks[1].due_on == calendar.add_business_days(ANCHORS.kickoff_on, 20)  # the playbook's default
    assert tasks[3].title == "Measure the baseline: Faster onboarding"
    assert [t.key for t in from_packet.packet_tasks(content, RULES, ANCHORS, calendar)] == [t.key for t in tasks]
    assert all(len(t.key) <= 64 for t in tasks)


def test_a_task_goes_in_the_first_milestone_due_after_it() -> None:
    task = from_packet.PacketTask("k", "risk", "t", "csm", date(2027, 1, 10), None)
    milestones = [("kickoff", date(2026, 12, 1)), ("integration", date(2027, 1, 20)), ("go_live", date(2027, 2, 1))]
    assert from_packet.milestone_for(task, milestones) == "integration"
    late = from_packet.PacketTask("k", "risk", "t", "csm", date(2027, 6, 1), None)
    assert from_packet.milestone_for(late, milestones) == "go_live"


def test_a_playbook_s_from_packet_templates_replace_the_defaults(tmp_path) -> None:
    from pathlib import Path

    import yaml

    from journey.onboarding.playbook import PlaybookError, load_playbook

    source = Path(__file__).resolve().parents[2] / "templates" / "playbooks" / "default.yaml"
    data = yaml.safe_load(source.read_text())
    data["from_packet"] = {"risk": {"title": "Plan B for: {text}", "anchor": "signature", "offset_business_days": 2},
                           "commercial_words": ["rebate"]}
    path = tmp_path / "custom.yaml"
    path.write_text(yaml.safe_dump(data))
    rules = load_playbook(path).from_packet
    [risk, promise] = from_packet.packet_tasks({"risks": ["IT capacity"], "promises": ["A rebate"]}, rules, ANCHORS,
                                               calendar_for("FR", "Europe/Paris"))[::-1]
    assert risk.title == "Plan B for: IT capacity" and risk.due_on == date(2026, 11, 24)
    assert promise.responsible == "ae" and promise.title == "Keep the promise: A rebate"
    data["from_packet"] = {"risk": {"title": "x", "anchor": "someday"}}
    path.write_text(yaml.safe_dump(data))
    with pytest.raises(PlaybookError):
        load_playbook(path)

