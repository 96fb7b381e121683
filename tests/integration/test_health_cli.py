"""`journey import signals`, `journey health recompute`, `journey health backtest` against a database."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from journey import db
from journey.cli import app
from journey.models import Account, HealthScore, Signal

pytestmark = pytest.mark.usefixtures("db_url")


def accounts(n: int) -> list[int]:
    with db.transaction() as session:
        rows = [Account(crm_source="import", crm_external_id=f"A{i}", name=f"A{i}", timezone="UTC") for i in range(n)]
        session.add_all(rows)
        session.flush()
        return [a.id for a in rows]


def test_import_signals_is_rerunnable_and_reports_bad_lines(tmp_path) -> None:
    ids = accounts(2)
    at = (datetime.now(UTC) - timedelta(days=1)).isoformat()
    csv = tmp_path / "signals.csv"
    csv.write_text("id,account,metric,value,at\n"
                   f"s1,crm:import:A0,active_users,90,{at}\ns2,crm:import:A0,seats,100,{at}\n"
                   f"s3,{ids[1]},nps,40,{at}\ns4,crm:import:nope,nps,40,{at}\ns5,{ids[1]},csat,9,{at}\n")
    runner = CliRunner()
    first = runner.invoke(app, ["import", "signals", str(csv)])
    assert first.exit_code == 0, first.output
    assert "3 signals stored, 0 already known, 2 rejected; 2 accounts rescored" in first.output
    assert "line 6: csat must be between 1 and 5" in first.output and "line 5: unknown account" in first.output
    again = runner.invoke(app, ["import", "signals", str(csv)])
    assert "0 signals stored, 3 already known" in again.output
    with db.transaction(writer=False) as session:
        assert session.scalar(select(func.count()).select_from(Signal)) == 3
        assert session.scalar(select(func.count()).select_from(HealthScore)) == 2


def test_recompute_scores_every_account_in_batches() -> None:
    accounts(5)
    result = CliRunner().invoke(app, ["health", "recompute", "--batch-size", "2"])
    assert result.exit_code == 0, result.output
    assert "5 accounts scored" in result.output


def test_backtest_compares_two_scorecard_versions(tmp_path) -> None:
    ids = accounts(4)
    outcome_day = datetime(2027, 1, 31, tzinfo=UTC)
    # active users of 100 seats, 5 and 100 days before the outcome; the first two churn, the second was
    # thriving three months before it left
    users = {ids[0]: (10, 30), ids[1]: (30, 90), ids[2]: (90, 90), ids[3]: (95, 95)}
    with db.transaction() as session:
        for account_id, by_day in users.items():
            for days, active in zip((5, 100), by_day, strict=True):
                at = outcome_day - timedelta(days=days)
                session.add_all([Signal(external_id=f"{account_id}-{days}-{m}", account_id=account_id, metric=m,
                                        value=v, at=at, source="test", received_at=at)
                                 for m, v in (("active_users", active), ("seats", 100))])
    (tmp_path / "outcomes.csv").write_text("account,date,outcome\n" + "".join(
        f"{a},2027-01-31,{'churned' if n < 2 else 'renewed'}\n" for n, a in enumerate(ids)))
    v1 = db_templates().parent.parent / "examples" / "backtest" / "scorecards-v1" / "default_adopted.yaml"
    v2 = tmp_path / "v2.yaml"  # version 1 with its seat curve turned around, and no evidence rule either
    v2.write_text(v1.read_text().replace("version: 1", "version: 2")
                  .replace("[[0.2, 0], [0.5, 50], [0.8, 90], [0.95, 100]]", "[[0, 100], [1, 0]]"))
    result = CliRunner().invoke(app, ["health", "backtest", str(tmp_path / "outcomes.csv"), "--scorecard",
                                      str(v1), "--scorecard", str(v2)])
    assert result.exit_code == 0, result.output
    reports, table = result.output.strip().split("\n\nside by side:\n")
    v1_report, v2_report = reports.split("\n\n")
    assert table.splitlines()[1].split() == ["AUC", "1.000", "0.000"]
    # v1: seat utilisation 10%, 30% (red) below 90%, 95% (green); 90 days before, 30% red and 90% green
    assert v1_report.strip() == ("default_adopted v1: 4 of 4 outcomes scored, 2 churned\n"
                                 "  AUC (churners ranked below the others): 1.000\n"
                                 "  red band: 2 accounts, precision 100%, catches 100% of churners\n"
                                 "  churners green 90 days before: 1 of 2 scored then")
    # v2 turns the curve around: the churners score 90 and 70, the others are red; 90 days before, the
    # churners score 70 (yellow) and 10 (red)
    assert v2_report.strip() == ("default_adopted v2: 4 of 4 outcomes scored, 2 churned\n"
                                 "  AUC (churners ranked below the others): 0.000\n"
                                 "  red band: 2 accounts, precision 0%, catches 0% of churners\n"
                                 "  churners green 90 days before: 0 of 2 scored then")


def db_templates():  # type: ignore[no-untyped-def]
    from journey.config import PROJECT_ROOT

    return PROJECT_ROOT / "templates" / "scorecards"


def test_override_a_band_by_hand_and_clear_it() -> None:
    from journey.models import HealthOverride, Role, TeamMember

    with db.transaction() as session:
        csm = TeamMember(email="csm@x.example", name="Csm", role=Role.csm)
        other = TeamMember(email="other@x.example", name="Other", role=Role.csm)
        session.add_all([csm, other])
        session.flush()
        acc = Account(crm_source="import", crm_external_id="O1", name="Ovr", timezone="UTC", csm_id=csm.id)
        session.add(acc)
    runner = CliRunner()
    refused = runner.invoke(app, ["health", "override", "crm:import:O1", "--band", "red", "--reason", "x",
                                  "--as", "other@x.example"])
    assert refused.exit_code == 1 and "no account crm:import:O1 in the book of other@x.example" in refused.output
    missing = runner.invoke(app, ["health", "override", "crm:import:O1", "--as", "csm@x.example"])
    assert missing.exit_code == 2 and "give --band and --reason" in missing.output
    bad = runner.invoke(app, ["health", "override", "crm:import:O1", "--band", "purple", "--reason", "x",
                              "--as", "csm@x.example"])
    assert bad.exit_code == 1 and "band must be one of green, red, yellow" in bad.output
    today = datetime.now(UTC).date()
    done = runner.invoke(app, ["health", "override", "crm:import:O1", "--band", "Red", "--reason", "Champion left",
                               "--days", "10", "--as", "csm@x.example"])
    assert done.exit_code == 0, done.output
    assert f"Ovr: band red until {today + timedelta(days=10)} (computed unknown, 0/100)" in done.output
    with db.transaction(writer=False) as session:
        assert session.get_one(HealthScore, acc.id).band == "red"  # in force at once for reminders and KPIs
        assert session.get_one(HealthOverride, acc.id).set_by == "csm@x.example"
    cleared = runner.invoke(app, ["health", "override", "crm:import:O1", "--clear", "--as", "csm@x.example"])
    assert cleared.exit_code == 0 and "Ovr: override removed; band unknown" in cleared.output
    with db.transaction(writer=False) as session:
        assert session.get_one(HealthScore, acc.id).band == "unknown"
