"""Playbooks (loading, validation, errors with lines) and onboarding plans (dates, slips, status)."""

from datetime import date
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from journey.calendar import calendar_for
from journey.onboarding.domain import (
    MilestoneState,
    Playbook,
    PlaybookError,
    ScheduledTask,
    TaskMove,
    TaskState,
    build_plan,
    load_playbook,
    load_playbooks,
    milestone_status,
    plan_status,
    playbook_for_segment,
    reschedule_for_go_live,
)

D = date.fromisoformat
PLAYBOOKS_DIR = Path(__file__).resolve().parents[2] / "templates" / "playbooks"
BUNDLED = load_playbooks(PLAYBOOKS_DIR)
MILESTONE_KEYS = ["kickoff", "discovery", "integration", "configuration", "training", "go_live",
                  "value_review"]


def _task(key, anchor="kickoff", offset=1, depends_on=(), **extra):
    raci = {"responsible": "csm", "accountable": "csm"}
    return {"key": key, "title": key.title(), "raci": raci, "anchor": anchor,
            "offset_business_days": offset, "depends_on": list(depends_on), **extra}


def _playbook(*milestones, **fields):
    """A small valid playbook; milestones are (key, [tasks]) pairs after the default kickoff."""
    kickoff = ("kickoff", [_task("meeting", "signature", 3)])
    specs = [kickoff, *milestones]
    milestones_data = [{"key": key, "name": key.title(), "tasks": tasks} for key, tasks in specs]
    data = {"name": "test", "version": 1, "go_live_default_business_days": 20,
            "milestones": milestones_data, **fields}
    return Playbook.model_validate(data)


def _due(plan):
    return {task.key: task.due_on for m in plan.milestones for task in m.tasks}


# -------------------------------------------------------------------------------------- bundled files
def test_bundled_playbooks_load_and_validate():
    assert set(BUNDLED) == {"default", "enterprise", "mid_market", "smb"}
    for playbook in BUNDLED.values():
        assert [m.key for m in playbook.milestones] == MILESTONE_KEYS
        assert playbook.value_milestone_key == "value_review"
        assert all(2 <= len(m.tasks) <= 4 for m in playbook.milestones)
        assert [r["kind"] for r in playbook.reviews] == ["90_day", "3_month", "6_month"]
        assert {"deal_terms", "why_bought", "objectives"} <= set(playbook.packet["required"])
        assert any(t.needs_packet_ack for t in playbook.milestones[0].tasks)


def test_bundled_playbooks_scale_with_the_segment():
    days = {name: BUNDLED[name].go_live_default_business_days for name in ("smb", "mid_market", "enterprise")}
    assert days["smb"] < days["mid_market"] < days["enterprise"]
    assert len(BUNDLED["enterprise"].tasks()) > len(BUNDLED["smb"].tasks())
    assert {"se_notes", "alternatives"} <= set(BUNDLED["enterprise"].packet["required"])
    assert len(BUNDLED["smb"].packet["required"]) < len(BUNDLED["mid_market"].packet["required"])


@pytest.mark.parametrize(
    ("segment", "expected"),
    [("mid_market", "mid_market"), ("Mid-Market", "mid_market"), ("SMB", "smb"), ("strategic", "enterprise"),
     ("public_sector", "default"), (None, "default"), ("", "default")],
)
def test_playbook_for_segment(segment, expected):
    assert playbook_for_segment(BUNDLED, segment).name == expected


def test_playbook_for_segment_without_default():
    with pytest.raises(PlaybookError, match="no playbook for segment 'x'"):
        playbook_for_segment({"smb": BUNDLED["smb"]}, "x")


# --------------------------------------------------------------------------------------- broken files
VALID_YAML = """\
name: broken
version: 1
go_live_default_business_days: 20
milestones:
  - key: kickoff
    name: Kickoff
    tasks:
      - key: prep
        title: Prepare the kickoff
        raci: {responsible: csm, accountable: csm}
        anchor: signature
        offset_business_days: 2
      - key: meeting
        title: Hold the kickoff
        raci: {responsible: csm, accountable: csm}
        anchor: signature
        offset_business_days: 4
        depends_on: [prep]
"""


