"""How long to wait before the next call to a CRM, from the rate-limit headers of its last answer. Pure.

journey slows down *before* a CRM answers 429: when a window is nearly spent it waits for the window to
reset; when a day's allowance is nearly spent it waits long enough that the caller defers the rest of its
work to a later drain (nothing is lost: the records stay queued).

- HubSpot: `X-HubSpot-RateLimit-Max` calls per `X-HubSpot-RateLimit-Interval-Milliseconds` (10 s), of which
  `X-HubSpot-RateLimit-Remaining` are left; `X-HubSpot-RateLimit-Daily` / `-Daily-Remaining` for the day
  (which ends at midnight in the account's time zone, unknown here: an hour's wait, then look again).
- Pipedrive: `x-ratelimit-limit` requests per 2-second window, `x-ratelimit-remaining` left, the window
  resetting in `x-ratelimit-reset` seconds; `x-daily-requests-left` for the day (UTC) with an API token.
- Salesforce: `Sforce-Limit-Info: api-usage=N/M`, the org's API requests over the last 24 hours (rolling):
  no reset time, so an hour's wait once 95 % are used, leaving the rest to the org's other integrations.
"""
from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

WINDOW_RESERVE = 0.10  # keep a tenth of a burst window for the other callers of the same token
DAILY_RESERVE = 0.01
SALESFORCE_RESERVE = 0.05
LONG_WAIT = 3600.0  # a day's allowance nearly spent, reset time unknown: look again in an hour
_API_USAGE = re.compile(r"api-usage\s*=\s*(\d+)\s*/\s*(\d+)")


@dataclass(frozen=True)
class Throttle:
    wait: float = 0.0  # seconds before the next call; 0: go on
    reason: str | None = None


GO = Throttle()


def throttle(headers: Mapping[str, str], *, now: datetime) -> Throttle:
    """The longest wait any of the answer's rate-limit headers asks for (GO when none is low)."""
    lower = {k.lower(): v for k, v in headers.items()}
    found = [t for t in (_hubspot(lower), _pipedrive(lower, now), _salesforce(lower)) if t.wait > 0]
    return max(found, key=lambda t: t.wait, default=GO)


def _number(headers: Mapping[str, str], name: str) -> float | None:
    try:
        return float(headers[name])
    except (KeyError, ValueError):
        return None


def _low(remaining: float, limit: float | None, reserve: float) -> bool:
    return remaining <= max(1.0, (limit or 0) * reserve)


def _hubspot(h: Mapping[str, str]) -> Throttle:
    daily = _number(h, "x-hubspot-ratelimit-daily-remaining")
    if daily is not None and _low(daily, _number(h, "x-hubspot-ratelimit-daily"), DAILY_RESERVE):
        return Throttle(LONG_WAIT, f"HubSpot's daily limit nearly reached ({int(daily)} calls left)")
    remaining = _number(h, "x-hubspot-ratelimit-remaining")
    interval = _number(h, "x-hubspot-ratelimit-interval-milliseconds")
    if remaining is not None and _low(remaining, _number(h, "x-hubspot-ratelimit-max"), WINDOW_RESERVE):
        return Throttle((interval or 10_000) / 1000, f"HubSpot's rate window nearly spent ({int(remaining)} left)")
    return GO


def _pipedrive(h: Mapping[str, str], now: datetime) -> Throttle:
    daily = _number(h, "x-daily-requests-left")
    if daily is not None and daily <= 1:
        midnight = datetime.combine(now.date() + timedelta(days=1), datetime.min.time(), tzinfo=now.tzinfo)
        return Throttle(max((midnight - now).total_seconds(), 1.0), "Pipedrive's daily requests used up")
    remaining = _number(h, "x-ratelimit-remaining")
    if remaining is not None and _low(remaining, _number(h, "x-ratelimit-limit"), WINDOW_RESERVE):
        reset = _number(h, "x-ratelimit-reset")
        return Throttle(reset if reset and reset > 0 else 2.0, f"Pipedrive's rate window nearly spent "
                                                               f"({int(remaining)} left)")
    return GO


def _salesforce(h: Mapping[str, str]) -> Throttle:
    match = _API_USAGE.search(h.get("sforce-limit-info", ""))
    if not match:
        return GO
    used, limit = int(match[1]), int(match[2])
    if limit and _low(limit - used, limit, SALESFORCE_RESERVE):
        return Throttle(LONG_WAIT, f"Salesforce API requests nearly used up ({used}/{limit} in 24 hours)")
    return GO
