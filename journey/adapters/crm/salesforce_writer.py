"""Write journey's values to Salesforce Opportunities and Accounts with the sObject Collections API.

Authentication: the OAuth 2.0 client credentials flow of an External Client App (`POST
/services/oauth2/token` with grant_type=client_credentials, client_id, client_secret, on the org's My Domain);
the access token is cached and fetched again once when a call answers 401 (`INVALID_SESSION_ID`).
Writes: `PATCH /services/data/vNN.N/composite/sobjects` with `allOrNone: false` and up to 200 records, each
`{"attributes": {"type": "Opportunity"}, "id": ..., field: value}` ("Update Records Using sObject
Collections", REST API Developer Guide); Salesforce answers 200 with one SaveResult per record, in order:
`{"id", "success", "errors": [{"statusCode", "message", "fields"}]}`. `null` clears a field.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import httpx

from journey.adapters.crm.http import CrmApiError, CrmApiUnavailable, JsonApi
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

BATCH = 200
SOBJECTS = {"deal": "Opportunity", "company": "Account"}
RETRYABLE = frozenset({"UNABLE_TO_LOCK_ROW", "REQUEST_LIMIT_EXCEEDED", "SERVER_UNAVAILABLE"})
_TOKENS: dict[tuple[str, str], str] = {}  # (instance, client id): access token, shared by the drainer's runs


class SalesforceError(CrmApiError):
    """Salesforce refused the client credentials or the call."""


class SalesforceUnavailable(CrmApiUnavailable, SalesforceError):
    """Salesforce is down or limiting us: the records wait."""


class SalesforceApi(JsonApi):
    vendor = "Salesforce"
    error = SalesforceError
    unavailable = SalesforceUnavailable
    refused_hint = "check JOURNEY_SALESFORCE_CLIENT_ID / _CLIENT_SECRET and the app's run-as user"


class SalesforceWriter:
    crm = "salesforce"

    def __init__(self, *, instance_url: str, client_id: str, client_secret: str, api_version: str = "v62.0",
                 transport: httpx.BaseTransport | None = None, sleep: Callable[[float], None] | None = None,
                 max_wait: float = 10.0) -> None:
        self.api = SalesforceApi(base_url=instance_url, headers={}, transport=transport, sleep=sleep,
                                 max_wait=max_wait)
        self._key = (instance_url.rstrip("/"), client_id)
        self._secret = client_secret
        self.version = api_version if api_version.startswith("v") else f"v{api_version}"
        self.user_id: str | None = None  # the run-as user, from the token's identity URL

    def close(self) -> None:
        self.api.close()

    def token(self, *, fresh: bool = False) -> str:
        if not fresh and self._key in _TOKENS:
            return _TOKENS[self._key]
        response = self.api.send("POST", "/services/oauth2/token", data={
            "grant_type": "client_credentials", "client_id": self._key[1], "client_secret": self._secret})
        body = _json(response)
        if response.status_code != 200 or not isinstance(body, dict) or not body.get("access_token"):
            detail = body.get("error_description") or body.get("error") if isinstance(body, dict) else body
            raise SalesforceError(f"Salesforce refused the client credentials ({response.status_code}): {detail}; "
                                  "check JOURNEY_SALESFORCE_CLIENT_ID / _CLIENT_SECRET and that the app enables "
                                  "the client credentials flow with a run-as user")
        self.user_id = str(body.get("id") or "").rstrip("/").rsplit("/", 1)[-1] or None
        _TOKENS[self._key] = str(body["access_token"])
        return _TOKENS[self._key]

    def whoami(self) -> str | None:
        """The run-as user: the token answer's identity URL (`.../id/<org id>/<user id>`), else
        `GET /services/oauth2/userinfo` (OpenID Connect: `{"user_id", "organization_id", ...}`)."""
        self.token()
        if self.user_id:
            return self.user_id
        response = self.call("GET", "/services/oauth2/userinfo")
        body = _json(response)
        if response.status_code != 200 or not isinstance(body, dict) or not body.get("user_id"):
            raise SalesforceError(f"Salesforce did not say who the integration user is ({response.status_code}): "
                                  f"{error_text(body)}")
        self.user_id = str(body["user_id"])
        return self.user_id

    def call(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """An authenticated call; a 401 fetches a new token once and tries again."""
        response = self.api.send(method, path, headers={"Authorization": f"Bearer {self.token()}"}, **kwargs)
        if response.status_code == 401:
            response = self.api.send(method, path, headers={"Authorization": f"Bearer {self.token(fresh=True)}"},
                                     **kwargs)
        return response

    def write(self, updates: Sequence[RecordUpdate]) -> dict[Key, Outcome]:
        outcomes: dict[Key, Outcome] = {}
        for object_type in SOBJECTS:
            for batch in chunks([u for u in updates if u.object_type == object_type], BATCH):
                outcomes.update(self._batch(batch))
        return outcomes

    def _batch(self, batch: Sequence[RecordUpdate]) -> dict[Key, Outcome]:
        records = [{"attributes": {"type": SOBJECTS[u.object_type]}, "id": u.object_id, **u.properties}
                   for u in batch]
        try:
            response = self.call("PATCH", f"/services/data/{self.version}/composite/sobjects",
                                 json={"allOrNone": False, "records": records})
        except CrmApiUnavailable as exc:
            return everyone(batch, unavailable(exc))
        except CrmApiError as exc:
            return everyone(batch, Outcome("dead", str(exc)))
        answer = _json(response)
        if response.status_code == 200 and isinstance(answer, list):
            return {u.key: _saved(u, result) for u, result in zip(batch, answer, strict=False)}
        text = error_text(answer)
        if response.status_code == 403 and "REQUEST_LIMIT_EXCEEDED" in str(answer):
            return everyone(batch, Outcome("retry", f"Salesforce API limit reached: {text}", 3600))
        return everyone(batch, Outcome("dead", f"Salesforce answered {response.status_code}: {text}"))


def _saved(update: RecordUpdate, result: Any) -> Outcome:
    if isinstance(result, dict) and result.get("success"):
        return WRITTEN
    errors = (result or {}).get("errors") or [{}] if isinstance(result, dict) else [{}]
    first = errors[0] if isinstance(errors[0], dict) else {}
    code = str(first.get("statusCode") or "UNKNOWN")
    message = f"{code}: {first.get('message') or 'not saved'} ({SOBJECTS[update.object_type]} {update.object_id})"
    return Outcome("retry" if code in RETRYABLE else "dead", message[:500])


def _json(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return response.text[:500]