@pytest.mark.parametrize(
    ("old", "new", "line_of", "message"),
    [
        ("depends_on: [prep]", "depends_on:\n          - prep\n          - nope", "- nope",
         "task 'meeting' depends on unknown task 'nope'"),
        ("{responsible: csm, accountable: csm}\n        anchor: signature\n        offset_business_days: 4",
         "{responsible: csm, accountable: cto}\n        anchor: signature\n        offset_business_days: 4",
         "accountable: cto", "accountable: Input should be"),
        ("key: meeting", "key: prep", "key: prep\n        title: Hold", "duplicate task key 'prep'"),
        ("offset_business_days: 2", "offset_business_days: 2\n        depends_on: [meeting]", "key: prep",
         "dependency cycle among tasks 'prep', 'meeting'"),
        ("key: kickoff", "key: start", "milestones:", "no milestone with key 'kickoff'"),
        ("offset_business_days: 4", "offset_business_days: 14", "offset_business_days: 14",
         "'meeting' sets the kickoff, so its offset must be 0 to 10"),
        ("anchor: signature\n        offset_business_days: 2",
         "anchor: launch\n        offset_business_days: 2", "anchor: launch", "anchor: Input should be"),
        ("offset_business_days: 2", "offset_busines_days: 2", "offset_busines_days",
         "offset_busines_days: Extra inputs are not permitted"),
        ("title: Hold the kickoff", "title: [Hold the kickoff", "raci: {responsible: csm, accountable: csm}\n"
         "        anchor: signature\n        offset_business_days: 4", "invalid YAML"),
    ],
)
def test_broken_playbook_names_file_and_line(tmp_path, old, new, line_of, message):
    text = VALID_YAML.replace(old, new, 1)
    assert text != VALID_YAML
    path = tmp_path / "broken.yaml"
    path.write_text(text)
    expected_line = text[: text.index(line_of)].count("\n") + 1
    with pytest.raises(PlaybookError) as caught:
        load_playbook(path)
    error = caught.value
    assert error.path == str(path)
    assert str(error).startswith(f"{path} line {error.line}: ")
    assert any(line == expected_line and message in text for line, text in error.problems), error.problems
    assert f"{path} line {expected_line}: " in str(error)


def test_valid_yaml_fixture_loads(tmp_path):
    path = tmp_path / "ok.yaml"
    path.write_text(VALID_YAML)
    assert load_playbook(path).tasks()[1].depends_on == ["prep"]


@pytest.mark.parametrize(("text", "message"), [("- a list\n", "a YAML mapping"), ("", "a YAML mapping")])
def test_playbook_must_be_a_mapping(tmp_path, text, message):
    path = tmp_path / "odd.yaml"
    path.write_text(text)
    with pytest.raises(PlaybookError, match=message):
        load_playbook(path)


def test_duplicate_segment_across_files(tmp_path):
    for name in ("a", "b"):
        text = VALID_YAML.replace("name: broken", f"name: {name}\nsegments: [smb]")
        (tmp_path / f"{name}.yaml").write_text(text)
    with pytest.raises(PlaybookError, match=r"b\.yaml: segment 'smb' is already in playbook 'a'"):
        load_playbooks(tmp_path)


# ------------------------------------------------------------------------------------------- planning
def test_mid_market_kickoff_skips_bastille_day_in_france_only():
    signed = D("2026-07-10")  # a Friday; Tuesday 14 July is a holiday in France, not in the US
    fr = build_plan(BUNDLED["mid_market"], signed_on=signed, expected_go_live=None,
                    calendar=calendar_for("FR", "Europe/Paris"))
    us = build_plan(BUNDLED["mid_market"], signed_on=signed, expected_go_live=None,
                    calendar=calendar_for("US", "America/New_York"))
    assert _due(fr)["internal_handoff"] == D("2026-07-15")
    assert _due(us)["internal_handoff"] == D("2026-07-14")
    assert (fr.kickoff_on, us.kickoff_on) == (D("2026-07-22"), D("2026-07-21"))
    assert D("2026-07-14") not in _due(fr).values()
    assert fr.kickoff_on == _due(fr)["kickoff_meeting"]


def test_expected_go_live_anchors_go_live_tasks():
    plan = build_plan(BUNDLED["mid_market"], signed_on=D("2026-11-20"), expected_go_live=D("2027-01-15"),
                      calendar=calendar_for("FR", "Europe/Paris"))
    due = _due(plan)
    assert plan.go_live_on == D("2027-01-15")
    assert due["launch"] == D("2027-01-15")
    assert due["go_no_go"] == D("2027-01-14")
    assert [m.position for m in plan.milestones] == list(range(1, 8))
    launch = plan.milestones[5].tasks[1]
    assert (launch.position, launch.depends_on) == (2, ("go_no_go",))
    assert launch.raci == {"responsible": "champion", "accountable": "csm", "consulted": ["se"],
                           "informed": ["executive_sponsor", "am", "manager"]}


