"""Write journey's values to HubSpot deals and companies, 100 records per call.

`POST /crm/v3/objects/{deals|companies}/batch/update` with `{"inputs": [{"id", "properties"}]}` (HubSpot
"CRM API | Deals", batch update). HubSpot answers 200 when every record was updated and 207 Multi-Status
when some failed, their errors under `errors` with the failed ids in `context.ids` (HubSpot developer
changelog, "Simplifying batch update response codes for CRM v3 APIs"); a 400 refuses the whole batch (an
unknown property: `PROPERTY_DOESNT_EXIST`, or one bad value, which halving the batch isolates).
Property values are text; an empty text clears a property.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any
from urllib.parse import quote

import httpx

from journey.adapters.crm.http import CrmApiError, CrmApiUnavailable
from journey.adapters.crm.hubspot import HubSpotApi
from journey.adapters.crm.writer import (
    WRITTEN,
    Key,
    Outcome,
    RecordUpdate,
    chunks,
    error_text,
    everyone,
    unavailable,
)

BATCH = 100
OBJECT_PATHS = {"deal": "deals", "company": "companies"}


def encode(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


class HubSpotWriter:
    crm = "hubspot"

    def __init__(self, *, base_url: str, token: str, transport: httpx.BaseTransport | None = None,
                 sleep: Callable[[float], None] | None = None, max_wait: float = 10.0) -> None:
        self.api = HubSpotApi(base_url=base_url, token=token, transport=transport, sleep=sleep, max_wait=max_wait)
        self._token = token
        self.calls = 0

    def whoami(self) -> str | None:
        """The private app's id: `POST /oauth/v2/private-apps/get/access-token-info` `{"tokenKey"}` answers
        `{"userId", "hubId", "appId", "scopes"}`; for an OAuth token, `GET /oauth/v1/access-tokens/{token}`
        answers `{"app_id", "hub_id", "user_id", ...}` (HubSpot "OAuth tokens v1: get token metadata")."""
        response = self.api.send("POST", "/oauth/v2/private-apps/get/access-token-info",
                                 json={"tokenKey": self._token})
        if response.status_code == 200 and _field(response, "appId"):
            return _field(response, "appId")
        response = self.api.send("GET", f"/oauth/v1/access-tokens/{quote(self._token, safe='')}")
        if response.status_code == 200 and _field(response, "app_id"):
            return _field(response, "app_id")
        raise CrmApiError(f"HubSpot did not say which app the token belongs to ({response.status_code}): "
                          f"{error_text(_json(response))}")

    def close(self) -> None:
        self.api.close()

    def write(self, updates: Sequence[RecordUpdate]) -> dict[Key, Outcome]:
        outcomes: dict[Key, Outcome] = {}
        for object_type, path in OBJECT_PATHS.items():
            mine = [u for u in updates if u.object_type == object_type]
            for batch in chunks(mine, BATCH):
                outcomes.update(self._batch(path, batch))
        return outcomes

    def _batch(self, path: str, batch: Sequence[RecordUpdate]) -> dict[Key, Outcome]:
        body = {"inputs": [{"id": u.object_id, "properties": {k: encode(v) for k, v in u.properties.items()}}
                           for u in batch]}
        self.calls += 1
        try:
            response = self.api.send("POST", f"/crm/v3/objects/{path}/batch/update", json=body)
        except CrmApiUnavailable as exc:
            return everyone(batch, unavailable(exc))
        except CrmApiError as exc:
            return everyone(batch, Outcome("retry", str(exc)))
        answer = _json(response)
        if response.status_code in (200, 207):
            return _per_record(batch, answer)
        if response.status_code in (401, 403):
            return everyone(batch, Outcome("dead", f"HubSpot refused the token ({response.status_code}): "
                                                   f"{error_text(answer)}; check JOURNEY_HUBSPOT_ACCESS_TOKEN and "
                                                   "its crm.objects.*.write scopes"))
        if response.status_code == 400 and len(batch) > 1 and not _unknown_property(answer):
            half = len(batch) // 2
            return {**self._batch(path, batch[:half]), **self._batch(path, batch[half:])}
        if response.status_code == 404 and len(batch) == 1:
            return everyone(batch, Outcome("dead", f"HubSpot has no {path[:-1]} {batch[0].object_id} "
                                                   f"(deleted or merged): {error_text(answer)}"))
        return everyone(batch, Outcome("dead", f"HubSpot answered {response.status_code}: {error_text(answer)}"))


def _json(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return response.text[:500]


def _field(response: httpx.Response, name: str) -> str | None:
    answer = _json(response)
    value = answer.get(name) if isinstance(answer, dict) else None
    return str(value) if value not in (None, "") else None


def _unknown_property(answer: Any) -> bool:
    """A batch refused because a property does not exist: every record of it would be refused alike."""
    text = str(answer)
    return "PROPERTY_DOESNT_EXIST" in text or "does not exist" in text


def _per_record(batch: Sequence[RecordUpdate], answer: Any) -> dict[Key, Outcome]:
    outcomes = {u.key: WRITTEN for u in batch}
    by_id = {u.object_id: u.key for u in batch}
    errors = answer.get("errors") if isinstance(answer, dict) else None
    for error in errors or []:
        ids = ((error.get("context") or {}).get("ids") or []) if isinstance(error, dict) else []
        category = error.get("category") if isinstance(error, dict) else None
        message = f"{category}: {error.get('message')}" if category else error_text(error)
        verdict = "retry" if category in ("RATE_LIMITS", "LOCKED") else "dead"
        for object_id in ids:
            if str(object_id) in by_id:
                outcomes[by_id[str(object_id)]] = Outcome(verdict, message[:500])
    return outcomes
