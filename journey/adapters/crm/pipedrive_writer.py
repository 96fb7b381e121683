"""Write journey's values to Pipedrive deals and organizations, one `PATCH` per record (API v2).

`PATCH /api/v2/deals/{id}` and `PATCH /api/v2/organizations/{id}` with `{"custom_fields": {key: value}}`,
custom fields named by their 40-character keys, the token in the `x-api-token` header; Pipedrive answers
`{"success": true, "data": {...}}`, or `{"success": false, "error": ...}` with 400 (a bad value or key),
404 (a deleted record), 401 / 403, or 429 with its rate-limit headers. `null` clears a field.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any
from urllib.parse import quote

import httpx

from journey.adapters.crm.http import CrmApiError, CrmApiUnavailable
from journey.adapters.crm.pipedrive import PipedriveApi
from journey.adapters.crm.writer import WRITTEN, Key, Outcome, RecordUpdate, error_text, unavailable

PATHS = {"deal": "deals", "company": "organizations"}


class PipedriveWriter:
    crm = "pipedrive"

    def __init__(self, *, base_url: str, token: str, transport: httpx.BaseTransport | None = None,
                 sleep: Callable[[float], None] | None = None, max_wait: float = 10.0) -> None:
        self.api = PipedriveApi(base_url=base_url, token=token, transport=transport, sleep=sleep, max_wait=max_wait)

    def close(self) -> None:
        self.api.close()

    def whoami(self) -> str | None:
        """The API token's user: `GET /v1/users/me` answers `{"success": true, "data": {"id", "email", ...}}`."""
        user = self.api.request("GET", "/v1/users/me").get("data") or {}
        return str(user["id"]) if isinstance(user, dict) and user.get("id") else None

    def write(self, updates: Sequence[RecordUpdate]) -> dict[Key, Outcome]:
        """Record by record; a refused token or a CRM that is down settles the rest without more calls."""
        outcomes: dict[Key, Outcome] = {}
        stop: Outcome | None = None
        for update in updates:
            outcomes[update.key] = stop or self._one(update)
            if outcomes[update.key].result in ("retry", "defer") or "refused the token" in (
                    outcomes[update.key].error or ""):
                stop = outcomes[update.key]
        return outcomes

    def _one(self, update: RecordUpdate) -> Outcome:
        path = f"/api/v2/{PATHS[update.object_type]}/{quote(update.object_id, safe='')}"
        try:
            response = self.api.send("PATCH", path, json={"custom_fields": update.properties})
        except CrmApiUnavailable as exc:
            return unavailable(exc)
        except CrmApiError as exc:
            return Outcome("retry", str(exc))
        if response.status_code in (200, 201):
            return WRITTEN
        answer = _json(response)
        noun = "organization" if update.object_type == "company" else "deal"
        if response.status_code in (401, 403):
            return Outcome("dead", f"Pipedrive refused the token ({response.status_code}): {error_text(answer)}; "
                                   "check JOURNEY_PIPEDRIVE_API_TOKEN")
        if response.status_code in (404, 410):
            return Outcome("dead", f"Pipedrive has no {noun} {update.object_id} (deleted?): {error_text(answer)}")
        return Outcome("dead", f"Pipedrive answered {response.status_code} for {noun} {update.object_id}: "
                               f"{error_text(answer)}")


def _json(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return response.text[:500]