@pytest.mark.parametrize(
    ("signed", "expected_go_live"),
    [("2026-07-10", "2026-08-24"),  # 30 business days in FR: 14 July skipped, 15 August is a Saturday
     ("2026-12-18", "2027-02-02")],  # Christmas and New Year's Day are skipped
)
def test_default_go_live_counts_business_days(signed, expected_go_live):
    plan = build_plan(BUNDLED["default"], signed_on=D(signed), expected_go_live=None,
                      calendar=calendar_for("FR", None))
    assert plan.go_live_on == D(expected_go_live)


def test_go_live_before_kickoff_is_kept_and_shows_late_tasks():
    plan = build_plan(BUNDLED["smb"], signed_on=D("2026-07-01"), expected_go_live=D("2026-06-15"),
                      calendar=calendar_for("US", None))
    assert plan.go_live_on == D("2026-06-15")
    due = _due(plan)
    assert due["readiness_check"] >= due["data_import"] > plan.kickoff_on  # dependencies still hold
    assert due["launch"] > plan.go_live_on  # no exception: the plan simply shows late tasks


@pytest.mark.parametrize(
    ("tasks", "expected"),
    [
        # b's own date (kickoff+2) is before a (kickoff+6): pushed to a's date
        ([_task("a", offset=6), _task("b", offset=2, depends_on=["a"])],
         {"a": "2026-07-14", "b": "2026-07-14"}),
        ([_task("a", offset=2), _task("b", offset=6, depends_on=["a"])],
         {"a": "2026-07-08", "b": "2026-07-14"}),
        # a dependency declared later in the file is scheduled first
        ([_task("b", offset=0, depends_on=["a"]), _task("a", "go_live", -1)],
         {"a": "2026-07-30", "b": "2026-07-30"}),
    ],
)
def test_task_is_never_due_before_its_dependencies(tasks, expected):
    playbook = _playbook(("work", tasks))
    plan = build_plan(playbook, signed_on=D("2026-07-01"), expected_go_live=D("2026-07-31"),
                      calendar=calendar_for(None, None))
    assert plan.kickoff_on == D("2026-07-06")
    assert {k: v for k, v in _due(plan).items() if k != "meeting"} == {k: D(v) for k, v in expected.items()}
    assert plan.milestones[1].due_on == max(D(v) for v in expected.values())


# ------------------------------------------------------------------------------------- go-live slips
def _scheduled(key, anchor, offset, due, status="todo", depends_on=()):
    return ScheduledTask(key=key, anchor=anchor, offset_business_days=offset, due_on=D(due), status=status,
                         depends_on=tuple(depends_on))


SLIP_TASKS = [
    _scheduled("recap", "kickoff", 1, "2026-07-07", "done"),
    _scheduled("uat", "go_live", -3, "2026-07-28", "in_progress"),
    _scheduled("go_no_go", "go_live", -1, "2026-07-30", "done"),
    _scheduled("launch", "go_live", 0, "2026-07-31", depends_on=["uat", "go_no_go"]),
    _scheduled("training_pack", "kickoff", 15, "2026-07-29", depends_on=["uat"]),
    _scheduled("hypercare", "go_live", 10, "2026-08-14", "skipped"),
]


@pytest.mark.parametrize(
    ("new_go_live", "expected"),
    [
        ("2026-08-14", [("uat", "2026-07-28", "2026-08-11"), ("launch", "2026-07-31", "2026-08-14"),
                        ("training_pack", "2026-07-29", "2026-08-11")]),
        ("2026-07-24", [("uat", "2026-07-28", "2026-07-21"), ("launch", "2026-07-31", "2026-07-30")]),
        ("2026-07-31", []),
    ],
)
def test_reschedule_for_go_live(new_go_live, expected):
    moves = reschedule_for_go_live(SLIP_TASKS, new_go_live=D(new_go_live), calendar=calendar_for(None, None))
    assert moves == [TaskMove(key, D(old), D(new)) for key, old, new in expected]


# --------------------------------------------------------------------------------------------- status
@pytest.mark.parametrize(
    ("statuses", "expected"),
    [(["todo", "todo"], "todo"), (["todo", "in_progress"], "in_progress"), (["todo", "done"], "in_progress"),
     (["done", "skipped"], "done"), (["skipped"], "done"), ([], "done")],
)
def test_milestone_status(statuses, expected):
    assert milestone_status([TaskState("m", s, D("2026-07-01")) for s in statuses]) == expected


