"""Every factor in words: its label (scorecard, bundled default, or its name) and its value in its unit."""
from __future__ import annotations

import pytest

from journey.config import PROJECT_ROOT
from journey.health.domain import Contribution
from journey.health.explanation import factor_sentence
from journey.health.scorecards import load_scorecards
from journey.health.wording import factor_label, factor_unit, missing_words, value_words


@pytest.mark.parametrize(("factor", "metric", "per", "value", "sentence"), [
    ("last_meeting", "meeting", None, 78.07, "Last meeting: 78 days ago — 3.5 of 10 points lost"),
    ("last_meeting", "meeting", None, 1.2, "Last meeting: 1 day ago — 3.5 of 10 points lost"),
    ("last_meeting", "meeting", None, 0.1, "Last meeting: today — 3.5 of 10 points lost"),
    ("seat_utilisation", "active_users", "seats", 0.5333, "Seat utilisation: 53 % — 3.5 of 10 points lost"),
    ("logins_per_seat", "logins_7d", "seats", 1.26, "Logins per seat (7 days): 1.3 per seat — 3.5 of 10 points lost"),
    ("packet_completeness", "packet_completeness", None, 80.0, "Handoff packet complete: 80 % — 3.5 of 10 points lost"),
    ("open_tickets", "support_tickets_open", None, 4.0, "Open support tickets: 4 — 3.5 of 10 points lost"),
    ("escalation", "escalation_open", None, 1.0, "Open escalation: yes — 3.5 of 10 points lost"),
    ("invoices", "invoice_overdue_days", None, 12.4, "Oldest unpaid invoice: 12 days — 3.5 of 10 points lost"),
    ("csat", "csat", None, 3.25, "CSAT: 3.2 of 5 — 3.5 of 10 points lost"),
    ("nps_answers", "nps_response", None, 7.0, "NPS answers: 7 of 10 — 3.5 of 10 points lost"),
    ("nps", "nps", None, -12.0, "NPS: -12 — 3.5 of 10 points lost"),
    ("objective_progress", "objective_progress", None, 0.25, "Objective progress: 25 % — 3.5 of 10 points lost"),
    ("custom_thing", "custom.metric", None, 2.3456, "Custom thing: 2.3 — 3.5 of 10 points lost"),
])
def test_a_factor_reads_as_its_label_and_its_value_in_its_unit(factor, metric, per, value, sentence) -> None:
    c = Contribution(factor, "g", metric, value, 65.0, 10.0, 10.0, 6.5,
                     label=factor_label(factor), unit=factor_unit(metric, per))
    assert factor_sentence(c) == sentence


def test_a_scorecard_label_and_unit_win_over_the_defaults() -> None:
    assert factor_label("nps", "Net promoter score") == "Net promoter score"
    assert value_words(factor_unit("nps", None, "number"), 12.0) == "12"


def test_every_bundled_factor_has_a_label_without_underscores_and_a_known_unit() -> None:
    for card in load_scorecards(PROJECT_ROOT / "templates" / "scorecards"):
        for f in card.factors:
            assert "_" not in factor_label(f.name, f.label), f.name
            assert factor_unit(f.metric, f.per, f.unit or "") != "number", f.name


def test_stored_rows_without_words_still_read_as_words() -> None:  # scores computed before labels existed
    c = Contribution("last_meeting", "g", "meeting", 78.07, 65.0, 10.0, 10.0, 6.5)
    assert factor_sentence(c) == "Last meeting: 78 days ago — 3.5 of 10 points lost"


def test_a_missing_input_says_where_it_comes_from() -> None:
    assert missing_words(["objective_progress"]) == [
        "No objective progress recorded yet (comes from review outcomes / objective updates)"]
    assert missing_words(["active_users", "seats"]) == [
        "No active users or seat count recorded yet (send them with POST /api/signals or journey import signals)"]
