"""Scorecard and reminder-rule files: errors with file and line; back-test metrics by hand."""
from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from journey.config import PROJECT_ROOT
from journey.health.backtest import Outcome, Scored, auc, parse_outcomes, report
from journey.health.checks import check_health_config
from journey.health.scorecards import ScorecardError, load_scorecard, load_scorecards, scorecard_for

GOOD = """name: t
version: 2
stage: adopted
bands:
  - {name: red, below: 50}
  - {name: green}
groups:
  - name: g
    weight: 1
    factors:
      - name: f
        metric: nps
        weight: 1
        curve: [[0, 0], [10, 100]]
"""


@pytest.mark.parametrize(("broken", "line", "fragment"), [
    (GOOD.replace("weight: 1\n        curve", "weight: 0\n        curve"), 13, "greater than 0"),
    (GOOD.replace("curve: [[0, 0], [10, 100]]", "curve: [[0, 0], [10, 120]]"), 10, "between 0 and 100"),
    (GOOD.replace("curve: [[0, 0], [10, 100]]", "thresholds: [{below: 3, points: 10}]"), 10,
     "only the last threshold may (and must) omit 'below'"),
    (GOOD.replace("metric: nps", "metric: NPS Score"), 12, "not a metric name"),
    (GOOD.replace("stage: adopted", "stage: later"), 3, "stage"),
    (GOOD.replace("  - {name: green}", "  - {name: green, below: 40}"), 4, "only the last band"),
    (GOOD.replace("groups:", "groups: [\n"), 9, "invalid YAML"),
    (GOOD.replace("stage: adopted", "stage: adopted\nmin_weight_with_data: 1.5"), 4, "less than or equal to 1"),
    (GOOD.replace("  - {name: red, below: 50}", "  - {name: unknown, below: 50}"), 4, "'unknown' is the band"),
    (GOOD.replace("        weight: 1\n        curve", "        weight: 1\n        lateness: {grace_business_days: 2}"
                  "\n        curve"), 10, "lateness applies to the plan metrics"),
    (GOOD.replace("metric: nps", "metric: plan_on_time\n        lateness: {full_penalty_business_days: 0}"), 13,
     "greater than or equal to 1"),
])
def test_scorecard_errors_name_file_and_line(tmp_path, broken, line, fragment) -> None:
    path = tmp_path / "card.yaml"
    path.write_text(broken)
    with pytest.raises(ScorecardError) as err:
        load_scorecard(path)
    assert f"{path} line {line}: " in str(err.value)
    assert fragment in str(err.value)


def test_the_packaged_scorecards_and_rules_are_valid() -> None:
    assert check_health_config(PROJECT_ROOT / "templates") == []
    cards = load_scorecards(PROJECT_ROOT / "templates" / "scorecards")
    assert scorecard_for(cards, segment="Enterprise", stage="adopted").name == "enterprise_adopted"
    assert scorecard_for(cards, segment="enterprise", stage="onboarding").name == "default_onboarding"
    assert scorecard_for(cards, segment=None, stage="adopted").name == "default_adopted"


def test_two_cards_for_one_segment_and_stage_are_refused(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(GOOD)
    (tmp_path / "b.yaml").write_text(GOOD.replace("name: t", "name: u"))
    with pytest.raises(ScorecardError, match="already scored by 't v2'"):
        load_scorecards(tmp_path)


@pytest.mark.parametrize(("churners", "retained", "expected"), [
    ([10, 20], [30, 40], 1.0), ([30, 40], [10, 20], 0.0), ([10, 30], [20, 40], 0.75), ([20], [20], 0.5),
    ([], [1], None),
])
def test_auc_by_hand(churners, retained, expected) -> None:
    assert auc(churners, retained) == expected


@settings(max_examples=300, deadline=None)
@given(st.lists(st.integers(0, 20), min_size=1, max_size=30), st.lists(st.integers(0, 20), min_size=1, max_size=30))
def test_auc_from_ranks_equals_counting_every_pair(churners, retained) -> None:
    """Small integer scores so that ties are frequent: each tie must count half, as in the pairwise count."""
    pairs = sum(1.0 if c < r else 0.5 if c == r else 0.0 for c in churners for r in retained)
    assert auc(churners, retained) == pytest.approx(pairs / (len(churners) * len(retained)))


def test_report_by_hand() -> None:
    def s(outcome, score, band, band_before):  # type: ignore[no-untyped-def]
        return Scored(Outcome(2, "a", date(2027, 1, 1), outcome), score, band, None, band_before)

    r = report("t v1", [s("churned", 30, "red", "green"), s("churned", 60, "yellow", "yellow"),
                        s("renewed", 40, "red", "green"), s("expanded", 90, "green", None),
                        s("renewed", None, None, None)])
    assert (r.outcomes, r.scored, r.churned, r.red) == (5, 4, 2, 2)
    assert r.auc == 0.75  # churners 30, 60 vs retained 40, 90: 30<40, 30<90, 60<90 win; 60>40 loses: 3 of 4
    assert (r.red_precision, r.red_recall) == (0.5, 0.5)
    assert (r.churners_green_before, r.churners_scored_before) == (1, 2)


def test_outcomes_csv_reports_bad_lines_and_keeps_the_good() -> None:
    rows, problems = parse_outcomes("account,date,outcome\ncrm:events:A,2027-01-31,Churned\nB,31/01/2027,renewed\n"
                                    "C,2027-02-01,paused\n")
    assert [(r.account, r.on, r.outcome) for r in rows] == [("crm:events:A", date(2027, 1, 31), "churned")]
    assert problems == ["line 3: date '31/01/2027' is not YYYY-MM-DD",
                        "line 4: outcome 'paused' is not renewed, churned or expanded"]
