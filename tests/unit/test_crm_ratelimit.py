"""The wait before the next CRM call, from the rate-limit headers of the last answer (table-driven)."""
from __future__ import annotations

from datetime import UTC, datetime

import pytest

from journey.adapters.crm.ratelimit import LONG_WAIT, throttle

NOW = datetime(2027, 3, 1, 23, 59, 0, tzinfo=UTC)
HS = {"X-HubSpot-RateLimit-Max": "190", "X-HubSpot-RateLimit-Interval-Milliseconds": "10000",
      "X-HubSpot-RateLimit-Daily": "1000000"}


@pytest.mark.parametrize(("headers", "wait"), [
    ({}, 0.0),  # no rate-limit headers: go on
    ({**HS, "X-HubSpot-RateLimit-Remaining": "150", "X-HubSpot-RateLimit-Daily-Remaining": "900000"}, 0.0),
    ({**HS, "X-HubSpot-RateLimit-Remaining": "20", "X-HubSpot-RateLimit-Daily-Remaining": "900000"}, 0.0),
    ({**HS, "X-HubSpot-RateLimit-Remaining": "19", "X-HubSpot-RateLimit-Daily-Remaining": "900000"}, 10.0),
    ({**HS, "X-HubSpot-RateLimit-Remaining": "0"}, 10.0),
    ({"X-HubSpot-RateLimit-Remaining": "1"}, 10.0),  # no max, no interval: one left is low, a 10 s window
    ({**HS, "X-HubSpot-RateLimit-Remaining": "150", "X-HubSpot-RateLimit-Daily-Remaining": "10000"}, LONG_WAIT),
    ({**HS, "X-HubSpot-RateLimit-Remaining": "0", "X-HubSpot-RateLimit-Daily-Remaining": "5"}, LONG_WAIT),
    ({"x-hubspot-ratelimit-remaining": "not a number"}, 0.0),
    ({"x-ratelimit-limit": "40", "x-ratelimit-remaining": "39", "x-ratelimit-reset": "2"}, 0.0),
    ({"x-ratelimit-limit": "40", "x-ratelimit-remaining": "4", "x-ratelimit-reset": "2"}, 2.0),
    ({"x-ratelimit-limit": "40", "x-ratelimit-remaining": "0", "x-ratelimit-reset": "1"}, 1.0),
    ({"x-ratelimit-remaining": "1"}, 2.0),  # Pipedrive's window is 2 s
    ({"x-ratelimit-limit": "40", "x-ratelimit-remaining": "30", "x-daily-requests-left": "9999"}, 0.0),
    ({"x-ratelimit-limit": "40", "x-ratelimit-remaining": "30", "x-daily-requests-left": "0"}, 60.0),  # UTC midnight
    ({"Sforce-Limit-Info": "api-usage=18/15000"}, 0.0),
    ({"Sforce-Limit-Info": "api-usage=14249/15000"}, 0.0),
    ({"Sforce-Limit-Info": "api-usage=14250/15000"}, LONG_WAIT),
    ({"Sforce-Limit-Info": "api-usage=15000/15000"}, LONG_WAIT),
    ({"Sforce-Limit-Info": "garbled"}, 0.0),
])
def test_the_wait_asked_by_the_headers(headers, wait) -> None:
    decision = throttle(headers, now=NOW)
    assert decision.wait == wait
    assert (decision.reason is None) == (wait == 0)


def test_the_longest_wait_wins() -> None:
    decision = throttle({"x-ratelimit-remaining": "0", "x-ratelimit-reset": "2",
                         "Sforce-Limit-Info": "api-usage=99/100"}, now=NOW)
    assert decision.wait == LONG_WAIT and "Salesforce" in decision.reason
