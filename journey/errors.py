"""Expected outcomes with their HTTP status and a stable code; one handler renders them as JSON problems."""
from __future__ import annotations


class JourneyError(Exception):
    status_code = 400
    code = "bad_request"

    def __init__(self, detail: str, *, headers: dict[str, str] | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.headers = headers or {}


class NotFound(JourneyError):
    status_code = 404
    code = "not_found"


class Unauthorized(JourneyError):
    status_code = 401
    code = "unauthorized"


class Forbidden(JourneyError):
    status_code = 403
    code = "forbidden"


class Conflict(JourneyError):
    status_code = 409
    code = "conflict"


class InvalidInput(JourneyError):
    status_code = 422
    code = "invalid"


class MalformedBody(JourneyError):
    status_code = 400
    code = "malformed_body"


class PayloadTooLarge(JourneyError):
    status_code = 413
    code = "payload_too_large"


class UnsupportedMediaType(JourneyError):
    status_code = 415
    code = "unsupported_media_type"


class ServiceUnavailable(JourneyError):
    status_code = 503
    code = "database_unavailable"

    def __init__(self, detail: str, *, retry_after: int = 30) -> None:
        super().__init__(detail, headers={"Retry-After": str(retry_after)})


class UpstreamUnavailable(JourneyError):
    """A service we read from (a CRM's API) is down or rate-limiting us: try again later, after
    `retry_after` seconds when it said so. The inbox retries such events on a long backoff."""

    status_code = 503
    code = "upstream_unavailable"

    def __init__(self, detail: str, *, retry_after: float | None = None) -> None:
        super().__init__(detail, headers={"Retry-After": str(int(retry_after))} if retry_after else None)
        self.retry_after = retry_after


class Gone(JourneyError):
    """A customer's share link that was revoked or has expired."""

    status_code = 410
    code = "link_gone"


class LinkRateLimited(JourneyError):
    """Too many requests through one share link: `Retry-After` says when to try again."""

    status_code = 429
    code = "rate_limited"

    def __init__(self, detail: str, *, retry_after: int) -> None:
        super().__init__(detail, headers={"Retry-After": str(retry_after)})
