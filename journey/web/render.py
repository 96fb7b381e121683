"""Render a page: the pages' Jinja2 environment (journey/rendering.py: autoescaped), the viewer's time zone,
security headers."""
from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment

from journey import rendering
from journey.kit import utcnow
from journey.web.auth import Viewer

CSP = ("default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; form-action 'self'; "
       "frame-ancestors 'none'; base-uri 'none'; object-src 'none'")
NOTICES = {
    "task_done": "Task checked off.", "task_reopened": "Task reopened.", "task_started": "Task started.",
    "task_skipped": "Task skipped, with your reason.",
    "go_live_moved": "Go-live moved; open tasks and reviews follow.", "packet_accepted": "Packet accepted.",
    "packet_returned": "Packet sent back to the AE with your comment.", "packet_saved": "New packet version saved.",
    "health_overridden": "Band set by hand: it holds until the day shown, then the computed band is back.",
    "health_override_cleared": "Band set by hand removed: the computed band is back.",
    "review_saved": "Review updated.", "reminder_done": "Reminder marked done.",
    "reminder_dismissed": "Reminder dismissed.", "replayed": "Event queued for replay.",
    "link_sent": "If that address belongs to a team member, a sign-in link is on its way. It works once, "
                 "for 15 minutes.", "signed_out": "You are signed out.",
    "sign_in_enabled": "Sign-in allowed.", "opportunity_saved": "Opportunity saved.",
    "sign_in_disabled": "Sign-in turned off: their sessions and API tokens no longer work.",
}


def environment() -> Environment:
    return rendering.environment("pages")


class Clock:
    """Dates and times as the viewer reads them: in their time zone, relative to their today."""

    def __init__(self, tz: ZoneInfo) -> None:
        self.tz = tz
        self.now = utcnow().astimezone(tz)
        self.today = self.now.date()

    def dt(self, value: datetime | None) -> str:
        if value is None:
            return "—"
        local = (value if value.tzinfo else value.replace(tzinfo=UTC)).astimezone(self.tz)
        fmt = "%a %d %b, %H:%M" if local.year == self.today.year else "%a %d %b %Y, %H:%M"
        return f"{local.strftime(fmt)} {local.tzname()}"

    def day(self, value: date | datetime | None) -> str:
        if value is None:
            return "—"
        if isinstance(value, datetime):
            value = value.astimezone(self.tz).date()
        return value.strftime("%d %b" if value.year == self.today.year else "%d %b %Y").lstrip("0")

    def iso(self, value: date | datetime | None) -> str:
        if isinstance(value, datetime):
            return value.astimezone(self.tz).isoformat(timespec="minutes")
        return value.isoformat() if value else ""

    def rel(self, value: date | datetime | None) -> str:
        """"today", "in 3 days", "2 days ago"."""
        if value is None:
            return ""
        if isinstance(value, datetime):
            value = value.astimezone(self.tz).date()
        days = (value - self.today).days
        if days == 0:
            return "today"
        if days == 1:
            return "tomorrow"
        if days == -1:
            return "yesterday"
        return f"in {days} days" if days > 0 else f"{-days} days ago"


def page(request: Request, template: str, viewer: Viewer | None, *, status: int = 200,
         headers: dict[str, str] | None = None, **context: Any) -> HTMLResponse:
    clock = Clock(viewer.tz if viewer else ZoneInfo("UTC"))
    notice = NOTICES.get(request.query_params.get("notice", ""))
    html = environment().get_template(template).render(
        request=request, viewer=viewer, me=viewer.member if viewer else None, csrf=viewer.csrf if viewer else "",
        clock=clock, today=clock.today, notice=notice, path=request.url.path, **context)
    response = HTMLResponse(html, status_code=status, headers=headers)
    secure_headers(response)
    return response


def secure_headers(response: HTMLResponse) -> None:
    response.headers["Content-Security-Policy"] = CSP
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "same-origin"
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Cache-Control"] = "no-store"
