"""The weekly review's formulas on worked examples: ISO weeks, ARR at risk, GRR / NRR, week over week."""
from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from journey.errors import InvalidInput
from journey.kpis import domain
from journey.kpis.domain import AccountFacts, Contract, Pipeline
from journey.onboarding.lifecycle import TaskOutcome

D = Decimal


def test_iso_weeks_start_on_monday_utc() -> None:
    assert domain.parse_week("2027-W05") == date(2027, 2, 1)
    assert domain.week_of(date(2027, 1, 3)) == "2026-W53"  # a Sunday belongs to the ISO year before
    assert domain.week_end(date(2027, 2, 1)) == datetime(2027, 2, 8, tzinfo=UTC)
    for bad in ("2027-5", "2027-W54", "W05", "", "0001-W01", "2027-W00"):
        with pytest.raises(InvalidInput, match="2027-W05"):
            domain.parse_week(bad)


def test_arr_at_risk_is_the_contract_value_of_yellow_and_red_accounts() -> None:
    accounts = [AccountFacts(1, arr=D(100_000), band="healthy"), AccountFacts(2, arr=D(40_000), band="watch"),
                AccountFacts(3, arr=D(25_000), band="critical"), AccountFacts(4, arr=D(60_000), band="unknown"),
                AccountFacts(5, arr=D(10_000), band=None)]
    assert domain.arr_at_risk(accounts) == D(65_000)
    k = domain.kpis_of(accounts, date(2027, 2, 7))
    assert (k.arr, k.arr_at_risk, k.accounts_at_risk) == (D(235_000), D(65_000), 2)
    assert k.health_mix == {"healthy": 1, "watch": 1, "critical": 1, "unknown": 1}  # unknown counted apart


def test_retention_worked_example() -> None:
    """Start of Q1: A 100k, B 50k, C 30k = 180k. B churns (deal lost in February); A expands by 20k (won);
    D signs in March (new business, not in the cohort). GRR = (180 − 50) / 180 = 72.22 %;
    NRR = (180 − 50 + 20) / 180 = 83.33 %."""
    contracts = [Contract(1, D(100_000), date(2026, 3, 1)), Contract(2, D(50_000), date(2026, 6, 1), date(2027, 2, 10)),
                 Contract(3, D(30_000), date(2026, 9, 1)), Contract(4, D(80_000), date(2027, 3, 5))]
    won = [(1, D(20_000), date(2027, 2, 20)), (4, D(5_000), date(2027, 3, 20)), (1, D(9_000), date(2027, 4, 2))]
    r = domain.retention(contracts, won, start=date(2027, 1, 1), end=date(2027, 4, 1))
    assert (r.starting_arr, r.churned_arr, r.expansion_arr, r.churned_accounts) == (D(180_000), D(50_000),
                                                                                    D(20_000), 1)
    assert r.grr == pytest.approx(0.7222, abs=1e-4) and r.nrr == pytest.approx(0.8333, abs=1e-4)
    empty = domain.retention([], [], start=date(2027, 1, 1), end=date(2027, 4, 1))
    assert empty.grr is None and empty.nrr is None
    with pytest.raises(InvalidInput):
        domain.retention(contracts, won, start=date(2027, 4, 1), end=date(2027, 1, 1))


def test_the_five_kpis_of_a_book() -> None:
    late, on_time = TaskOutcome("done", date(2027, 2, 1), date(2027, 2, 3)), TaskOutcome("done", date(2027, 2, 1),
                                                                                       date(2027, 2, 1))
    overdue, not_yet = TaskOutcome("todo", date(2027, 2, 2), None), TaskOutcome("todo", date(2027, 3, 1), None)
    accounts = [
        AccountFacts(1, signed_on=date(2027, 1, 1), value_on=date(2027, 1, 31), tasks=(late, on_time),
                     completeness=80, accepted=True, pipeline=(Pipeline(D(12_000), "open"), Pipeline(D(3_000), "won"))),
        AccountFacts(2, signed_on=date(2027, 1, 10), value_on=date(2027, 1, 30), tasks=(overdue, not_yet),
                     completeness=60, pipeline=(Pipeline(D(8_000), "proposed"), Pipeline(None, "open"))),
        AccountFacts(3, signed_on=date(2027, 1, 20)),
    ]
    k = domain.kpis_of(accounts, date(2027, 2, 7))
    assert (k.ttv_median_days, k.ttv_reached) == (25, 2)  # 30 and 20 days
    assert (k.on_time, k.tasks_counted, k.on_time_pct) == (1, 3, 33.3)  # the not-yet-due task does not count
    assert (k.packets, k.packet_completeness, k.packets_accepted) == (2, 70.0, 1)
    assert (k.pipeline_count, k.pipeline_amount) == (3, D(20_000))  # open and proposed, won is out


def test_week_over_week_is_this_week_minus_last() -> None:
    assert domain.change(62.5, 50.0) == 12.5
    assert domain.change(D("1200.50"), D("1000")) == 200.5
    assert domain.change(None, 3) is None and domain.change(3, None) is None


def test_a_weekly_line_leaves_gaps_for_weeks_without_a_value() -> None:
    from journey.web.charts import series_chart

    weeks = [(date(2027, 1, 4), 40.0), (date(2027, 1, 11), None), (date(2027, 1, 18), 50.0), (date(2027, 1, 25), 60.0)]
    chart = series_chart(weeks, unit=" %")
    assert chart is not None and len(chart.dots) == 3
    assert chart.path.count("M") == 2 and chart.path.count("L") == 1  # a gap, then a line from the 18th
    assert chart.dots[-1][2] == "25 Jan: 60 %"
    assert series_chart([(date(2027, 1, 4), None)]) is None
