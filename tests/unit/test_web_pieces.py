"""Pure pieces of the web UI: redirects, the rate limiter, objective progress, charts, the packet form."""
from __future__ import annotations

from datetime import date

import pytest

from journey.web import health_view, weekly_view
from journey.web.auth import RateLimiter
from journey.web.charts import contribution_bars, score_chart
from journey.web.objectives_view import progress
from journey.web.packet_form import packet_fields, to_patch
from journey.web.signin_pages import safe_next
from journey.words import money


@pytest.mark.parametrize(("target", "expected"), [
    ("/accounts/3?x=1", "/accounts/3?x=1"), ("//evil.example/x", "/"), ("https://evil.example", "/"),
    ("/\\evil.example", "/"), ("", "/"), (None, "/"), ("accounts", "/"),
])
def test_sign_in_only_redirects_within_the_site(target, expected) -> None:
    assert safe_next(target) == expected


def test_the_rate_limiter_slides_its_window() -> None:
    limiter = RateLimiter(limit=2, window=60)
    limiter.hit("a", now=0)
    limiter.hit("a", now=10)
    assert limiter.retry_after("a", now=20) == 41
    assert limiter.retry_after("b", now=20) == 0
    assert limiter.retry_after("a", now=61) == 0  # the first hit has left the window


def test_the_rate_limiter_takes_back_one_hit() -> None:
    limiter = RateLimiter(limit=2, window=60)
    limiter.hit("a", now=0)
    limiter.hit("a", now=10)
    limiter.release("a")
    assert limiter.retry_after("a", now=20) == 0
    limiter.release("a")
    limiter.release("a")  # nothing left to take back: no error
    limiter.release("never seen")


@pytest.mark.parametrize(("baseline", "target", "latest", "expected"), [
    (21, 7, 14, 0.5), (30, 55, 55, 1.0), (30, 55, 70, 1.0), (30, 55, 20, 0.0), (30, 30, 30, None),
    (None, 55, 40, None), (30, 55, None, None),
])
def test_objective_progress_goes_either_way(baseline, target, latest, expected) -> None:
    assert progress(baseline, target, latest) == expected


def test_the_score_chart_maps_0_to_100_into_the_plot() -> None:
    chart = score_chart([(date(2027, 1, 1), 100, "green"), (date(2027, 1, 31), 0, "red")], height=200, top=12,
                        bottom=26)
    assert chart is not None
    assert [d.y for d in chart.dots] == [12, 174]
    assert chart.path.startswith("M") and " L" in chart.path
    assert score_chart([]) is None


def test_a_factor_without_data_explains_itself() -> None:
    bars = contribution_bars([{"factor": "nps", "value": None, "weight": 0, "points": 0},
                              {"factor": "seat_utilisation", "value": 0.8, "weight": 40, "points": 32}])
    assert bars[1].fill == 0 and "no data" in bars[1].detail
    assert bars[0].fill == pytest.approx(0.8) and bars[0].cost == 8


def test_the_bars_put_what_costs_the_most_points_first() -> None:
    bars = contribution_bars([{"factor": "nps", "value": 40, "weight": 20, "points": 18},  # earns most, loses 2
                              {"factor": "last_meeting", "value": 78, "weight": 10, "points": 1},  # loses 9
                              {"factor": "seat_utilisation", "value": 0.3, "weight": 30, "points": 9}])  # loses 21
    assert [b.cost for b in bars] == [21, 9, 2]


@pytest.mark.parametrize(("explanation", "lines"), [
    ("31/100 (red); Last meeting: 78 days ago — 9 of 10 points lost",
     ["Last meeting: 78 days ago — 9 of 10 points lost"]),
    ("40/100 provisional (unknown): the inputs with data carry 30% of the scorecard's weight, 50% needed",
     ["40/100 provisional (unknown): the inputs with data carry 30% of the scorecard's weight, 50% needed"]),
    ("red (set by Ann on 2026-11-02, until 2026-12-02: champion left); computed 80/100 (green)",
     ["red (set by Ann on 2026-11-02, until 2026-12-02: champion left)", "computed 80/100 (green)"]),
])
def test_the_page_drops_the_headline_the_big_number_already_says(explanation, lines) -> None:
    assert health_view.page_lines(explanation) == lines


