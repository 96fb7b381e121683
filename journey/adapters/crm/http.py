"""The JSON client every CRM API read goes through: timeouts, a few quick retries on 429 / 5xx that honour
`Retry-After`, and errors that say whether waiting can help.

A short outage is ridden out here (seconds); a longer one raises :class:`CrmApiUnavailable`, which the
inbox turns into a long backoff (minutes to an hour, honouring `Retry-After`) instead of a dead letter.
Every answer's rate-limit headers are read (`ratelimit.throttle`): when a window is nearly spent the next
call first waits for it to reset (up to `max_wait`); a longer wait raises :class:`CrmApiThrottled` instead
of calling, so the caller defers its remaining work.
"""
from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import httpx

from journey.adapters.crm.ratelimit import GO, Throttle, throttle
from journey.errors import UpstreamUnavailable
from journey.kit import utcnow


class CrmApiError(Exception):
    """A CRM API refused the request or answered something unusable; waiting will not help."""


class CrmApiUnavailable(UpstreamUnavailable, CrmApiError):
    """A CRM API is down, unreachable or rate-limiting us: try again later (after `retry_after` seconds)."""


class CrmApiThrottled(CrmApiUnavailable):
    """journey holds back before the CRM's rate limit is reached: no call was made; try after `retry_after`."""


class CrmApiNotFound(CrmApiError):
    """The record no longer exists in the CRM (404)."""


class JsonApi:
    """One vendor's API: subclasses name the vendor, its error classes and the hint for a refused token."""

    vendor = "CRM"
    error: type[CrmApiError] = CrmApiError
    unavailable: type[CrmApiUnavailable] = CrmApiUnavailable
    not_found: type[CrmApiError] = CrmApiNotFound
    refused_hint = "check the API token"

    def __init__(self, *, base_url: str, headers: dict[str, str], transport: httpx.BaseTransport | None = None,
                 attempts: int = 4, max_wait: float = 10.0, sleep: Callable[[float], None] | None = None) -> None:
        self._client = httpx.Client(base_url=base_url.rstrip("/"), transport=transport,
                                    headers={"Accept": "application/json", **headers},
                                    timeout=httpx.Timeout(10.0, connect=5.0))
        self._attempts, self._max_wait = attempts, max_wait
        self._sleep = sleep or time.sleep
        self.throttled: Throttle = GO  # what the last answer's rate-limit headers ask of the next call
        self.paused = 0.0  # seconds waited before calls because a window was nearly spent

    def close(self) -> None:
        self._client.close()

    def request(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        """The JSON answer; retried up to `attempts` times while the wait stays under `max_wait` seconds."""
        return self._answer(method, path, self.send(method, path, **kwargs))

    def send(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """The response once it is neither a 429 nor a 5xx (those wait and retry, honouring `Retry-After` and
        the vendors' rate-limit headers); CrmApiUnavailable when waiting longer is needed, CrmApiThrottled
        (no call made) when the last answer said the rate limit is nearly reached for longer than `max_wait`."""
        self._hold_back()
        for attempt in range(1, self._attempts + 1):
            try:
                response = self._client.request(method, path, **kwargs)
            except httpx.TransportError as exc:
                if attempt == self._attempts:
                    raise self.unavailable(f"{self.vendor} API unreachable: {type(exc).__name__}") from exc
                self._sleep(min(2 ** (attempt - 1), self._max_wait))
                continue
            if response.status_code == 429 or response.status_code >= 500:
                retry_after = _retry_after(response)
                wait = retry_after if retry_after is not None else float(2 ** (attempt - 1))
                if attempt == self._attempts or wait > self._max_wait:
                    raise self.unavailable(f"{self.vendor} API answered {response.status_code} after {attempt} "
                                           "attempts", retry_after=retry_after)
                self._sleep(wait)
                continue
            self.throttled = throttle(response.headers, now=utcnow())
            return response
        raise self.error("unreachable")  # pragma: no cover

    def _hold_back(self) -> None:
        wait = self.throttled.wait
        if wait <= 0:
            return
        if wait > self._max_wait:
            raise CrmApiThrottled(f"{self.vendor}: {self.throttled.reason}; the rest waits {int(wait)} s",
                                  retry_after=wait)
        self._sleep(wait)
        self.paused += wait
        self.throttled = GO

    def _answer(self, method: str, path: str, response: httpx.Response) -> dict[str, Any]:
        if response.status_code == 404:
            raise self.not_found(f"{self.vendor} has no {path}")
        if response.status_code in (401, 403):
            raise self.error(f"{self.vendor} API refused the token ({response.status_code}): {self.refused_hint}")
        if response.status_code >= 400:
            raise self.error(f"{self.vendor} API answered {response.status_code} to {method} {path}")
        try:
            body = response.json()
        except ValueError as exc:
            raise self.error(f"{self.vendor} API answered {method} {path} with something other than JSON") from exc
        if not isinstance(body, dict):
            raise self.error(f"{self.vendor} API answered {method} {path} with JSON that is not an object")
        return body


def _retry_after(response: httpx.Response) -> float | None:
    """`Retry-After` in seconds (the HTTP-date form is read as 'unknown': the caller's backoff applies); on a
    429 without it, Pipedrive's `x-ratelimit-reset` (seconds) or HubSpot's rate-limit window."""
    for header, scale in (("retry-after", 1.0), ("x-ratelimit-reset", 1.0),
                          ("x-hubspot-ratelimit-interval-milliseconds", 0.001)):
        value = response.headers.get(header, "")
        if not value or (header != "retry-after" and response.status_code != 429):
            continue
        try:
            return max(float(value) * scale, 0.0)
        except ValueError:
            return None
    return None
