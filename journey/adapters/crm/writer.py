"""What every CRM writer shares: one record's update in, one outcome per record out.

A writer only talks to its CRM. It answers per record (`written`, `dead` with the CRM's own words, `retry`
after some seconds), so a deleted deal or a refused value never holds back the other records of a batch;
a refusal of the whole call (a bad token) is `dead` for every record, a CRM that is down or rate-limiting
us beyond a short wait is `retry` for every record, and records held back because the CRM's rate limit is
nearly reached are `defer` (sent in a later drain, not counted as a failed attempt).
"""
from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from journey.adapters.crm.http import CrmApiThrottled, CrmApiUnavailable

Key = tuple[str, str]  # (object type, object id)


@dataclass(frozen=True)
class RecordUpdate:
    object_type: str  # deal, company
    object_id: str
    properties: dict[str, Any]  # CRM property: value (None = clear it)

    @property
    def key(self) -> Key:
        return self.object_type, self.object_id


@dataclass(frozen=True)
class Outcome:
    result: str  # written, dead, retry, defer (held back before the CRM's rate limit: not an attempt)
    error: str | None = None
    retry_after: float | None = None


WRITTEN = Outcome("written")


class Writer(Protocol):
    crm: str

    def write(self, updates: Sequence[RecordUpdate]) -> dict[Key, Outcome]: ...

    def whoami(self) -> str | None:
        """journey's own id in the CRM (whose changes are journey's echo); CrmApiError when it cannot say."""
        ...

    def close(self) -> None: ...


def everyone(updates: Sequence[RecordUpdate], outcome: Outcome) -> dict[Key, Outcome]:
    return {u.key: outcome for u in updates}


def unavailable(exc: CrmApiUnavailable) -> Outcome:
    return Outcome("defer" if isinstance(exc, CrmApiThrottled) else "retry", str(exc), exc.retry_after)


def chunks(items: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


def error_text(body: Any, limit: int = 500) -> str:
    """The CRM's own error message from a JSON body (HubSpot `message`, Salesforce `[{message}]`, Pipedrive
    `error`), else the body as text."""
    if isinstance(body, list) and body and isinstance(body[0], dict):
        body = body[0]
    if isinstance(body, dict):
        for key in ("message", "error", "error_info"):
            if isinstance(body.get(key), str) and body[key]:
                code = body.get("errorCode") or body.get("category") or body.get("code")
                return (f"{code}: {body[key]}" if isinstance(code, str) else body[key])[:limit]
    return str(body)[:limit]