@pytest.mark.parametrize(("contribution", "detail"), [
    ({"factor": "seat_utilisation", "value": 0.8, "weight": 40, "points": 32}, "80 %"),
    ({"factor": "last_meeting", "metric": "meeting", "value": 78.07, "weight": 10, "points": 6.5}, "78 days ago"),
    ({"factor": "plan_on_time", "value": 1.0, "weight": 27, "points": 27,
      "detail": "1 of 1 task due is on time (grace 2 business days)"},
     "1 of 1 task due is on time (grace 2 business days)"),  # the plan card's words, not "value 1"
    ({"factor": "plan_on_time", "value": None, "weight": 0, "points": 0, "detail": None},
     "no data yet: its weight went to the other factors"),
])
def test_a_bar_says_the_factor_s_value_in_its_words(contribution, detail) -> None:
    assert contribution_bars([contribution])[0].detail == detail


def test_the_packet_form_drops_blank_rows_and_parses_numbers() -> None:
    fields = packet_fields(promises="SSO in Q1\n\n  Okta  ", obj_title=["Faster onboarding", ""],
                           obj_baseline=["21", ""], obj_target=["7,5", ""], obj_kpi=["days", ""],
                           obj_source=["customer_validated", "sales_assumed"],
                           obj_metric=["  days_to_first_ticket ", ""],
                           sh_name=["Chloé", ""], sh_email=["", ""], sh_title=["COO", ""],
                           sh_role=["executive_sponsor", "other"])
    patch = to_patch(fields)
    assert patch["promises"] == ["SSO in Q1", "Okta"]
    assert patch["objectives"] == [{"title": "Faster onboarding", "kpi": "days", "baseline": 21.0, "target": 7.5,
                                    "unit": None, "due": None, "source": "customer_validated",
                                    "metric": "days_to_first_ticket"}]
    assert [s["name"] for s in patch["stakeholders"]] == ["Chloé"]
    with pytest.raises(ValueError, match="not a number"):
        to_patch(packet_fields(obj_title=["X"], obj_target=["seven"]))


@pytest.mark.parametrize(("value", "unit", "currency", "expected"), [
    (-0.5, "%", "EUR", "−0.5 pts"), (3.0, "%", "EUR", "+3 pts"), (0, "%", "EUR", "no change"),
    (-48_000, "money", "EUR", "−€48,000"), (190_000, "money", "usd", "+$190,000"),
    (190_000, "money", "CHF", "+190,000 CHF"), (-2, "days", "EUR", "−2 days"), (None, "money", "EUR", "—")])
def test_a_week_over_week_change_says_points_and_the_currency(value, unit, currency, expected) -> None:
    assert weekly_view.signed(value, unit, currency) == expected


def test_money_shows_the_workspace_currency() -> None:
    assert weekly_view.fmt(190_000, "money", "EUR") == "€190,000" and weekly_view.fmt(53.3, "%") == "53 %"
    assert money(1234.4, "SEK") == "1,234 SEK" and money(None, "EUR") == "—"


def test_the_csv_export_holds_bare_numbers_with_units_in_its_headers() -> None:
    kpi = {"label": "ARR at risk", "unit": "money", "value": 190_000, "last_week": None, "change": 18_000.0}
    plan = {"label": "Plan on time", "unit": "%", "value": 69.4, "last_week": 69.9, "change": -0.5}
    header, body = weekly_view.rows({"kpis": [kpi, plan]}, "kpis", "CHF", plain=True)
    assert header == ["KPI", "Unit", "This week", "Last week", "Change"]
    assert body == [["ARR at risk", "CHF", "190000", "", "+18000"], ["Plan on time", "%", "69.4", "69.9", "-0.5"]]
    text = weekly_view.to_csv(header, [*body, ["=cmd()", "-x", "+", ""]])
    assert text.splitlines()[1:] == ["ARR at risk,CHF,190000,,+18000", "Plan on time,%,69.4,69.9,-0.5",
                                     "'=cmd(),'-x,'+,"]  # numbers stay numbers; formulas become text