@pytest.mark.parametrize(
    ("tasks", "expected"),
    [
        ([("a", "todo", "2026-07-10"), ("b", "todo", "2026-07-20")], "on_time"),  # due today is not late
        ([("a", "done", "2026-07-01"), ("b", "todo", "2026-07-20")], "on_time"),
        ([("a", "todo", "2026-07-09"), ("b", "todo", "2026-07-20")], "at_risk"),  # open task overdue
        ([("a", "done", "2026-07-01"), ("b", "in_progress", "2026-07-09")], "at_risk"),
        ([("a", "skipped", "2026-07-01"), ("b", "done", "2026-07-09")], "on_time"),
        ([("late", "in_progress", "2026-07-09"), ("b", "todo", "2026-07-20")], "late"),  # milestone overdue
        ([("late", "done", "2026-07-08"), ("late", "skipped", "2026-07-09")], "on_time"),
        ([("late", "done", "2026-07-08"), ("late", "todo", "2027-03-31")], "on_time"),  # a later task moves it
        ([("late", "todo", "2026-07-09"), ("late", "todo", "2027-03-31")], "late"),  # but not past its late task
    ],
)
def test_plan_status(tasks, expected):
    milestones = [MilestoneState("late", D("2026-07-09")), MilestoneState("a", D("2026-07-15")),
                  MilestoneState("b", D("2026-07-20"))]
    task_states = [TaskState(m, s, D(due)) for m, s, due in tasks]
    assert plan_status(milestones, task_states, today=D("2026-07-10")) == expected


# ----------------------------------------------------------------------------------------- properties
SIGNED = st.dates(min_value=date(2025, 1, 1), max_value=date(2030, 12, 31))
REGIONS = st.sampled_from(["FR", "US", "DE"])
PLAYBOOK_NAMES = st.sampled_from(sorted(BUNDLED))
GO_LIVE_SHIFT = st.one_of(st.none(), st.integers(min_value=-30, max_value=200))


def _plan(name, region, signed, shift):
    calendar = calendar_for(region, None)
    go_live = None if shift is None else date.fromordinal(signed.toordinal() + shift)
    return build_plan(BUNDLED[name], signed_on=signed, expected_go_live=go_live, calendar=calendar), calendar


@given(name=PLAYBOOK_NAMES, region=REGIONS, signed=SIGNED, shift=GO_LIVE_SHIFT)
def test_plan_dates_are_business_days_after_their_dependencies(name, region, signed, shift):
    plan, calendar = _plan(name, region, signed, shift)
    due = _due(plan)
    for milestone in plan.milestones:
        assert milestone.due_on == max(task.due_on for task in milestone.tasks)
        for task in milestone.tasks:
            assert task.due_on.weekday() < 5 and calendar.is_business_day(task.due_on)
            assert all(task.due_on >= due[dep] for dep in task.depends_on)
    limit = BUNDLED[name].kickoff_within_business_days
    assert signed < plan.kickoff_on <= calendar.add_business_days(signed, limit)


STATUSES = st.lists(st.sampled_from(["todo", "in_progress", "done", "skipped"]), min_size=60, max_size=60)


@given(name=PLAYBOOK_NAMES, region=REGIONS, signed=SIGNED, slip=st.integers(min_value=-40, max_value=60),
       statuses=STATUSES)
def test_a_slip_never_moves_closed_tasks_and_keeps_dependencies(name, region, signed, slip, statuses):
    plan, calendar = _plan(name, region, signed, None)
    tasks = [ScheduledTask(t.key, t.anchor, t.offset_business_days, t.due_on, status, t.depends_on)
             for t, status in zip((t for m in plan.milestones for t in m.tasks), statuses, strict=False)]
    new_go_live = date.fromordinal(plan.go_live_on.toordinal() + slip)
    slip_moves = reschedule_for_go_live(tasks, new_go_live=new_go_live, calendar=calendar)
    moves = {m.key: m.new_due_on for m in slip_moves}
    due = {t.key: moves.get(t.key, t.due_on) for t in tasks}
    for task in tasks:
        if task.status in ("done", "skipped"):
            assert task.key not in moves
        elif task.key in moves:
            assert calendar.is_business_day(moves[task.key])
            assert all(due[task.key] >= due[dep] for dep in task.depends_on)
