"""Codes are shown as words: segments, metrics and roles a person reads."""
from __future__ import annotations

import pytest

from journey.web.charts import contribution_bars
from journey.words import label


@pytest.mark.parametrize(("code", "words"), [
    ("mid_market", "Mid-market"), ("smb", "SMB"), ("csm_sentiment", "CSM sentiment"),
    ("executive_sponsor", "Executive sponsor"), ("at_risk", "At risk"), ("revops", "RevOps"), ("", ""),
])
def test_codes_read_as_words(code: str, words: str) -> None:
    assert label(code) == words


def test_health_factors_are_labelled_in_words() -> None:
    bars = contribution_bars([{"factor": "csm_sentiment", "weight": 20, "points": 10, "value": 3}])
    assert bars[0].label == "CSM sentiment"


@pytest.mark.parametrize("typed", ["twelve", "NaN", "Infinity", "1e"])
def test_an_amount_that_is_not_a_number_is_refused_in_words(typed: str) -> None:
    from journey.errors import InvalidInput
    from journey.web.opportunity_pages import parse_amount

    with pytest.raises(InvalidInput, match="not a number"):
        parse_amount(typed)
    assert parse_amount("12 000,50".replace(",", ".")) == 12000.5 and parse_amount("") is None
