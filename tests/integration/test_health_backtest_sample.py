"""The bundled back-test sample (examples/backtest): the shipped scorecards rank churners below renewals at
least as well as version 1 did, and the report prints both side by side."""
from __future__ import annotations

import re

import pytest
from typer.testing import CliRunner

from journey.cli import app
from journey.config import PROJECT_ROOT

pytestmark = pytest.mark.usefixtures("db_url")
SAMPLE = PROJECT_ROOT / "examples" / "backtest"


def test_the_shipped_cards_separate_churners_at_least_as_well_as_version_1() -> None:
    runner = CliRunner()
    for kind, name in (("deals", "deals.csv"), ("signals", "signals.csv")):
        loaded = runner.invoke(app, ["import", kind, str(SAMPLE / name)])
        assert loaded.exit_code == 0, loaded.output
    result = runner.invoke(app, ["health", "backtest", str(SAMPLE / "outcomes.csv"), "--against",
                                 str(SAMPLE / "scorecards-v1")])
    assert result.exit_code == 0, result.output
    old_report, new_report = result.output.split("\n\nside by side:\n")[0].split("\n\n")
    assert old_report.startswith("default_adopted v1, default_onboarding v1, enterprise_adopted v1: 30 of 30")
    assert new_report.startswith("default_adopted v2, default_onboarding v2, enterprise_adopted v2: 30 of 30")
    old_auc, new_auc = (float(re.search(r"AUC \(churners ranked below the others\): ([0-9.]+)", r).group(1))
                        for r in (old_report, new_report))
    assert new_auc >= old_auc > 0.75
    table = result.output.split("side by side:\n")[1].splitlines()
    assert table[0].split() == ["scorecards-v1", "shipped"]
    assert table[1].split() == ["AUC", f"{old_auc:.3f}", f"{new_auc:.3f}"]
    # the sample's sparse accounts (seats, users and sentiment only) are unknown now, no longer red or green
    assert re.match(r"unknown \(too little data\)\s+0 of 30\s+([1-9][0-9]*) of 30$", table[3])
